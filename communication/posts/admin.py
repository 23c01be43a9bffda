"""Posts in the admin: only the school's post settings, on the school's page.

Posts themselves have no admin pages: staff write and manage them in the staff pages of the
portal, where the access rules and the school's agreements apply.
"""

from klimop.admin import SchoolSettingsInline, register_school_settings

from .models import PostSettings


@register_school_settings
class PostSettingsInline(SchoolSettingsInline):
    model = PostSettings
    fields = ["parents_may_thank"]

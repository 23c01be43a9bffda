"""Chats in the admin: only the school's chat settings, on the school's page.

Conversations and messages have no admin pages: staff read and answer them in the portal,
where the access rules and the school's agreements apply.
"""

from klimop.admin import SchoolSettingsInline, register_school_settings

from .models import ChatSettings


@register_school_settings
class ChatSettingsInline(SchoolSettingsInline):
    model = ChatSettings
    fields = ["parents_may_start_chats", "parent_to_parent_chats", "acknowledgement_stops"]

"""The admin site for school managers (director, office) and administrators.

Directors and the office are staff members, not Django ``is_staff`` users with
permission rows: who may enter the admin is an access rule (``access.is_school_manager``),
and each ``ModelAdmin`` scopes what they see to their own school (``klimop.admin``).

Installed as the default site through ``klimop.apps.KlimopAdminConfig`` (Django's
documented way to override ``admin.site``). It lives in its own module because
``klimop.admin`` registers models on ``admin.site``, which imports this class.
"""

from __future__ import annotations

from allauth.account.utils import get_next_redirect_url
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import resolve_url
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.text import capfirst
from django.utils.translation import gettext
from import_export.forms import SelectableFieldsExportForm

from . import access


class KlimopAdminSite(admin.AdminSite):
    def get_urls(self):
        from django.urls import path

        from .admin_import import directory_import_view

        # The whole directory in one go (four files), before the site's catch-all pattern.
        return [
            path("import/", self.admin_view(directory_import_view), name="directory_import"),
            *super().get_urls(),
        ]

    def has_permission(self, request) -> bool:
        user = request.user
        return bool(user.is_active and (user.is_superuser or access.is_school_manager(user)))

    def login(self, request, extra_context=None):
        """Log in through allauth, so its rate limits and two-factor step apply here too.

        A signed-in user without admin access gets 403, not the login form: sending
        them to allauth's login would bounce straight back here.
        """
        if request.user.is_authenticated:
            if not self.has_permission(request):
                raise PermissionDenied
            return super().login(request, extra_context)
        next_url = get_next_redirect_url(request) or resolve_url("admin:index")
        login_url = resolve_url(settings.LOGIN_URL)
        return HttpResponseRedirect(f"{login_url}?{urlencode({REDIRECT_FIELD_NAME: next_url})}")


def boolean_icon(value: bool | None) -> SafeString:
    """Django's yes/no/unknown icon in the admin, with its alt text in the reader's language
    ("Ja", "Nee", "Onbekend") instead of Python's True/False/None."""
    name, alt = {True: ("yes", "Yes"), False: ("no", "No"), None: ("unknown", "Unknown")}[value]
    return format_html('<img src="{}" alt="{}">', static(f"admin/img/icon-{name}.svg"), gettext(alt))


class ExportForm(SelectableFieldsExportForm):
    """django-import-export's export form with each column's label in the reader's language
    (the model field's verbose name, "Voornaam") instead of the title-cased attribute name
    ("First Name"); the file's column headers stay as they are, for a re-import."""

    def _get_field_label(self, resource, field_name: str) -> str:
        field = resource.fields.get(field_name)
        model = resource._meta.model
        try:
            for part in (field.attribute if field else field_name).split("__"):
                model_field = model._meta.get_field(part)
                model = model_field.related_model or model
        except (FieldDoesNotExist, AttributeError):
            return super()._get_field_label(resource, field_name)
        return capfirst(str(model_field.verbose_name))

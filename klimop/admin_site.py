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
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils.http import urlencode

from . import access


class KlimopAdminSite(admin.AdminSite):
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

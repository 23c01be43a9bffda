"""Per-user language, and two-factor authentication required for staff where configured."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation

from . import access


class UserLanguageMiddleware:
    """Dutch by default; a visitor's cookie choice or a logged-in user's own choice wins.

    Runs after AuthenticationMiddleware. The browser's Accept-Language is ignored on
    purpose: the school's language is Dutch, English is a choice the user makes.
    The user's choice is stored on the user, so it follows them to every device.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        supported = dict(settings.LANGUAGES)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language in supported:
            language = user.language
        else:
            language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, settings.LANGUAGE_CODE)
            if language not in supported:
                language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        return self.get_response(request)


ACTIVE_SCHOOL_SESSION_KEY = "klimop_active_school"


class ActiveSchoolMiddleware:
    """Tells the access rules in which school a person on two schools' staff works now.

    The choice (``school_switch``) is kept in the session; ``access.staff_member_of``
    only ever picks one of the user's own staff records, so a forged value does nothing.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        school_id = request.session.get(ACTIVE_SCHOOL_SESSION_KEY) if hasattr(request, "session") else None
        if school_id is not None and user is not None and user.is_authenticated:
            user.klimop_active_school_id = school_id
        return self.get_response(request)


class StaffTwoFactorMiddleware:
    """With KLIMOP_STAFF_REQUIRE_2FA, staff without TOTP may only reach the 2FA set-up pages."""

    ALLOWED_PREFIXES = ("/accounts/", "/static/", "/healthz", "/i18n/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            settings.KLIMOP_STAFF_REQUIRE_2FA
            and user is not None
            and user.is_authenticated
            and access.is_staff_user(user)
            and not request.path.startswith(self.ALLOWED_PREFIXES)
            and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
        ):
            return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)

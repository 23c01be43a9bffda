"""Per-user language, two-factor authentication for staff where configured, and a 503 page
that needs no database when the database fails."""

from __future__ import annotations

import logging
import sys

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.middleware.csrf import get_token
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from . import access

logger = logging.getLogger(__name__)


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


#: What a database that is down, restarting or unreachable raises through Django (psycopg's
#: connection errors arrive wrapped as these): the person is asked to try again.
DATABASE_DOWN_ERRORS = (OperationalError, InterfaceError)
#: POST fields never written back into the page: secrets and the old CSRF token.
_SECRET_FIELDS = ("password", "csrfmiddlewaretoken", "token", "code", "key")
#: Seconds a browser or proxy is asked to wait before trying again.
RETRY_AFTER_SECONDS = 15
#: Fields whose typed text the 503 page shows (besides any longer text), so nothing is lost.
_TYPED_FIELDS = {"title", "body", "note", "reason", "text", "message", "description"}


def _database_down(exc: BaseException | None) -> bool:
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, DATABASE_DOWN_ERRORS):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


@receiver(got_request_exception, dispatch_uid="klimop.middleware.database_unavailable")
def _remember_database_down(sender, request=None, **kwargs) -> None:
    """Django turns every uncaught error into a 500 answer before an outer middleware sees it;
    this marks the request whose error was the database, for ``DatabaseUnavailableMiddleware``."""
    if request is not None and _database_down(sys.exc_info()[1]):
        request.klimop_database_down = True


def _language_without_database(request) -> str:
    """The language of the person, from what is already in memory: never a query."""
    supported = dict(settings.LANGUAGES)
    user = getattr(request, "_cached_user", None)  # loaded before the database went away
    language = getattr(user, "language", None) if user is not None and user.is_authenticated else None
    if language not in supported:
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, settings.LANGUAGE_CODE)
    return language if language in supported else settings.LANGUAGE_CODE


def _resendable_fields(request) -> list[tuple[str, str]]:
    """The typed fields of a plain form POST, to send again from the 503 page; no secrets."""
    if request.method != "POST" or request.content_type not in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        return []
    try:
        post = request.POST
    except (OSError, SuspiciousOperation, MultiPartParserError):  # unreadable: nothing to offer
        return []
    return [
        (name, value)
        for name, values in post.lists()
        if not any(secret in name.lower() for secret in _SECRET_FIELDS)
        for value in values
    ]


def database_unavailable_response(request) -> HttpResponse:
    """A 503 "try again" page that needs no database: no context processors, no session."""
    fields = _resendable_fields(request)
    with translation.override(_language_without_database(request)):
        html = render_to_string(
            "503.html",
            {
                "is_post": request.method == "POST",
                "is_htmx": request.headers.get("HX-Request") == "true",
                "fields": fields,
                "visible": [
                    v for n, v in fields if v.strip() and (n in _TYPED_FIELDS or "\n" in v or len(v) > 40)
                ],
                "had_files": bool(request.method == "POST" and request.FILES),
                "action": request.path,
                "csrf_token": get_token(request),
                "language": translation.get_language(),
            },
        )
    response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """When the database fails during a request, a translated 503 "try again" page, at once.

    Sits right below the Content-Security-Policy middleware, so its answer still carries the
    policy, and above everything that reads the session or the user. The page is rendered
    without the database (``templates/503.html`` extends nothing, no context processors); the
    session is not saved (Django saves it only for answers below 500). For a form POST it
    says nothing was saved and offers the typed fields to send again; the browser's drafts
    (static/js/drafts.js) keep the text on the form as well.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, "klimop_database_down", False):
            logger.warning("Database unavailable during %s %s: answered 503", request.method, request.path)
            return database_unavailable_response(request)
        return response

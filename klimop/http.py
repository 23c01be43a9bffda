"""Request types for the type checker (no behaviour)."""

from __future__ import annotations

from django.http import HttpRequest

from .models import User


class AuthenticatedHttpRequest(HttpRequest):
    """The request of a view behind ``login_required``: its user is a signed-in :class:`User`.

    Only an annotation (django-stubs' recommended pattern); Django still passes an
    ``HttpRequest``, and ``login_required`` is what makes the narrower type true.
    """

    user: User

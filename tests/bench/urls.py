"""The bench's URLconf (``klimop.settings.bench``): Klimop's own, plus two baseline views.

The production URLconf does not carry them: they exist only in the gunicorn the bench starts.
``ok`` answers without a session; ``auth`` only loads the session's user. Every other page is
compared with them, in the same gunicorn and the same run.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def baseline_anonymous(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@login_required
def baseline_authenticated(request: HttpRequest) -> HttpResponse:
    return HttpResponse(str(request.user.pk), content_type="text/plain")


urlpatterns = [
    path("__bench__/ok", baseline_anonymous),
    path("__bench__/auth", baseline_authenticated),
    path("", include("klimop.urls")),
]

"""URLs of notifications: the list, push on and off, and the service worker."""

from .views import urlpatterns as _urlpatterns

app_name = "notifications"

urlpatterns: list = [*_urlpatterns]

"""URLs of the communication capability; each feature module exposes ``urlpatterns``."""

from .views import agenda as agenda_views
from .views import chats as chat_views
from .views import posts as posts_views

app_name = "communication"

urlpatterns: list = [
    *posts_views.urlpatterns,
    *agenda_views.urlpatterns,
    *chat_views.urlpatterns,
]

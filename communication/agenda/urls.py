"""URLs of agenda."""

from django.urls import path

from . import views

app_name = "agenda"

urlpatterns = [
    path("agenda/", views.agenda_list, name="agenda"),
    path("agenda/maand/<int:year>/<int:month>/", views.agenda_month, name="agenda_month"),
    path("agenda/nieuw/", views.event_create, name="event_create"),
    path("agenda/<int:pk>/", views.event_detail, name="event_detail"),
    path("agenda/<int:pk>/wijzigen/", views.event_edit, name="event_edit"),
    path("agenda/<int:pk>/verwijderen/", views.event_delete, name="event_delete"),
    path("agenda/abonneren/", views.feed_settings, name="agenda_feed_settings"),
    path("agenda/abonneren/wijzigen/", views.feed_settings_change, name="agenda_feed_settings_change"),
    path("agenda/feed/<slug:token>.ics", views.agenda_feed, name="agenda_feed"),
]

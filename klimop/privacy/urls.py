"""URLs of privacy (under /privacy/)."""

from django.urls import path

from . import views

app_name = "privacy"

urlpatterns = [
    path("", views.privacy_home, name="privacy_home"),
    path("kind/<int:pk>/", views.privacy_child_update, name="privacy_child_update"),
    path("intrekken/", views.privacy_withdraw_all, name="privacy_withdraw_all"),
    path("groep/<int:pk>/", views.privacy_group, name="privacy_group"),
    path("overzicht/", views.privacy_overview, name="privacy_overview"),
    path("mijn-gegevens.json", views.privacy_my_data, name="privacy_my_data"),
]

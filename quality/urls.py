"""URLs of the quality card; included from ``klimop/urls.py`` with ``path("", include(...))``."""

from django.urls import path

from . import views

app_name = "quality"

urlpatterns = [
    path("kwaliteit/", views.quality_card, name="card"),
    path("kwaliteit/peiling/<int:pk>/", views.survey_results, name="survey_results"),
    path("peiling/<int:pk>/", views.survey_answer, name="survey_answer"),
]

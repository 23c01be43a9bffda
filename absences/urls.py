"""URLs of absences and leave (Dutch paths, like the rest of the portal)."""

from django.urls import path

from . import views
from .models import AbsenceReport

app_name = "absences"

urlpatterns = [
    path("afwezigheid/", views.overview, name="overview"),
    path("afwezigheid/ziekmelden/", views.report, {"kind": AbsenceReport.Kind.SICK}, name="report_sick"),
    path("afwezigheid/melden/", views.report, name="report"),
    path("afwezigheid/<int:pk>/beter/", views.recover, name="recover"),
    path("afwezigheid/<int:pk>/intrekken/", views.cancel, name="cancel"),
    path("afwezigheid/vandaag/", views.today, name="today"),
    path("afwezigheid/vandaag/afdrukken/", views.today_print, name="today_print"),
    path("afwezigheid/registreren/", views.staff_report, name="staff_report"),
    path("afwezigheid/opvolging/<int:pk>/", views.follow_up_done, name="follow_up_done"),
    path("afwezigheid/register/", views.register, name="register"),
    path("afwezigheid/leerling/<int:pk>/", views.pupil_register, name="pupil_register"),
    path("verlof/", views.leave_list, name="leave_list"),
    path("verlof/aanvragen/", views.leave_create, name="leave_create"),
    path("verlof/controle/", views.leave_check, name="leave_check"),
    path("verlof/<int:pk>/", views.leave_detail, name="leave_detail"),
    path("verlof/<int:pk>/intrekken/", views.leave_withdraw, name="leave_withdraw"),
    path("verlof/<int:pk>/besluit/", views.leave_decision_print, name="leave_print"),
    path("verlof/<int:pk>/verklaring/", views.leave_statement, name="leave_statement"),
]

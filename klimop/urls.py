from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from . import views

admin.site.site_header = _("Klimop administration")
admin.site.site_title = _("Klimop")
admin.site.index_title = _("School administration")

urlpatterns = [
    path("", include("dashboard.urls")),
    path("pupils/<int:pk>/", views.pupil_detail, name="pupil_detail"),
    path("me/contact/", views.contact_details, name="contact_details"),
    path("me/name/", views.my_name, name="my_name"),
    path("me/contact/confirm/<str:token>/", views.contact_email_confirm, name="contact_email_confirm"),
    path("language/", views.set_language, name="set_language"),
    path("school/", views.school_switch, name="school_switch"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("healthz", views.healthz, name="healthz"),
    path("healthz/ready", views.healthz_ready, name="healthz_ready"),
    path("", include("klimop.notifications.urls")),
    path("", include("communication.posts.urls")),
    path("", include("communication.agenda.urls")),
    path("", include("communication.chats.urls")),
    path("", include("absences.urls")),
    path("", include("conversations.urls")),
    path("", include("quality.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]
urlpatterns += [path("privacy/", include("klimop.privacy.urls"))]

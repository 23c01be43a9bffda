"""URLs of the conversation planner (/oudergesprekken/; /gesprekken/ are the chats).

Included by klimop/urls.py with ``path("", include("conversations.urls"))``.
"""

from django.urls import path

from . import views

app_name = "conversations"

urlpatterns = [
    path("oudergesprekken/", views.home, name="index"),
    path("oudergesprekken/<int:pk>/", views.round_detail, name="round"),
    path("oudergesprekken/afspraak/<int:pk>/", views.booking_detail, name="booking_detail"),
    path("oudergesprekken/afspraak/<int:pk>/oudergesprek.ics", views.booking_ics, name="booking_ics"),
    path("oudergesprekken/afspraak/<int:pk>/verzetten/", views.booking_move, name="booking_move"),
    path("oudergesprekken/afspraak/<int:pk>/annuleren/", views.booking_cancel, name="booking_cancel"),
    path("oudergesprekken/rondes/", views.staff_rounds, name="staff_rounds"),
    path("oudergesprekken/rondes/<int:pk>/", views.staff_round, name="staff_round"),
    path(
        "oudergesprekken/rondes/<int:pk>/tijden/<int:availability_pk>/verwijderen/",
        views.availability_delete,
        name="availability_delete",
    ),
    path("oudergesprekken/rondes/<int:pk>/namens-ouders/", views.staff_book, name="staff_book"),
    path(
        "oudergesprekken/rondes/<int:pk>/apart/<int:pupil_pk>/", views.separate_toggle, name="separate_toggle"
    ),
    path("oudergesprekken/rondes/<int:pk>/dag/<str:day>/", views.day_print, name="day"),
    path("oudergesprekken/rondes/<int:pk>/voorstel/", views.proposals, name="proposals"),
]

"""URLs of chats."""

from django.urls import path

from . import views

app_name = "chats"

urlpatterns = [
    path("gesprekken/export/", views.export, name="chat_export"),
    path("gesprekken/ongelezen.json", views.unread_counts, name="unread_counts"),
    path("gesprekken/", views.inbox, name="chat_inbox"),
    path("gesprekken/nieuw/", views.conversation_start, name="chat_start"),
    path("gesprekken/nieuw/groep/", views.conversation_start_group, name="chat_start_group"),
    path("gesprekken/nieuw/ouder/", views.conversation_start_parent, name="chat_start_parent"),
    path("gesprekken/<int:pk>/", views.conversation_detail, name="chat_detail"),
    path("gesprekken/<int:pk>/nieuwe-berichten/", views.conversation_poll, name="chat_poll"),
    path("gesprekken/<int:pk>/verlaten/", views.conversation_leave, name="chat_leave"),
    path("gesprekken/bericht/<int:pk>/gelezen/", views.message_acknowledge, name="chat_acknowledge"),
    path("gesprekken/bericht/<int:pk>/verwijderen/", views.message_remove, name="chat_remove"),
    path("gesprekken/bericht/<int:pk>/bijlage/", views.attachment, name="chat_attachment"),
]

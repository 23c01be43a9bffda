"""URLs of posts."""

from django.urls import path

from . import views

app_name = "posts"

urlpatterns = [
    path("berichten/", views.timeline, name="timeline"),
    path("berichten/<int:pk>/", views.post_detail, name="post_detail"),
    path("berichten/nieuw/", views.post_create, name="post_create"),
    path("berichten/mijn/", views.my_posts, name="my_posts"),
    path("berichten/publicatietijd/", views.publication_preview, name="post_publication_preview"),
    path("berichten/<int:pk>/bewerken/", views.post_edit, name="post_edit"),
    path("berichten/<int:pk>/verwijderen/", views.post_delete, name="post_delete"),
    path("berichten/foto/<int:pk>/", views.photo, name="post_photo"),
    path("berichten/foto/<int:pk>/klein/", views.photo, {"size": "thumb"}, name="post_photo_thumb"),
    path("berichten/bijlage/<int:pk>/", views.attachment, name="post_attachment"),
    path("berichten/<int:pk>/bedankt/", views.post_thank, name="post_thank"),
    path("berichten/gekozen-foto/<int:pk>/", views.pending_photo, name="pending_photo"),
]

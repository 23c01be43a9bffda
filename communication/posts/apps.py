from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PostsConfig(AppConfig):
    name = "communication.posts"
    label = "posts"
    verbose_name = _("Posts")

    def ready(self) -> None:
        # Register this app's Celery tasks when Django starts: services enqueue them by
        # name (klimop.queue.enqueue_on_commit) and never import a tasks module.
        from . import tasks  # noqa: F401

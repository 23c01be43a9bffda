from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "klimop.notifications"
    label = "notifications"
    verbose_name = _("Notifications")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Register the tasks with Celery when Django starts, so services can enqueue
        # them by name (klimop.queue) without importing this module themselves.
        from . import tasks  # noqa: F401

        # Each app registers its notification messages in its own module (the core imports
        # no feature: the modules are found by name, like the admin's).
        autodiscover_modules("notification_messages")

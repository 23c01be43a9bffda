from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class KlimopConfig(AppConfig):
    name = "klimop"
    verbose_name = _("School directory")
    default = True

    def ready(self) -> None:
        # Register this app's Celery tasks when Django starts: services enqueue them by
        # name (klimop.queue.enqueue_on_commit) and never import a tasks module.
        from . import tasks  # noqa: F401


class KlimopAdminConfig(admin_apps.AdminConfig):
    """``django.contrib.admin`` with Klimop's site, which school managers may enter.

    See klimop.admin_site.
    """

    default = False
    default_site = "klimop.admin_site.KlimopAdminSite"

    def ready(self) -> None:
        super().ready()
        from django.contrib.admin.templatetags import admin_list

        from .admin_site import boolean_icon

        # Django writes alt="True"/"False"/"None" on its yes/no icons in every language; its
        # list, form and detail views all look the function up in this module when they run.
        admin_list._boolean_icon = boolean_icon  # type: ignore[attr-defined]  # not in the stubs

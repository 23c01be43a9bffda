from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class KlimopConfig(AppConfig):
    name = "klimop"
    verbose_name = _("School directory")
    default = True


class KlimopAdminConfig(admin_apps.AdminConfig):
    """``django.contrib.admin`` with Klimop's site, which school managers may enter.

    See klimop.admin_site.
    """

    default = False
    default_site = "klimop.admin_site.KlimopAdminSite"

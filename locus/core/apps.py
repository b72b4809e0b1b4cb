from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CoreConfig(AppConfig):
    name = "locus.core"
    label = "core"

    def ready(self):
        from django.db.models import fields
        from django.utils.translation import gettext_lazy as _

        from . import checks, signals  # noqa: F401

        # The empty choice of a select (Django 6.1's hook for it): Django has no German or
        # Swedish for it yet, so Locus's own catalogues carry it.
        fields.BLANK_CHOICE_LABEL = _("- Select an option -")


class LocusAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with Locus's site: Locus's sign-in and a second factor."""

    default = False  # locus.core's default app is CoreConfig; settings name this one
    default_site = "locus.core.admin_site.LocusAdminSite"

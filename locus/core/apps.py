from allauth.account import apps as account_apps
from allauth.mfa import apps as mfa_apps
from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from django_tasks_db import apps as tasks_apps


class CoreConfig(AppConfig):
    name = "locus.core"
    label = "core"
    verbose_name = _("Audit and jobs")

    def ready(self):
        from django.db.models import fields

        from . import checks, signals  # noqa: F401

        # The empty choice of a select (Django 6.1's hook for it): Django has no German or
        # Swedish for it yet, so Locus's own catalogues carry it.
        fields.BLANK_CHOICE_LABEL = _("- Select an option -")


class LocusAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with Locus's site: Locus's sign-in and a second factor."""

    default = False  # locus.core's default app is CoreConfig; settings name this one
    default_site = "locus.core.admin_site.LocusAdminSite"


# Modules, not classes, are imported above: Django takes the one AppConfig class of this module
# not marked `default = False` as locus.core's.
#
# Third-party apps under names that say what their section of the platform administration holds,
# in the reader's language: allauth's "Accounts" (its sign-in e-mail addresses) stood beside
# Locus's own accounts app as a second "Accounts" section (in French "Accounts" and "Comptes"),
# "MFA" was an abbreviation, and django-tasks-db's name is English only.


class SignInConfig(account_apps.AccountConfig):
    default = False
    verbose_name = _("Sign-in e-mail addresses")


class TwoFactorConfig(mfa_apps.MFAConfig):
    default = False
    verbose_name = _("Two-factor authentication")

    def ready(self):
        super().ready()
        from allauth.mfa.models import Authenticator

        # allauth names its model in no language: Django derived "authenticator" from the class,
        # English on the admin's breadcrumbs, counts and buttons in every language. Migrations
        # read the Meta as declared (`original_attrs`), so naming it here changes none.
        Authenticator._meta.verbose_name = _("authenticator")
        Authenticator._meta.verbose_name_plural = _("authenticators")


class BackgroundTasksConfig(tasks_apps.TasksAppConfig):
    default = False
    verbose_name = _("Background tasks")


# django-tasks-db's model names, for makemessages: it has no catalog of its own.
TASK_RESULT_NAMES = [gettext_noop("Task Result"), gettext_noop("Task Results")]

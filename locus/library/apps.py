from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LibraryConfig(AppConfig):
    name = "locus.library"
    label = "library"
    verbose_name = _("Library")

    def ready(self):
        from .search import generation  # noqa: F401 - connects the delete signal

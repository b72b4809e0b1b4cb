from django.apps import AppConfig


class LibraryConfig(AppConfig):
    name = "locus.library"
    label = "library"

    def ready(self):
        from .search import generation  # noqa: F401 - connects the delete signal

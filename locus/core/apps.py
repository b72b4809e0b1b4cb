from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "locus.core"
    label = "core"

    def ready(self):
        from . import signals  # noqa: F401

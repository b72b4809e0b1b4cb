from django.apps import AppConfig


class LibraryConfig(AppConfig):
    name = "locus.library"
    label = "library"

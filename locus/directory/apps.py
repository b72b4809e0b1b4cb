from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "locus.directory"
    label = "directory"

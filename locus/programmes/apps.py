from django.apps import AppConfig


class ProgrammesConfig(AppConfig):
    name = "locus.programmes"
    label = "programmes"

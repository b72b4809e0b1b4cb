from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "locus.cases"
    label = "cases"

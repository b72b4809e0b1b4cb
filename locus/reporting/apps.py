from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "locus.reporting"
    label = "reporting"

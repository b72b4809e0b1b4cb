from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "locus.alerts"
    label = "alerts"

from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "locus.insights"
    label = "insights"

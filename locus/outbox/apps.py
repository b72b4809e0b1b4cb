from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "locus.outbox"
    label = "outbox"

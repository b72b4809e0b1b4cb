"""System checks for deployments (`manage.py check --deploy`)."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def base_url_is_set(app_configs, **kwargs):
    """The task worker sends e-mails without a request to take the address from: "a report
    reached your organisation", messages to reporters, invitations and reminders sent by
    commands. Without LOCUS_BASE_URL their links have no host and lead nowhere."""
    if getattr(settings, "LOCUS_BASE_URL", ""):
        return []
    return [
        Warning(
            "LOCUS_BASE_URL is not set: links in e-mails sent by the task worker and by "
            "commands have no host.",
            hint="Set LOCUS_BASE_URL to the public address, e.g. https://locus.example.org",
            id="locus.W001",
        )
    ]

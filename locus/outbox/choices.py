from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class MessageKind(models.TextChoices):
    WEBHOOK = "webhook", _("Webhook")
    EMAIL = "email", _("E-mail")


class MessageStatus(models.TextChoices):
    # Waiting for its first attempt or for a retry at `next_attempt_at`.
    PENDING = "pending", pgettext_lazy("outbox message status", "Pending")
    # Claimed by a worker; `next_attempt_at` is then the end of the claim (a lease).
    DELIVERING = "delivering", pgettext_lazy("outbox message status", "Delivering")
    DELIVERED = "delivered", pgettext_lazy("outbox message status", "Delivered")
    # Stopped before the retries ran out because retrying cannot help (e.g. the endpoint was
    # switched off). An operator can retry it.
    FAILED = "failed", pgettext_lazy("outbox message status", "Failed")
    # Every attempt of the retry schedule failed. Kept for ever; an operator can retry it.
    DEAD = "dead", pgettext_lazy("outbox message status", "Dead")

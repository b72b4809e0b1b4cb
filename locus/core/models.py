from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import AuditAction, JobStatus
from .tenancy import TenantModel


class AuditEvent(models.Model):
    """Who did what, when. Global: logins happen outside any place. Holds no personal data
    beyond the actor's account; targets are referenced by type and id."""

    at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("when"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("who"),
    )
    place = models.ForeignKey(
        "places.Place",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("place"),
    )
    action = models.CharField(max_length=40, choices=AuditAction.choices, verbose_name=_("action"))
    target_type = models.CharField(max_length=60, blank=True, verbose_name=_("object type"))
    target_id = models.CharField(max_length=64, blank=True, verbose_name=_("object ID"))
    data = models.JSONField(default=dict, blank=True, verbose_name=_("details"))

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["place", "-at"])]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"


class Job(TenantModel):
    """Long work run by the task worker that a person can watch: progress, log, result."""

    kind = models.CharField(max_length=60, verbose_name=_("kind of job"))
    title = models.CharField(max_length=200, verbose_name=_("title"))
    status = models.CharField(
        max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED, verbose_name=_("status")
    )
    progress = models.PositiveSmallIntegerField(default=0, verbose_name=_("progress (%)"))
    log = models.JSONField(default=list, blank=True, verbose_name=_("log"))
    params = models.JSONField(default=dict, blank=True, verbose_name=_("parameters"))
    payload = models.TextField(
        blank=True, help_text=_("Input data (e.g. an uploaded file)."), verbose_name=_("payload")
    )
    result = models.JSONField(default=dict, blank=True, verbose_name=_("result"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("started by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    # Its last sign of life (created, started, a log line, progress, finished): a running job
    # silent for JOB_SILENCE lost its worker and is failed by the sweep (`jobs_fail_abandoned`).
    updated_at = models.DateTimeField(default=timezone.now, verbose_name=_("updated at"))
    # The language of the person who started it: the worker writes the log in it.
    language = models.CharField(max_length=15, blank=True, verbose_name=_("language"))

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="job_progress_le_100"
            )
        ]

    def __str__(self):
        return self.title

    @property
    def is_finished(self):
        return self.status in {JobStatus.SUCCEEDED, JobStatus.FAILED}


class Heartbeat(models.Model):
    """When a process that runs outside the task queue last ran, for the health check: the sweep
    (`manage.py deliver_outbox`, from cron or a sidecar) stamps `outbox.sweep`. Global: one
    sweep serves every place."""

    name = models.CharField(max_length=60, primary_key=True, verbose_name=_("name"))
    at = models.DateTimeField(verbose_name=_("last run"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self):
        return f"{self.name} {self.at:%Y-%m-%d %H:%M:%S}"


class RateCount(models.Model):
    """How many requests one client made in one window of one rate limit (locus.core.ratelimit).
    Global: the client is a keyed hash of an address (or a reference's, a token's), not a place's
    record. A window's count is read while it and the next window last; the sweep deletes it
    after `expires_at`."""

    bucket = models.CharField(max_length=200, primary_key=True)  # scope:client:window
    count = models.PositiveIntegerField()
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.bucket} {self.count}"


def _idempotency_expiry():
    from .idempotency import DEFAULT_TTL

    return timezone.now() + DEFAULT_TTL


class IdempotencyKey(TenantModel):
    """One claimed `Idempotency-Key` of a submission; see `locus/core/idempotency.py`.

    `response_body` is replayed verbatim to every retry with the same key. Callers store only
    what the first response already showed — the result's reference and receipt ids — never the
    submitted content or any other personal data. `request_hash` is a SHA-256 of the canonical
    payload, not the payload itself.
    """

    class Status(models.TextChoices):
        IN_FLIGHT = "in_flight", _("In flight")
        COMPLETED = "completed", _("Completed")

    scope = models.CharField(max_length=60)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.IN_FLIGHT)
    # The claimer's token and lease: only the holder of the current claim may complete it, and
    # a claim whose lease ran out (its process died) may be taken over by a retry.
    claim_token = models.CharField(max_length=32)
    lease_expires_at = models.DateTimeField()
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(default=_idempotency_expiry)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["place", "scope", "key"], name="idempotency_key_unique_per_scope"
            ),
            models.CheckConstraint(
                condition=models.Q(status="in_flight") | models.Q(response_status__isnull=False),
                name="idempotency_key_completed_has_status",
            ),
        ]
        indexes = [models.Index(fields=["place", "expires_at"], name="idempotency_key_expiry")]

    def __str__(self):
        return f"{self.scope} {self.key[:12]}… ({self.status})"

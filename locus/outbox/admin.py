"""Platform admin for the outbox: see every place's messages and their delivery log, retry dead
ones. Secrets are never shown here; endpoints are created through the service (which shows the
secret once), e.g. `manage.py webhook_endpoint`."""

from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from locus.core.admin import UnscopedAdmin
from locus.core.errors import ValidationFailed
from locus.core.tenancy import place_scope

from .choices import MessageStatus
from .models import OutboxMessage, WebhookEndpoint
from .selectors import delivery_attempt_list
from .services import outbox_retry


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(UnscopedAdmin):
    list_display = ["url", "organisation", "place", "is_active", "created_at"]
    list_filter = ["is_active", "place"]
    fields = [
        "place",
        "organisation",
        "url",
        "description",
        "event_types",
        "is_active",
        "created_at",
    ]
    readonly_fields = ["place", "organisation", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(UnscopedAdmin):
    list_display = [
        "message_id",
        "place",
        "kind",
        "event_type",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
    ]
    list_filter = ["status", "kind", "place"]
    search_fields = ["message_id", "source_id"]
    # The payload may carry case data meant for one organisation's system: not shown here.
    fields = [
        "message_id",
        "place",
        "kind",
        "endpoint",
        "email_to",
        "event_type",
        "source_type",
        "source_id",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
        "delivered_at",
        "delivery_log",
    ]
    readonly_fields = fields
    actions = ["retry"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("endpoint")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # never deleted: the record of what was sent

    @admin.display(description=_("Delivery log"))
    def delivery_log(self, obj):
        with place_scope(obj.place):
            attempts = list(delivery_attempt_list(place=obj.place, message=obj))
        if not attempts:
            return "—"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (a.at.isoformat(timespec="seconds"), a.status_code or "—", a.duration_ms, a.error)
                for a in attempts
            ),
        )
        return format_html("<table>{}</table>", rows)

    @admin.action(description=_("Retry the selected dead or failed messages"))
    def retry(self, request, queryset):
        retried = 0
        for message in queryset.filter(status__in=[MessageStatus.DEAD, MessageStatus.FAILED]):
            with place_scope(message.place):
                try:
                    outbox_retry(place=message.place, message=message)
                except ValidationFailed as exc:
                    self.message_user(request, exc.message, messages.ERROR)
                    continue
            retried += 1
        self.message_user(
            request,
            ngettext(
                "%(n)d message will be sent again.", "%(n)d messages will be sent again.", retried
            )
            % {"n": retried},
        )

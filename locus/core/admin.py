"""Platform admin (Django admin): for platform operators, across places, hence `unscoped()`."""

from django.contrib import admin

from .models import AuditEvent, Heartbeat, Job


class UnscopedAdmin(admin.ModelAdmin):
    """Admin for a tenant-owned model: the platform admin sees every place's rows."""

    def get_queryset(self, request):
        return self.model.objects.unscoped().select_related("place")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "action", "actor", "place", "target_type", "target_id"]
    list_filter = ["action", "place"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Job)
class JobAdmin(UnscopedAdmin):
    list_display = ["title", "place", "status", "progress", "created_at"]
    list_filter = ["status", "kind"]
    readonly_fields = ["place", "log", "result", "params"]
    exclude = ["payload"]


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    """When the sweep last ran (docs/operations.md, "Health"): read only, stamped by it."""

    list_display = ["name", "at"]
    readonly_fields = ["name", "at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

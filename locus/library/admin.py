"""Platform admin for library records. Every save goes through the services, so versions,
facet rows and the search index follow (the moderation UI for editors comes later)."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from locus.core.errors import ValidationFailed

from . import services
from .choices import VersionSource
from .models import Record, RecordLink, RecordVersion
from .views import field_label


class RecordAdminForm(forms.ModelForm):
    class Meta:
        model = Record
        fields = services.FIELDS

    def clean(self):
        cleaned = super().clean()
        data = {
            name: cleaned.get(name, getattr(self.instance, name, None)) for name in services.FIELDS
        }
        try:
            services.clean_record_data(data)
        except ValidationFailed as exc:
            for name, messages in exc.fields.items():
                for message in messages:
                    self.add_error(name if name in self.fields else None, message)
        return cleaned


class VersionInline(admin.TabularInline):
    model = RecordVersion
    extra = 0
    can_delete = False
    fields = ["number", "created_at", "source", "actor", "changed", "comment"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("changed fields"))
    def changed(self, version):
        """The fields' names in the reader's language, not the stored attribute names."""
        return ", ".join(str(field_label(name)) for name in version.changed_fields)


class LinkInline(admin.TabularInline):
    model = RecordLink
    fk_name = "source"
    extra = 0
    can_delete = False
    fields = ["kind", "target"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Record)
class RecordAdmin(admin.ModelAdmin):
    form = RecordAdminForm
    list_display = ["title", "type", "year", "status", "evidence_level", "updated_at"]
    list_filter = ["status", "type", "evidence_level", "provenance"]
    search_fields = ["title", "publisher", "authors", "url"]
    raw_id_fields = ["organisation"]
    inlines = [LinkInline, VersionInline]

    def save_model(self, request, obj, form, change):
        if change:
            data = {
                name: getattr(obj, name) for name in services.FIELDS if name in form.changed_data
            }
            services.record_update(
                record=obj, data=data, actor=request.user, source=VersionSource.EDITOR
            )
        else:
            data = {name: getattr(obj, name) for name in services.FIELDS}
            created = services.record_create(data=data, actor=request.user)
            obj.pk = created.pk

    def save_related(self, request, form, formsets, change):
        """The inlines are read-only (links change through the services): nothing to save, but
        the admin's change message reads what the formsets would have saved."""
        for formset in formsets:
            formset.save(commit=False)

    def delete_model(self, request, obj):
        services.record_delete(record=obj)

    def delete_queryset(self, request, queryset):
        for record in queryset:
            services.record_delete(record=record)

from django.contrib import admin
from django.utils import timezone

from .models import Organisation, OrganisationListing


class ListingInline(admin.TabularInline):
    model = OrganisationListing
    extra = 0

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        """A listing added here is checked today, as one added on the directory pages is:
        otherwise a place's own team shows as stale on its first day."""
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "last_checked_on":
            field.initial = timezone.localdate
        return field


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "type"]
    list_filter = ["type"]
    search_fields = ["name"]
    inlines = [ListingInline]

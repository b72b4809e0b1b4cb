from django.contrib import admin

from .models import Organisation, OrganisationListing


class ListingInline(admin.TabularInline):
    model = OrganisationListing
    extra = 0


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "type"]
    list_filter = ["type"]
    search_fields = ["name"]
    inlines = [ListingInline]

from django.contrib import admin

from locus.core.admin import UnscopedAdmin

from .models import Area, Network, Place


@admin.register(Network)
class NetworkAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "country"]


@admin.register(Place)
class PlaceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "country", "network", "default_language", "is_active"]
    list_filter = ["network", "is_active"]


@admin.register(Area)
class AreaAdmin(UnscopedAdmin):
    list_display = ["name", "code", "place", "population"]
    list_filter = ["place"]
    readonly_fields = ["place"]

from django import forms
from django.conf import settings
from django.contrib import admin

from locus.core.admin import UnscopedAdmin

from .forms import timezone_choices
from .models import Area, Network, Place


@admin.register(Network)
class NetworkAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "country"]


class PlaceAdminForm(forms.ModelForm):
    """The language and the time zone chosen from lists, as on the place's settings page (the
    admin builds the form's Meta)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["default_language"].widget = forms.Select(choices=settings.LANGUAGES)
        self.fields["timezone"].widget = forms.Select(choices=timezone_choices())


@admin.register(Place)
class PlaceAdmin(admin.ModelAdmin):
    form = PlaceAdminForm
    list_display = ["name", "slug", "country", "network", "default_language", "is_active"]
    list_filter = ["network", "is_active"]


@admin.register(Area)
class AreaAdmin(UnscopedAdmin):
    list_display = ["name", "code", "place", "population"]
    list_filter = ["place"]
    readonly_fields = ["place"]

from django import forms
from django.conf import settings
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from locus.core.admin import UnscopedAdmin

from .forms import timezone_choices
from .models import Area, Network, Place


def _name_field(label):
    return forms.CharField(
        label=label,
        max_length=120,
        required=False,
        help_text=_("Leave empty to show the English name."),
    )


class NetworkAdminForm(forms.ModelForm):
    """The name in each of Locus's other languages (settings.LANGUAGES) as its own field,
    stored in `names`, so a network is not shown in English to a French, German or Swedish
    reader."""

    OTHER_LANGUAGES = ("fr", "de", "sv")
    name_fr = _name_field(_("name in French"))
    name_de = _name_field(_("name in German"))
    name_sv = _name_field(_("name in Swedish"))

    class Meta:
        model = Network
        fields = ["name", "slug", "country"]
        labels = {"name": _("name in English")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        names = self.instance.names or {}
        for code in self.OTHER_LANGUAGES:
            self.fields[f"name_{code}"].initial = names.get(code, "")

    def save(self, commit=True):
        self.instance.names = {
            code: value
            for code in self.OTHER_LANGUAGES
            if (value := " ".join(self.cleaned_data.get(f"name_{code}", "").split()))
        }
        return super().save(commit)


@admin.register(Network)
class NetworkAdmin(admin.ModelAdmin):
    form = NetworkAdminForm
    list_display = ["name", "slug", "country"]
    fields = ["name", "name_fr", "name_de", "name_sv", "slug", "country"]


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

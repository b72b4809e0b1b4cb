from allauth.mfa.admin import AuthenticatorAdmin as AllauthAuthenticatorAdmin
from allauth.mfa.models import Authenticator
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _l

from . import selectors
from .models import ApiToken, Invitation, Membership, NetworkMembership, User
from .selectors import is_active_member
from .services import invitation_send


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "is_active", "is_staff", "is_demo"]
    search_fields = ["email", "name"]
    fieldsets = [
        (None, {"fields": ["email", "password", "name"]}),
        (_l("Permissions"), {"fields": ["is_active", "is_staff", "is_superuser"]}),
        (_l("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    filter_horizontal = []
    list_filter = ["is_active", "is_staff"]
    inlines = [MembershipInline]


class InvitationAddForm(forms.ModelForm):
    """The platform admin invites a person to an organisation, typically the first
    administrator of a new place's team, who then invites everyone else from Locus itself."""

    class Meta:
        model = Invitation
        fields = ["organisation", "email", "role"]

    def clean(self):
        data = super().clean()
        organisation, email = data.get("organisation"), data.get("email")
        if organisation and email and is_active_member(organisation=organisation, email=email):
            self.add_error(
                "email",
                _("This person is already a member of %(org)s.") % {"org": organisation},
            )
        return data


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Adding an invitation sends it (the e-mail, and its link shown once here in case the
    e-mail does not arrive). An invitation is never edited: delete it to withdraw it."""

    list_display = ["email", "organisation", "role", "created_at", "expires_at", "accepted_at"]
    list_filter = ["role"]
    search_fields = ["email", "organisation__name"]
    add_form = InvitationAddForm

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
            kwargs["fields"] = InvitationAddForm.Meta.fields
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return InvitationAddForm.Meta.fields
        return super().get_fields(request, obj)

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        invitation, link = invitation_send(
            organisation=obj.organisation,
            email=obj.email,
            role=obj.role,
            invited_by=request.user,
            language=_organisation_language(obj.organisation),
            accept_url_builder=lambda secret: request.build_absolute_uri(
                reverse("accounts:invitation_accept", args=[secret])
            ),
        )
        # The admin goes on with the instance its form built: make it the saved invitation.
        for field in Invitation._meta.concrete_fields:
            setattr(obj, field.attname, getattr(invitation, field.attname))
        obj._state.adding = False
        messages.info(
            request,
            format_html(
                "{} <code>{}</code>",
                _("If the e-mail does not arrive, send this link yourself:"),
                link,
            ),
        )


def _organisation_language(organisation):
    """The default language of a place the organisation works in (its own place first): the
    language its people read Locus in, not necessarily the platform admin's."""
    listing = selectors.organisation_home_listing(organisation=organisation)
    return listing.place.default_language if listing else None


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "membership", "key_prefix", "created_at", "expires_at", "revoked_at"]
    # The expiry is its owner's choice when making it; an administrator revokes, not extends.
    readonly_fields = ["key_prefix", "key_hash", "expires_at"]


admin.site.register(NetworkMembership)


def _titled(filter_class, title):
    """A list filter headed `title`: the admin heads a filter with its field's verbose_name,
    which allauth's model fields do not have (their attribute names showed, in English)."""

    class Titled(filter_class):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.title = title

    return Titled


admin.site.unregister(Authenticator)


@admin.register(Authenticator)
class AuthenticatorAdmin(AllauthAuthenticatorAdmin):
    """allauth's authenticators (a platform administrator removes one to reset a person's
    second factor), with the columns, filters and form in the reader's language."""

    list_display = ["account", "kind", "added_at", "used_at"]
    list_filter = [
        ("type", _titled(admin.ChoicesFieldListFilter, gettext_lazy("kind"))),
        ("created_at", _titled(admin.DateFieldListFilter, gettext_lazy("added at"))),
        ("last_used_at", _titled(admin.DateFieldListFilter, gettext_lazy("last used at"))),
    ]
    search_fields = ["user__email", "user__name"]
    labels = {
        "user": gettext_lazy("account"),
        "type": gettext_lazy("kind"),
        "data": gettext_lazy("data"),
        "created_at": gettext_lazy("added at"),
        "last_used_at": gettext_lazy("last used at"),
    }

    def get_form(self, request, obj=None, **kwargs):
        kwargs["labels"] = self.labels
        return super().get_form(request, obj, **kwargs)

    # The model's own name is English (allauth gives it none; changing it would need a migration
    # in allauth): the pages' titles name it here instead.
    def changelist_view(self, request, extra_context=None):
        extra_context = {"title": _("Authenticators"), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {"title": _("Authenticator"), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description=gettext_lazy("account"), ordering="user__email")
    def account(self, authenticator):
        return authenticator.user

    @admin.display(description=gettext_lazy("kind"), ordering="type")
    def kind(self, authenticator):
        return authenticator.get_type_display()

    @admin.display(description=gettext_lazy("added at"), ordering="created_at")
    def added_at(self, authenticator):
        return authenticator.created_at

    @admin.display(description=gettext_lazy("last used at"), ordering="last_used_at")
    def used_at(self, authenticator):
        return authenticator.last_used_at


# Locus gives rights by role (a membership's, locus/accounts/policies.py), never by Django's
# groups: a "Groups" section would offer a second, inert way to give rights.
admin.site.unregister(Group)

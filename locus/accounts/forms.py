from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from .choices import Role
from .models import TOKEN_DEFAULT_LIFETIME, TOKEN_LIFETIMES


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class AcceptInvitationForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=150)
    password1 = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput(render_value=True), strip=False
    )
    password2 = forms.CharField(
        label=_("Password again"), widget=forms.PasswordInput(render_value=True), strip=False
    )

    def __init__(self, *args, email="", **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email
        self.fields["password1"].help_text = _("At least 12 characters; not a common password.")

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords differ."))
        elif p1:
            from .models import User

            try:
                password_validation.validate_password(
                    p1, User(email=self.email, name=data.get("name", ""))
                )
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        max_length=80,
        help_text=_("What the token is for, e.g. 'weekly export script'."),
    )
    lifetime = forms.TypedChoiceField(
        label=_("Works for"),
        coerce=int,
        choices=[
            (days, ngettext_lazy("%(count)d day", "%(count)d days", "count") % {"count": days})
            for days in TOKEN_LIFETIMES
        ],
        initial=TOKEN_DEFAULT_LIFETIME,
        help_text=_(
            "Then it stops working. Make the next token before, and switch your system to it."
        ),
    )


class SwitchForm(forms.Form):
    """`context` is "<membership id>:<place slug>", one option of the switcher."""

    context = forms.RegexField(regex=r"^\d{1,18}:[a-z][a-z0-9-]{1,48}$")

    def clean(self):
        data = super().clean()
        if "context" in data:
            membership_id, place_slug = data["context"].split(":", 1)
            data["membership"], data["place"] = int(membership_id), place_slug
        return data

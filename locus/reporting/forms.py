"""Forms of the public report journey (one per step) and of the follow-up page.

Every step form is built per request, in the visitor's language: the taxonomy's labels and
descriptions are read when the form is made, never at import. Each form can describe its
answers for the "Check and send" page (`summary()`) and give its part of the data that
`services.report_submit` expects (`report_data()`).
"""

import re

from django import forms
from django.template.defaultfilters import date as date_filter
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from locus.core.idempotency import idempotency_token_field
from locus.core.ids import parse_id
from locus.places.selectors import area_list

from .choices import ReporterRole, SupportWanted
from .services import ADDITION_MAX_LENGTH, MAX_FILES_PER_REPORT, MESSAGE_MAX_LENGTH
from .taxonomy import INDENT, taxonomy

TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")
WEB_ADDRESS_RE = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
PHONE_RE = re.compile(r"^\+?[0-9 ()./-]{5,40}$")
ACCOUNT_MAX_LENGTH = 20_000


def listed_files(data, name):
    """The ids of the staged files a page listed when the person sent it (its hidden input
    `name`: "12,15", or "" for none), so that a file deleted for its age since then is noticed
    (services.StagedEvidenceExpired) rather than left out without a word. None when the page
    carried no such input or a damaged one: then the files staged now are taken."""
    if data is None or name not in data:
        return None
    value = data.get(name, "")
    if not value:
        return []
    parts = value.split(",")
    if len(parts) > MAX_FILES_PER_REPORT * 2:
        return None
    ids = [parse_id(part) for part in parts]
    return None if None in ids else ids


def listed_value(staged):
    """The value of that hidden input for the staged files shown."""
    return ",".join(str(evidence.pk) for evidence in staged)


# --- widgets -------------------------------------------------------------------------------


class DescribedChoicesMixin:
    """Radio buttons or checkboxes whose options each carry a short description (from the
    taxonomy), tied to the option by aria-describedby so a screen reader reads it with the
    option. A taxonomy sub-value (label indented with INDENT) is marked to be shown indented."""

    template_name = "reporting/widgets/choices.html"
    option_template_name = "reporting/widgets/option.html"

    def __init__(self, *args, descriptions=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.descriptions = descriptions or {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        text = str(label)
        option["sub"] = text.startswith(INDENT)
        option["label"] = text.removeprefix(INDENT)
        option["description"] = self.descriptions.get(str(value), "")
        if option["description"] and option["attrs"].get("id"):
            option["attrs"]["aria-describedby"] = option["attrs"]["id"] + "_desc"
        return option


class DescribedRadioSelect(DescribedChoicesMixin, forms.RadioSelect):
    pass


class DescribedCheckboxes(DescribedChoicesMixin, forms.CheckboxSelectMultiple):
    pass


class SharedAddressField(forms.URLField):
    """The address of online content, pasted as a phone's "Share" button copies it: often
    inside a sentence ("Look at this video! https://vm.tiktok.com/…"), which a plain URL field
    refused. When the text holds exactly one web address, that address is taken."""

    def to_python(self, value):
        text = (value or "").strip()
        found = WEB_ADDRESS_RE.findall(text)
        if len(found) == 1 and found[0] != text:
            address = found[0].rstrip(".,;:!?'\"»”’")
            if address.endswith(")") and "(" not in address:
                address = address[:-1]
            value = address
        return super().to_python(value)


class MultipleFileInput(forms.FileInput):
    """`<input type=file multiple>`; the view stages each file itself (see views.py)."""

    allow_multiple_selected = True


# --- helpers -------------------------------------------------------------------------------


def _described(axis, language, codes):
    vocabulary = taxonomy()
    return {code: vocabulary.description(axis, code, language) or "" for code in codes}


def _choice_label(field, value):
    for code, label in field.choices:
        if isinstance(label, list | tuple):  # an option group
            for sub_code, sub_label in label:
                if str(sub_code) == str(value):
                    return str(sub_label).removeprefix(INDENT)
        elif str(code) == str(value):
            return str(label).removeprefix(INDENT)
    return str(value)


class StepForm(forms.Form):
    """A step of the report journey: its answers for the check page and for the service."""

    def __init__(self, *args, place, language, **kwargs):
        super().__init__(*args, **kwargs)
        self.place = place
        self.language = language

    def display(self, name):
        """An answer as the person would read it back."""
        field = self.fields[name]
        value = self.cleaned_data.get(name)
        if isinstance(field, forms.BooleanField):
            return _("Yes") if value else _("No")
        if isinstance(field, forms.ModelChoiceField):
            return str(value) if value else str(field.empty_label)
        if isinstance(field, forms.MultipleChoiceField):
            return ", ".join(_choice_label(field, v) for v in value) if value else _("None")
        if isinstance(field, forms.DateField):
            return date_filter(value, "DATE_FORMAT") if value else _("Not given")
        if isinstance(field, forms.ChoiceField):
            return _choice_label(field, value) if value else _("Not given")
        return value or _("Not given")

    def summary(self):
        """[(label, answer)] for the "Check and send" page, in the order of the fields."""
        return [
            (field.label, self.display(name))
            for name, field in self.fields.items()
            if not isinstance(field.widget, forms.FileInput)
        ]

    def report_data(self):
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if not isinstance(self.fields[name].widget, forms.FileInput)
        }


# --- the steps -----------------------------------------------------------------------------


class WhatForm(StepForm):
    incident_type = forms.ChoiceField(
        label=_("What happened?"),
        widget=DescribedRadioSelect,
        error_messages={"required": _("Choose what happened.")},
    )
    occurred_on = forms.DateField(
        label=_("When did it happen?"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Leave it empty if you do not know."),
    )
    occurred_approx = forms.BooleanField(label=_("The date is approximate"), required=False)
    ongoing = forms.BooleanField(label=_("It is still happening"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = taxonomy().choices("incident_type", self.language, reporter=True)
        field = self.fields["incident_type"]
        field.choices = choices
        field.widget.descriptions = _described(
            "incident_type", self.language, [c for c, _label in choices]
        )
        self.fields["occurred_on"].widget.attrs["max"] = timezone.localdate().isoformat()

    def clean_occurred_on(self):
        value = self.cleaned_data.get("occurred_on")
        if value and value > timezone.localdate():
            raise forms.ValidationError(_("The date cannot be in the future."))
        return value

    @property
    def is_online(self):
        """Whether the chosen type of incident happens online (valid form only)."""
        code = self.cleaned_data.get("incident_type")
        return bool(code) and taxonomy().get("incident_type", code).online


class WhereForm(StepForm):
    """Online incidents: the address and the platform. Anything else: the area, the setting and
    the person's own words; the address of online content stays available as an option."""

    content_url = SharedAddressField(
        label=_("Address of the content (URL)"),
        max_length=2000,
        required=False,
        assume_scheme="https",
        error_messages={
            "invalid": _(
                "Paste the address of the content, as in the address bar or from the “Share” "
                "button (it starts with https://), or leave it empty."
            )
        },
        help_text=_(
            "Copy it from the address bar or from the “Share” button. Leave it empty if you "
            "no longer have it."
        ),
    )
    platform = forms.ChoiceField(
        label=_("Platform"),
        required=False,
        help_text=_("If you leave it empty, we work it out from the address where we can."),
    )
    setting = forms.ChoiceField(
        label=_("What kind of place was it?"),
        widget=DescribedRadioSelect,
        error_messages={"required": _("Choose what kind of place it was.")},
    )
    area = forms.ModelChoiceField(
        label=_("Area"),
        queryset=None,
        required=False,
        empty_label=_("I don't know"),
        error_messages={"invalid_choice": _("Choose an area from the list.")},
    )
    location_text = forms.CharField(
        label=_("Where was it, in your words?"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "For example a street, a stop or a building. This is personal data: it is stored "
            "encrypted and only people who handle reports can read it."
        ),
    )

    ONLINE_FIELDS = ("content_url", "platform")

    def __init__(self, *args, online=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.online = online
        vocabulary = taxonomy()
        self.fields["platform"].choices = [("", _("I don't know"))] + vocabulary.choices(
            "platform", self.language, reporter=True
        )
        if online:
            for name in ("setting", "area", "location_text"):
                del self.fields[name]
            return
        choices = vocabulary.choices("setting", self.language, reporter=True)
        self.fields["setting"].choices = choices
        self.fields["setting"].widget.descriptions = _described(
            "setting", self.language, [c for c, _label in choices]
        )
        self.fields["area"].queryset = area_list(place=self.place)
        # On the page the online fields come last, under "If it happened online".
        self.order_fields(["setting", "area", "location_text", *self.ONLINE_FIELDS])

    def clean(self):
        data = super().clean()
        if not data.get("platform") and data.get("content_url"):
            data["platform"] = taxonomy().platform_for_url(data["content_url"]) or ""
        return data

    def report_data(self):
        data = {"area": None, "location_text": "", "setting": "online"} | super().report_data()
        data["platform"] = data.get("platform") or ""
        return data


class WhoForm(StepForm):
    bias = forms.MultipleChoiceField(
        label=_("Who was targeted, or why do you think it happened?"),
        widget=DescribedCheckboxes,
        help_text=_("Choose everything that applies. If you cannot say, choose “Not sure”."),
        error_messages={"required": _("Choose at least one answer, or “Not sure”.")},
    )
    account = forms.CharField(
        label=_("What happened, in your own words"),
        required=False,
        max_length=ACCOUNT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "What was said or done, and anything that makes you think it was hate. You can "
            "leave this empty if you attach a file that shows what happened."
        ),
    )
    files = forms.FileField(
        label=_("Photos, screenshots or documents"),
        required=False,
        widget=MultipleFileInput,
        help_text=_(
            "You can choose several files: photos, screenshots, PDF, text or video, up to 10. "
            "Hidden data such as the location is removed from photos."
        ),
    )

    def __init__(self, *args, requires_bias=True, has_files=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.has_files = has_files
        self.fields["account"].conditional = True  # required unless files: not "(optional)"
        choices = taxonomy().choices("bias", self.language, reporter=True)
        field = self.fields["bias"]
        field.choices = choices
        field.required = requires_bias
        field.widget.descriptions = _described("bias", self.language, [c for c, _l in choices])

    def clean(self):
        data = super().clean()
        if not data.get("account") and not self.has_files and "account" not in self.errors:
            self.add_error(
                "account",
                _("Tell us what happened in your own words, or attach a file that shows it."),
            )
        return data


class YouForm(StepForm):
    reporter_role = forms.ChoiceField(
        label=_("Who are you in what happened?"),
        choices=ReporterRole.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the answer that fits you best.")},
    )
    support_wanted = forms.MultipleChoiceField(
        label=_("Would you like support?"),
        choices=SupportWanted.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Choose any that you want, or none."),
    )
    already_reported = forms.MultipleChoiceField(
        label=_("Have you already reported it somewhere else?"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    police_reference = forms.CharField(
        label=_("Police reference number"),
        required=False,
        max_length=100,
        help_text=_("If the police gave you a crime or incident number."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["already_reported"].choices = taxonomy().choices(
            "already_reported", self.language, reporter=True
        )

    def clean(self):
        data = super().clean()
        if data.get("police_reference") and "police" not in data.get("already_reported", []):
            self.add_error(
                "police_reference",
                _("Tick “Already reported to the police”, or leave the reference empty."),
            )
        return data


class ShareForm(StepForm):
    consent_police_anonymised = forms.BooleanField(
        label=_("Share my report with the police without my name or contact details"),
        required=False,
    )
    consent_police_with_contact = forms.BooleanField(
        label=_("Send my report to the police with my contact details, so they can contact me"),
        required=False,
    )
    consent_support_contact = forms.BooleanField(
        label=_("Let a support organisation contact me"), required=False
    )
    contact_name = forms.CharField(label=_("Your name"), required=False, max_length=200)
    contact_email = forms.EmailField(label=_("E-mail address"), required=False)
    contact_phone = forms.CharField(
        label=_("Phone number"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    wants_email_updates = forms.BooleanField(
        label=_("Send me an e-mail when there is news about my report"),
        required=False,
        help_text=_("Only with an e-mail address."),
    )

    CONSENT_FIELDS = (
        "consent_police_anonymised",
        "consent_police_with_contact",
        "consent_support_contact",
    )
    CONTACT_FIELDS = ("contact_name", "contact_email", "contact_phone", "wants_email_updates")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact_name"].widget.attrs["autocomplete"] = "name"
        self.fields["contact_email"].widget.attrs["autocomplete"] = "email"

    def clean_contact_phone(self):
        value = self.cleaned_data.get("contact_phone", "")
        if value and not PHONE_RE.match(value):
            raise forms.ValidationError(
                _("Enter a phone number with digits only, like 0123 456789.")
            )
        return value

    def clean(self):
        data = super().clean()
        reachable = data.get("contact_email") or data.get("contact_phone")
        if data.get("consent_police_with_contact") and not reachable:
            self.add_error(
                "contact_email",
                _(
                    "To send your contact details to the police, give an e-mail address or a "
                    "phone number."
                ),
            )
        elif data.get("consent_support_contact") and not reachable:
            self.add_error(
                "contact_email",
                _(
                    "For a support organisation to contact you, give an e-mail address or a "
                    "phone number."
                ),
            )
        if data.get("wants_email_updates") and not data.get("contact_email"):
            self.add_error(
                "wants_email_updates", _("Give an e-mail address to get news by e-mail.")
            )
        return data

    @property
    def record_only(self):
        return not any(self.cleaned_data.get(name) for name in self.CONSENT_FIELDS)

    def contact(self):
        keys = {"contact_name": "name", "contact_email": "email", "contact_phone": "phone"}
        data = self.cleaned_data
        given = {key: data[name] for name, key in keys.items() if data.get(name)}
        return given or None

    def summary(self):
        rows = [(_("Who receives your report"), self.sharing_sentence())]
        for name in self.CONTACT_FIELDS:
            rows.append((self.fields[name].label, self.display(name)))
        return rows

    def sharing_sentence(self):
        return sharing_sentence(
            **{name: self.cleaned_data.get(name) for name in self.CONSENT_FIELDS}
        )

    def report_data(self):
        data = {name: self.cleaned_data[name] for name in self.CONSENT_FIELDS}
        data["contact"] = self.contact()
        data["wants_email_updates"] = self.cleaned_data["wants_email_updates"]
        return data


def sharing_sentence(
    consent_police_anonymised, consent_police_with_contact, consent_support_contact
):
    """Who may receive the report, in the words of the choices the reporter ticked: on the
    check page and on the follow-up page, so that a report shared with a support organisation
    only is never called "recorded only". One choice a line: joined by "; " they ran together,
    and French wants a no-break space before the semicolon."""
    given = {
        "consent_police_anonymised": consent_police_anonymised,
        "consent_police_with_contact": consent_police_with_contact,
        "consent_support_contact": consent_support_contact,
    }
    if not any(given.values()):
        return _("Recorded only: counted in the statistics, shared with nobody.")
    return "\n".join(
        str(ShareForm.base_fields[name].label) for name in ShareForm.CONSENT_FIELDS if given[name]
    )


class JourneyForm(forms.Form):
    """The journey's own hidden fields: where the person is and the files staged so far."""

    step = forms.IntegerField(min_value=1, max_value=6, required=False)
    staged_token = forms.RegexField(regex=TOKEN_RE, required=False)
    review = forms.BooleanField(required=False)
    idempotency_token = idempotency_token_field()


# --- follow-up -----------------------------------------------------------------------------


# A phone's keyboard must not "correct" a reference or code into words, nor suggest one typed
# before on a shared device; capitals are offered, as they are printed on the receipt.
CODE_INPUT = {
    "autocomplete": "off",
    "spellcheck": "false",
    "autocorrect": "off",
    "autocapitalize": "characters",
}


class FollowUpForm(forms.Form):
    reference = forms.CharField(
        label=_("Reference"),
        max_length=40,
        help_text=_("For example K7QD-3MXA."),
        widget=forms.TextInput(attrs=CODE_INPUT),
    )
    code = forms.CharField(
        label=_("Follow-up code"),
        max_length=60,
        help_text=_("The long code you were given when you sent the report."),
        widget=forms.TextInput(attrs=CODE_INPUT),
    )


class ConsentChangeForm(forms.Form):
    police_anonymised = forms.BooleanField(
        label=ShareForm.base_fields["consent_police_anonymised"].label, required=False
    )
    police_with_contact = forms.BooleanField(
        label=ShareForm.base_fields["consent_police_with_contact"].label, required=False
    )
    support_contact = forms.BooleanField(
        label=ShareForm.base_fields["consent_support_contact"].label, required=False
    )


class MessageForm(forms.Form):
    """A message to one organisation handling the report (one form per thread, prefixed with
    the thread, so every textarea has its own id and its errors sit next to it)."""

    body = forms.CharField(
        label=_("Your message"),
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Only this organisation reads it. It does not learn who you are unless you say so."
        ),
        error_messages={"required": _("Write your message first.")},
    )


class AdditionForm(forms.Form):
    """Something the reporter adds after sending: a text and/or files. Files are staged at
    once under `staged_token` (carried in the page), so an error never loses them."""

    text = forms.CharField(
        label=_("What would you like to add?"),
        required=False,
        max_length=ADDITION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "For example something you remembered, or what happened since. It goes to the "
            "organisations that received your report."
        ),
    )
    files = forms.FileField(
        label=_("Add photos, screenshots or documents"),
        required=False,
        widget=MultipleFileInput,
        help_text=_(
            "Photos, screenshots, PDF, text or video. Hidden data such as the location is "
            "removed from photos."
        ),
    )
    staged_token = forms.RegexField(regex=TOKEN_RE, required=False, widget=forms.HiddenInput)


class TokenForm(forms.Form):
    """The hidden idempotency token of a follow-up form, outside the form's prefix (the name
    `form_idempotency` reads). A fresh token on every render."""

    idempotency_token = idempotency_token_field()


class ErasureForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I understand that my personal data will be erased and that this cannot be undone"),
        error_messages={"required": _("Tick this box to confirm that you want the erasure.")},
    )

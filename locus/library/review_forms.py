"""Forms for contributing a record and for an editor's decision. They check what they can
(types, choices, the comment); the record services check the rest, and their errors are put
back next to the fields (`add_service_errors`)."""

import re

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .choices import EvidenceLevel, Licence, ResourceType, TrainingFormat, TrainingLevel
from .models import ReviewAction
from .moderation import COMMENT_MAX, SUBMITTER_FIELDS
from .vocabulary import RECORD_FIELDS as VOCABULARY_FIELDS
from .vocabulary import vocabulary

_LANGUAGE_SPLIT_RE = re.compile(r"[\s,;/]+")
MAX_LANGUAGES = 30


def parse_language_list(text):
    """ "en, fr; de" → ["en", "fr", "de"]: codes separated by commas, semicolons, slashes or
    spaces, lower-cased, without repeats. The services check each code."""
    codes = []
    for part in _LANGUAGE_SPLIT_RE.split((text or "").strip()):
        code = part.strip().lower()
        if code and code not in codes:
            codes.append(code)
    return codes


def _blank(choices):
    return [("", "—"), *choices]


class RecordContributionForm(forms.Form):
    organisation = forms.TypedChoiceField(
        label=_("Contributed by"), coerce=int, help_text=_("The organisation that owns the record.")
    )
    type = forms.ChoiceField(label=_("Type of resource"), choices=_blank(ResourceType.choices))
    title = forms.CharField(label=_("Title"), max_length=500)
    summary = forms.CharField(
        label=_("Summary"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("In the resource's first language."),
    )
    authors = forms.CharField(
        label=_("Authors"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line."),
    )
    publisher = forms.CharField(label=_("Publisher"), required=False, max_length=300)
    year = forms.IntegerField(label=_("Year"), required=False)
    is_ongoing = forms.BooleanField(label=_("Updated continuously since that year"), required=False)
    languages = forms.CharField(
        label=_("Languages"),
        max_length=200,
        help_text=_("Two-letter codes, the language of the title and summary first: en, fr."),
    )
    url = forms.CharField(label=_("Web address"), required=False, max_length=2000)
    evidence_level = forms.ChoiceField(
        label=_("Evidence level"),
        required=False,
        choices=_blank(EvidenceLevel.choices),
        help_text=_("Leave empty for guides, toolkits and policies."),
    )
    licence = forms.ChoiceField(
        label=_("Licence"), choices=Licence.choices, initial=Licence.UNKNOWN
    )
    coverage = forms.CharField(
        label=_("Where it applies, in words"), required=False, max_length=300
    )
    training_duration = forms.CharField(
        label=_("Training: duration"), required=False, max_length=100
    )
    training_format = forms.ChoiceField(
        label=_("Training: format"), required=False, choices=_blank(TrainingFormat.choices)
    )
    training_level = forms.ChoiceField(
        label=_("Training: level"), required=False, choices=_blank(TrainingLevel.choices)
    )

    def __init__(self, *args, organisations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].choices = [(org.pk, org.name) for org in organisations]
        language = get_language()
        current = vocabulary()
        for axis, field in VOCABULARY_FIELDS.items():
            if axis == "region":
                continue
            widget = (
                forms.SelectMultiple(attrs={"size": 8})
                if axis == "country"
                else forms.CheckboxSelectMultiple
            )
            self.fields[field] = forms.MultipleChoiceField(
                label=current.axis_label(axis, language),
                required=False,
                choices=current.choices(axis, language),
                widget=widget,
            )

    def clean_languages(self):
        codes = parse_language_list(self.cleaned_data["languages"])
        if not codes:
            raise forms.ValidationError(_("Give at least one language code."))
        if len(codes) > MAX_LANGUAGES:
            raise forms.ValidationError(
                _("Give at most %(count)s values.") % {"count": MAX_LANGUAGES}
            )
        return codes

    def record_data(self):
        """The cleaned fields as the record services take them (organisation apart)."""
        data = {
            name: self.cleaned_data.get(name) for name in SUBMITTER_FIELDS if name in self.fields
        }
        data["authors"] = (self.cleaned_data.get("authors") or "").splitlines()
        for field in VOCABULARY_FIELDS.values():
            if field in self.fields:
                data[field] = list(self.cleaned_data.get(field) or [])
        return data

    def add_service_errors(self, fields):
        """Errors from the record services (ValidationFailed.fields), next to their field."""
        for name, messages in fields.items():
            target = name if name in self.fields else None
            for message in messages if isinstance(messages, list | tuple) else [messages]:
                self.add_error(target, str(message))

    @staticmethod
    def initial_for(record):
        data = {name: getattr(record, name) for name in SUBMITTER_FIELDS}
        data["languages"] = ", ".join(record.languages)
        data["organisation"] = record.organisation_id
        return data


class ReviewDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        widget=forms.RadioSelect,
        choices=[
            (ReviewAction.APPROVED, _("Approve and publish")),
            (ReviewAction.CHANGES_REQUESTED, _("Ask for changes")),
            (ReviewAction.REJECTED, _("Reject")),
        ],
    )
    comment = forms.CharField(
        label=_("Comment for the contributor"),
        required=False,
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Required when you ask for changes or reject. The contributor reads it."),
    )

    def clean(self):
        cleaned = super().clean()
        decision = cleaned.get("decision")
        if (
            decision
            and decision != ReviewAction.APPROVED
            and not cleaned.get("comment", "").strip()
        ):
            self.add_error("comment", _("Say what should change, for the contributor."))
        return cleaned

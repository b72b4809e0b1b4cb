"""Forms of the routing-rule editor: a rule (every condition of docs/routing.md as a proper
control) and a sample report to try the rules on. They parse and check the choices offered;
`routing_rule_save` (through rule_services) decides and re-checks everything."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from locus.core.forms import ModelMultipleIdField
from locus.directory.selectors import organisation_list
from locus.places.selectors import area_list
from locus.reporting.taxonomy import INDENT, taxonomy

from .choices import CONSENT_CONDITIONS, TAXONOMY_CONDITION_KEYS
from .models import RoutingRule
from .rule_selectors import consent_labels, organisation_type_label

ONLINE_CHOICES = [
    ("", _("Online or offline")),
    ("yes", _("Only online reports")),
    ("no", _("Only offline reports")),
]


class RuleForm(forms.Form):
    """A routing rule. Empty conditions mean "any"."""

    name = forms.CharField(
        label=_("Name"),
        max_length=120,
        help_text=_("For staff only: never shown to the reporter."),
    )
    is_active = forms.BooleanField(label=_("Enabled: use this rule for routing"), required=False)
    is_fallback = forms.BooleanField(
        label=_("Fallback rule"),
        required=False,
        help_text=RoutingRule._meta.get_field("is_fallback").help_text,
    )
    incident_type = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    bias = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("A broader answer also matches its more specific ones."),
    )
    setting = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    platform = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    area = forms.TypedMultipleChoiceField(
        label=_("Area"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("A report without an area does not match a rule that names areas."),
    )
    online = forms.ChoiceField(
        label=_("Online"),
        required=False,
        choices=ONLINE_CHOICES,
        widget=forms.RadioSelect,
        help_text=_("Online means an online type of incident or an online setting."),
    )
    language = forms.MultipleChoiceField(
        label=_("Language of the report"), required=False, widget=forms.CheckboxSelectMultiple
    )
    consent = forms.MultipleChoiceField(
        label=_("The reporter agreed to"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Matches when the reporter gave any of these consents. Whatever the rule says, "
            "an organisation receives only what the reporter's consent allows."
        ),
    )
    destinations = ModelMultipleIdField(
        label=_("Send to"),
        required=False,
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Organisations working in this place. Each receives the report only as far as the "
            "reporter's consent allows: try it on a sample report below."
        ),
    )
    stop = forms.BooleanField(
        label=_("Stop here"),
        required=False,
        help_text=RoutingRule._meta.get_field("stop").help_text,
    )

    CONDITION_FIELDS = (*TAXONOMY_CONDITION_KEYS, "area", "online", "language", "consent")

    def __init__(self, *args, place, language, **kwargs):
        super().__init__(*args, **kwargs)
        vocabulary = taxonomy()
        for key in TAXONOMY_CONDITION_KEYS:
            self.fields[key].label = vocabulary.axis_label(key, language)
            self.fields[key].choices = vocabulary.choices(key, language)
        self.fields["area"].choices = list(area_list(place=place).values_list("pk", "name"))
        self.fields["language"].choices = settings.LANGUAGES
        labels = consent_labels()
        self.fields["consent"].choices = [(code, labels[code]) for code in CONSENT_CONDITIONS]
        field = self.fields["destinations"]
        field.queryset = organisation_list(place=place)
        field.conditional = True  # required unless the rule stops: not "(optional)"
        field.label_from_instance = lambda o: f"{o.name} ({organisation_type_label(o)})"

    @classmethod
    def initial_for(cls, rule):
        """The form's values for a saved rule."""
        conditions = rule.conditions if isinstance(rule.conditions, dict) else {}
        online = conditions.get("online")
        initial = {
            "name": rule.name,
            "is_active": rule.is_active,
            "is_fallback": rule.is_fallback,
            "stop": rule.stop,
            "online": "" if online is None else ("yes" if online else "no"),
            "destinations": [o.pk for o in rule.destinations.all()],
        }
        for key in (*TAXONOMY_CONDITION_KEYS, "area", "language", "consent"):
            initial[key] = list(conditions.get(key) or [])
        return initial

    def condition_groups(self) -> list[dict]:
        """Each condition as a group the editor folds away: its field, a short summary of the
        values chosen (as posted, or as saved) for the folded line, and whether it starts open
        (a value chosen or an error), so that a coordinator scans eight lines, not ~100 boxes."""
        groups = []
        for name in self.CONDITION_FIELDS:
            field = self[name]
            value = field.value()
            chosen = {str(v) for v in (value if isinstance(value, list | tuple) else [value])}
            chosen.discard("")
            chosen.discard("None")
            labels = [
                str(label).strip(INDENT).strip()
                for code, label in field.field.choices
                if str(code) in chosen
            ]
            groups.append(
                {
                    "field": field,
                    "summary": condition_summary(labels),
                    "open": bool(labels or field.errors),
                }
            )
        return groups

    def rule_fields(self) -> dict:
        """What `routing_rule_save` / `routing_rule_draft` take, from the cleaned data."""
        data = self.cleaned_data
        conditions = {key: list(data.get(key) or []) for key in self.CONDITION_FIELDS}
        conditions["online"] = {"yes": True, "no": False}.get(data.get("online") or "")
        return {
            "name": data["name"].strip(),
            "is_active": data["is_active"],
            "is_fallback": data["is_fallback"],
            "stop": data["stop"],
            "conditions": conditions,
            "destinations": list(data["destinations"]),
        }


SUMMARY_VALUES = 3


def _and_more(count) -> str:
    return ngettext("%(values)s and %(count)s more", "%(values)s and %(count)s more", count)


def condition_summary(labels) -> str:
    """ "Any value", or the values chosen: the first three and how many more."""
    if not labels:
        return str(_("Any value"))
    shown = "; ".join(labels[:SUMMARY_VALUES])  # a label may hold a comma
    more = len(labels) - SUMMARY_VALUES
    if more <= 0:
        return shown
    return _and_more(more) % {"values": shown, "count": more}


def condition_summary_texts() -> dict:
    """The same words for locus.js, which keeps a folded condition's line current as boxes are
    ticked: "{values}" and "{count}" stand for what it fills in. One and more than one are
    the only plural forms that occur (there is always at least one more) in Locus's
    languages."""
    tokens = {"values": "{values}", "count": "{count}"}
    return {
        "any": str(_("Any value")),
        "more_one": _and_more(1) % tokens,
        "more_many": _and_more(2) % tokens,
        "shown": SUMMARY_VALUES,
    }


# Where the service's error fields go on the rule form.
RULE_ERROR_FIELDS = {f"conditions.{key}": key for key in RuleForm.CONDITION_FIELDS}


class SampleForm(forms.Form):
    """A sample report to try the rules on. Nothing is saved."""

    # Its labels are the rule's conditions': the error summary names the form as well.
    error_summary_name = _("Sample report")

    # Labels of the taxonomy axes are set from the taxonomy, in the viewer's language.
    incident_type = forms.ChoiceField()
    bias = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    setting = forms.ChoiceField(required=False)
    platform = forms.ChoiceField(required=False)
    content_url = forms.URLField(
        label=_("Address of the online content"), required=False, max_length=2000
    )
    area = forms.ModelChoiceField(
        label=_("Area"), required=False, queryset=None, empty_label=_("No area given")
    )
    language = forms.ChoiceField(label=_("Language of the report"))
    consent_police_anonymised = forms.BooleanField(
        label=_("Shared with the police, anonymised"), required=False
    )
    consent_police_with_contact = forms.BooleanField(
        label=_("Sent to the police with contact details"), required=False
    )
    consent_support_contact = forms.BooleanField(
        label=_("A support organisation may contact them"), required=False
    )
    contact = forms.BooleanField(label=_("The reporter gave contact details"), required=False)

    def __init__(self, *args, place, language, **kwargs):
        kwargs.setdefault("prefix", "sample")
        super().__init__(*args, **kwargs)
        vocabulary = taxonomy()
        for axis in TAXONOMY_CONDITION_KEYS:
            self.fields[axis].label = vocabulary.axis_label(axis, language)
        self.fields["incident_type"].choices = [
            ("", _("Choose…")),
            *vocabulary.choices("incident_type", language),
        ]
        self.fields["bias"].choices = vocabulary.choices("bias", language)
        for axis in ("setting", "platform"):
            self.fields[axis].choices = [
                ("", _("Not given")),
                *vocabulary.choices(axis, language),
            ]
        self.fields["area"].queryset = area_list(place=place)
        self.fields["language"].choices = settings.LANGUAGES
        self.fields["language"].initial = place.default_language

    def sample(self) -> dict:
        """The sample for `routing_preview` (only whether contact details were given matters to
        routing, so none are made up beyond a placeholder)."""
        data = self.cleaned_data
        return {
            "incident_type": data["incident_type"],
            "bias": list(data["bias"]),
            "setting": data["setting"],
            "platform": data["platform"],
            "content_url": data["content_url"],
            "area": data["area"],
            "language": data["language"],
            "consent_police_anonymised": data["consent_police_anonymised"],
            "consent_police_with_contact": data["consent_police_with_contact"],
            "consent_support_contact": data["consent_support_contact"],
            "contact": {"email": "sample@example.invalid"} if data["contact"] else None,
        }


class MoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", _("Move up")), ("down", _("Move down"))])


class ActiveForm(forms.Form):
    is_active = forms.TypedChoiceField(
        choices=[("1", _("Enable")), ("0", _("Disable"))], coerce=lambda v: v == "1"
    )

"""Forms of the webhook pages. They parse input; the services validate the address (https in
production) and decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from locus.core.idempotency import idempotency_token_field

from .choices import MessageStatus
from .endpoint_services import EVENT_TYPES


class EndpointForm(forms.Form):
    url = forms.URLField(
        label=_("Address (URL)"),
        max_length=500,
        help_text=_("Where Locus sends the events, with POST. It must start with https://."),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=200,
        required=False,
        help_text=_("For your organisation, e.g. the system that receives the events."),
    )
    event_types = forms.MultipleChoiceField(
        label=_("Events"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=list(EVENT_TYPES.items()),
        help_text=_("Leave all unticked to receive every event, including future ones."),
    )


class NewEndpointForm(EndpointForm):
    """Creating an endpoint: its hidden token makes a double click, or the page sent again,
    create one endpoint, not two (`form_idempotency` in the view)."""

    idempotency_token = idempotency_token_field()


class RotateForm(forms.Form):
    idempotency_token = idempotency_token_field()  # a double click rotates once
    revoke_old = forms.BooleanField(
        label=_("Stop signing with the old secret at once"),
        required=False,
        help_text=_(
            "Only if the old secret leaked. Otherwise the old secret keeps signing too for 24 "
            "hours, so your receiver can switch over without rejecting anything."
        ),
    )


class TestEventForm(forms.Form):
    idempotency_token = idempotency_token_field()  # a double click sends one test event


class ActiveForm(forms.Form):
    is_active = forms.TypedChoiceField(
        choices=[("1", _("Enable")), ("0", _("Disable"))], coerce=lambda v: v == "1"
    )


class LogFilterForm(forms.Form):
    """The delivery log's status filter (a bad value is simply ignored)."""

    status = forms.ChoiceField(required=False, choices=[("", _("All")), *MessageStatus.choices])

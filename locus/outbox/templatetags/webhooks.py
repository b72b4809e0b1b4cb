from django import template

from locus.outbox.endpoint_services import EVENT_TYPES

register = template.Library()


@register.filter
def event_labels(event_types):
    """An endpoint's event codes in words, in the active language ("; "-joined); a code Locus
    no longer sends stays as it is. Empty for none (the endpoint receives every event)."""
    return "; ".join(str(EVENT_TYPES.get(code, code)) for code in event_types or ())

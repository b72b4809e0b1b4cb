"""`{% load alerts %}{% alerts_panel place %}`: the recent open alarms, for the dashboard."""

from django import template
from django.utils.translation import get_language

from locus.alerts import selectors

register = template.Library()


@register.inclusion_tag("alerts/_dashboard_panel.html")
def alerts_panel(place, limit=5):
    alarms = selectors.recent_open_alarms(place=place, limit=limit)
    language = get_language()
    for alarm in alarms:
        alarm.category_label = selectors.category_label(alarm.axis, alarm.category, language)
    return {"place": place, "alarms": alarms}

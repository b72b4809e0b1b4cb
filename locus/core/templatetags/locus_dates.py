"""{% load locus_dates %}: {{ day|short_date }}, {{ day|short_day_month }},
{{ day|short_month_year }} (locus/core/dates.py)."""

from django import template

from locus.core import dates

register = template.Library()

register.filter("short_date", dates.short_date)
register.filter("short_day_month", dates.short_day_month)
register.filter("short_month_year", dates.short_month_year)

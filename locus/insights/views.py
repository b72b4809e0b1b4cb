"""The staff dashboard, the service's own figures and trigger-event annotations.
Parse, call one selector or service, render."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.timesince import timesince
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from locus.accounts.decorators import staff_view
from locus.accounts.policies import Capability, membership_can
from locus.core.dates import short_date, short_day_month, short_month_year
from locus.core.errors import ApplicationError

from . import charts, selectors, services
from .forms import AnnotationForm, DashboardForm, ServicePeriodForm
from .models import Basis, Grain
from .rollups import month_start, period_after, period_range, place_tz


def _today(place):
    return timezone.localdate(timezone=place_tz(place))


_label = selectors.code_label


def period_label(grain, period, *, short=False):
    """ "Feb 2026" / "February 2026" for a month; "23 Feb" / "week of 23 Feb 2026" for a week."""
    if grain == Grain.MONTH:
        return short_month_year(period) if short else date_format(period, "YEAR_MONTH_FORMAT")
    if short:
        return short_day_month(period)
    return _("week of %(day)s") % {"day": short_date(period)}


def _annotation_marks(annotations):
    return [(number, a.starts_on, a.ends_on, a.text) for number, a in enumerate(annotations, 1)]


def _series_chart(grain, periods, values, provisional, lines, annotations):
    ends = [period_after(grain, p) for p in periods]
    return charts.time_chart(
        periods=periods,
        period_ends=ends,
        labels=[period_label(grain, p, short=True) for p in periods],
        values=values,
        provisional=provisional,
        lines=lines,
        annotations=_annotation_marks(annotations),
    )


def _map_collection(data, geometries):
    features = []
    for area in data.areas:
        geometry = geometries.get(area.id)
        if not geometry:
            continue
        features.append(
            {
                "type": "Feature",
                "id": area.id,
                "geometry": geometry,
                "properties": {
                    "name": area.name,
                    "incidents": area.incidents,
                    "rate": area.rate,
                    "class": area.map_class,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _period_query(form) -> str:
    """The period a person chose on one insights page (both pages take `start` and `end`
    days), for the links to the other page: going from the local picture to the service's
    figures and back keeps the period instead of falling back to the last twelve months."""
    if not form.is_bound or not form.is_valid():
        return ""
    days = {key: form.cleaned_data.get(key) for key in ("start", "end")}
    return urlencode({key: day.isoformat() for key, day in days.items() if day})


@staff_view(Capability.VIEW_INSIGHTS)
def dashboard(request):
    """Counts and rates by area and period, with filters and comparisons, charts with their
    tables, the map with its table, and the place's annotations."""
    place, language = request.place, get_language()
    today = _today(place)
    form = DashboardForm(request.GET or None, place=place, language=language, today=today)
    filters = form.filters()
    data = selectors.dashboard(place, filters, today=today)
    grain = filters.grain
    rows = []
    last_year = data.last_year + [None] * (len(data.periods) - len(data.last_year))
    for index, period in enumerate(data.periods):
        rows.append(
            {
                "label": period_label(grain, period),
                "incidents": data.incidents[index],
                "reports": data.reports[index],
                "last_year": last_year[index],
                "provisional": data.provisional[index],
            }
        )
    incidents_chart = _series_chart(
        grain,
        data.periods,
        data.incidents,
        data.provisional,
        [(_("Same period a year earlier"), "line-last-year", last_year)],
        data.annotations,
    )
    pressure_chart = _series_chart(
        grain,
        data.periods,
        data.reports,
        data.provisional,
        [(_("Incidents"), "line-incidents", data.incidents)],
        data.annotations,
    )
    kind_label = (
        _label("incident_type", filters.incident_type, language)
        if filters.incident_type
        else _("Hate incidents")
    )
    for figure in data.by_bias:
        figure.label = _label("bias", figure.code, language)
    for figure in data.by_type:
        figure.label = _label("incident_type", figure.code, language)
    for figure in data.by_setting:
        figure.label = _label("setting", figure.code, language)
    tiles = getattr(settings, "LOCUS_MAP_TILES", None) or {}
    context = {
        "form": form,
        "filters": filters,
        "data": data,
        "rows": rows,
        "kind_label": kind_label,
        "verified": filters.basis == Basis.VERIFIED,
        "incidents_chart": incidents_chart,
        "pressure_chart": pressure_chart,
        "annotation_marks": _annotation_marks(data.annotations),
        "first_label": period_label(grain, filters.start),
        "last_label": period_label(grain, period_after(grain, filters.end, -1)),
        "show_previous": "previous" in filters.comparisons,
        "previous_label": _range_label(grain, *filters.previous),
        "last_year_label": _range_label(grain, *filters.last_year),
        "map_collection": _map_collection(data, data.geometries),
        "map_tiles": tiles.get("url", ""),
        "map_attribution": tiles.get("attribution", ""),
        "provisional_days": selectors.PROVISIONAL_DAYS,
        "can_manage": membership_can(request.membership, Capability.MANAGE_INSIGHTS),
        "query": request.GET.urlencode(),
        "period_query": _period_query(form),
    }
    return render(request, "insights/dashboard.html", context)


def _range_label(grain, first, end):
    return _("%(first)s to %(last)s") % {
        "first": period_label(grain, first),
        "last": period_label(grain, period_after(grain, end, -1)),
    }


_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def duration(delta):
    """A duration in words ("3 days, 4 hours") in the active language; "" for None."""
    if delta is None:
        return ""
    return timesince(_EPOCH, _EPOCH + max(delta, timedelta(0)))


def percent(share):
    return None if share is None else round(share * 100)


@staff_view(Capability.VIEW_INSIGHTS)
def service(request):
    """How well the service works: reports received, handling against targets, hand-ons,
    support, and reach by area and community against the population."""
    place, language = request.place, get_language()
    today = _today(place)
    form = ServicePeriodForm(request.GET or None, today=today)
    since, until = form.period()
    figures = selectors.service_figures(place, since=since, until=until, now=timezone.now())
    by_month = dict(figures.months)
    months = period_range(
        Grain.MONTH, month_start(since), period_after(Grain.MONTH, month_start(until))
    )
    counts = [by_month.get(m, 0) for m in months]
    annotations = list(selectors.annotation_list(place, first=since, last=until))
    chart = _series_chart(
        Grain.MONTH,
        months,
        counts,
        [m == month_start(today) for m in months],  # the month under way is incomplete
        [],
        annotations,
    )
    organisations = [
        {
            "figure": org,
            "median_acknowledge": duration(org.median_acknowledge),
            "median_close": duration(org.median_close),
            "acknowledge_target": duration(org.targets.acknowledge),
            "close_target": duration(org.targets.close),
            "acknowledge_within": percent(org.acknowledge_within),
            "close_within": percent(org.close_within),
        }
        for org in figures.organisations
    ]
    for community in figures.communities:
        community.name = _label("bias", community.code, language)
    context = {
        "form": form,
        "period_query": _period_query(form),
        "figures": figures,
        "since": since,
        "until": until,
        "chart": chart,
        "month_rows": [
            {"label": period_label(Grain.MONTH, m), "count": c}
            for m, c in zip(months, counts, strict=True)
        ],
        "annotation_marks": _annotation_marks(annotations),
        "organisations": organisations,
        "shares": {
            "handed_on": percent(figures.handed_on_share),
            "asked_support": percent(figures.asked_support_share),
            "support_consent": percent(figures.support_consent_share),
            "supported": percent(figures.supported_share),
        },
    }
    return render(request, "insights/service.html", context)


@staff_view(Capability.MANAGE_INSIGHTS)
def annotations(request):
    """The place's trigger-event annotations, and a form to add one."""
    place = request.place
    form = AnnotationForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.annotation_create(
                    place=place,
                    membership=request.membership,
                    actor=request.user,
                    **form.cleaned_data,
                )
            except ApplicationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("The annotation was added to every chart."))
                return redirect("insights:annotations", place.slug)
        status = 422
    context = {"form": form, "annotations": selectors.annotation_list(place)}
    return render(request, "insights/annotations.html", context, status=status)


def _add_errors(form, exc):
    if not exc.fields:
        form.add_error(None, exc.message)
    for name, errors in exc.fields.items():
        for message in errors:
            form.add_error(name if name in form.fields else None, message)


@staff_view(Capability.MANAGE_INSIGHTS)
def annotation_edit(request, annotation_id):
    place = request.place
    annotation = selectors.access_annotation(place, annotation_id)
    form = AnnotationForm(request.POST or None, instance=annotation)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.annotation_update(
                    annotation=annotation,
                    membership=request.membership,
                    actor=request.user,
                    **form.cleaned_data,
                )
            except ApplicationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("The annotation was saved."))
                return redirect("insights:annotations", place.slug)
        status = 422
    return render(
        request,
        "insights/annotation_edit.html",
        {"form": form, "annotation": annotation},
        status=status,
    )


@staff_view(Capability.MANAGE_INSIGHTS)
def annotation_delete(request, annotation_id):
    place = request.place
    annotation = selectors.access_annotation(place, annotation_id)
    if request.method == "POST":
        services.annotation_delete(
            annotation=annotation, membership=request.membership, actor=request.user
        )
        messages.success(request, _("The annotation was deleted."))
        return redirect("insights:annotations", place.slug)
    return render(request, "insights/annotation_delete.html", {"annotation": annotation})

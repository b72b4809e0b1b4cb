"""Reads for alerts: the incident rows the detection counts, alarms, subscriptions."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, Q
from django.utils import timezone

from locus.core.numbers import chart_number
from locus.directory.models import OrganisationListing
from locus.places.models import Area
from locus.reporting.models import Report
from locus.reporting.taxonomy import UnknownCode, display_label, taxonomy

from .choices import AlarmStatus, Axis
from .models import Alarm, AlertSubscription, DetectionRun


def category_key(axis, code):
    """The category part of a series key: "bias:antisemitism", "incident_type:threat"."""
    return f"{axis}:{code}"


def split_category(key):
    axis, _sep, code = key.partition(":")
    return axis, code


def series_key(area_id, category):
    """The key an alarm is stored under: "area:12|bias:antisemitism" or "place|…"."""
    return f"{'place' if area_id is None else f'area:{area_id}'}|{category}"


def _bias_with_parents(codes):
    """Bias codes with their parents (anti_black also counts as racism_xenophobia), once."""
    current = taxonomy()
    result = []
    for code in codes or ():
        while code and code not in result:
            result.append(code)
            try:
                code = current.get("bias", code).parent
            except UnknownCode:
                code = None
    return result


def report_day(occurred_on, submitted_at, zone):
    """The day an incident counts on: when it happened, else the day it was reported (in the
    place's time zone)."""
    if occurred_on is not None:
        return occurred_on
    return submitted_at.astimezone(zone).date()


def incident_rows(*, place, start, end):
    """`(day, area id, category, group key)` rows (a generator) of the place's reports from
    `start` to `end` (dates, inclusive) for `detection.weekly_series`: one row per report and
    category (each bias motivation with its parents, and the incident type). The group key is
    the address of the reported content (`Report.content_key`), so a post reported 500 times
    is one incident.
    """
    zone = ZoneInfo(place.timezone)
    first = datetime.combine(start, time.min, tzinfo=zone)
    last = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
    reports = Report.objects.filter(place=place).filter(
        Q(occurred_on__gte=start, occurred_on__lte=end)
        | Q(occurred_on__isnull=True, submitted_at__gte=first, submitted_at__lt=last)
    )
    values = reports.values_list(
        "occurred_on", "submitted_at", "area_id", "bias", "incident_type", "content_key"
    ).order_by()
    parents = {}
    # A generator over a server-side cursor: years of reports never sit in memory at once
    # (weekly_series keeps only the grouped ones until it has seen them all).
    for occurred_on, submitted_at, area_id, bias, incident_type, key in values.iterator(
        chunk_size=5000
    ):
        day = report_day(occurred_on, submitted_at, zone)
        codes = tuple(bias or ())
        if codes not in parents:
            parents[codes] = _bias_with_parents(codes)
        for code in parents[codes]:
            yield (day, area_id, category_key(Axis.BIAS, code), key)
        if incident_type:
            yield (day, area_id, category_key(Axis.INCIDENT_TYPE, incident_type), key)


def first_report_day(*, place, not_before):
    """The earliest day any report of the place counts on (not before `not_before`), or None."""
    zone = ZoneInfo(place.timezone)
    reports = Report.objects.filter(place=place)
    occurred = (
        reports.filter(occurred_on__gte=not_before)
        .order_by("occurred_on")
        .values_list("occurred_on", flat=True)
        .first()
    )
    submitted = (
        reports.filter(
            submitted_at__gte=datetime.combine(not_before, time.min, tzinfo=zone),
            occurred_on__isnull=True,
        )
        .order_by("submitted_at")
        .values_list("submitted_at", flat=True)
        .first()
    )
    days = [d for d in (occurred, submitted and submitted.astimezone(zone).date()) if d]
    return min(days) if days else None


# --- alarms ---------------------------------------------------------------------------------


def alarm_list(*, place, status=None, area=None, axis=None, category=None, since=None):
    """The place's alarms, newest week first (the area joined)."""
    alarms = Alarm.objects.filter(place=place).select_related("area")
    if status:
        alarms = alarms.filter(status=status)
    if area is not None:
        alarms = alarms.filter(area=area)
    if axis:
        alarms = alarms.filter(axis=axis)
    if category:
        alarms = alarms.filter(category=category)
    if since is not None:
        alarms = alarms.filter(week__gte=since)
    return alarms.order_by("-week", "q_value", "id")


def recent_open_alarms(*, place, limit=5):
    return list(alarm_list(place=place, status=AlarmStatus.OPEN)[:limit])


def access_alarm(*, place, alarm_id):
    """The alarm of this place with this id, or None (the same for missing and not yours)."""
    return alarm_list(place=place).filter(pk=alarm_id).first()


def last_run(*, place):
    return DetectionRun.objects.filter(place=place).order_by("-ran_at", "-id").first()


def category_label(axis, code, language):
    """The category's label in `language`: today's wording, an older version's for a retired
    code, the code itself when no version knows it (docs/taxonomy.md "Versions")."""
    return display_label(axis, code, language)


# --- subscriptions --------------------------------------------------------------------------


def subscription_get(*, place, organisation):
    """The organisation's subscription in the place (its areas prefetched), or None."""
    return (
        AlertSubscription.objects.filter(place=place, organisation=organisation)
        .prefetch_related(Prefetch("areas", queryset=Area.objects.filter(place=place)))
        .first()
    )


def subscription_list(*, place, active_only=False):
    subscriptions = AlertSubscription.objects.filter(place=place).select_related("organisation")
    if active_only:
        subscriptions = subscriptions.filter(is_active=True)
    return subscriptions.prefetch_related(
        Prefetch("areas", queryset=Area.objects.filter(place=place))
    ).order_by("organisation__name", "id")


def subscription_matches(subscription, alarm):
    """Whether `alarm` is one `subscription` asked for (see AlertSubscription)."""
    if not subscription.is_active:
        return False
    area_ids = {area.pk for area in subscription.areas.all()}
    if alarm.area_id is not None and area_ids and alarm.area_id not in area_ids:
        return False
    if subscription.all_categories:
        return True
    wanted = subscription.bias if alarm.axis == Axis.BIAS else subscription.incident_types
    if alarm.axis == Axis.BIAS:
        # Subscribed to a parent (racism and xenophobia): its sub-values' alarms too.
        return bool(set(_bias_with_parents([alarm.category])) & set(wanted))
    return alarm.category in wanted


def subscribers_of(*, place, alarm, subscriptions=None):
    """Active subscriptions matching `alarm`, as (subscription, inbox, place_team): the inbox
    address of each organisation's active listing in the place (`inbox_email`, empty when it
    has none) and whether the organisation runs Locus there (`manages_place`: the team, which
    reads the alarm's figures; a partner is told the week, the area and the category only)."""
    if subscriptions is None:
        subscriptions = subscription_list(place=place, active_only=True)
    matching = [s for s in subscriptions if subscription_matches(s, alarm)]
    listings = {
        organisation_id: (inbox, manages_place)
        for organisation_id, inbox, manages_place in OrganisationListing.objects.filter(
            place=place, is_active=True, organisation_id__in=[s.organisation_id for s in matching]
        ).values_list("organisation_id", "inbox_email", "manages_place")
    }
    # An organisation no longer listed in the place hears nothing.
    return [(s, *listings[s.organisation_id]) for s in matching if s.organisation_id in listings]


NOTICE_WEEKS = 52
NOTICES_MAX = 50


def notice_list(*, place, subscription, today=None, weeks=NOTICE_WEEKS, limit=NOTICES_MAX):
    """The alarms of the last `weeks` judged weeks that `subscription` covers, newest first (at
    most `limit`): what its organisation is told of. Empty without an active subscription."""
    if subscription is None or not subscription.is_active:
        return []
    if today is None:
        today = timezone.now().astimezone(ZoneInfo(place.timezone)).date()
    since = last_complete_week(today) - timedelta(weeks=weeks - 1)
    notices = []
    for alarm in alarm_list(place=place, since=since):
        if subscription_matches(subscription, alarm):
            notices.append(alarm)
            if len(notices) == limit:
                break
    return notices


def last_complete_week(today: date) -> date:
    """The Monday of the last week that has ended by `today`."""
    return today - timedelta(days=today.weekday() + 7)


def alarm_series(*, place, alarm, weeks_before=26, weeks_after=8, today=None):
    """The alarm's series around its week, for its chart: [(monday, incidents, reports)] from
    `weeks_before` weeks before the alarm's week to `weeks_after` after it (never past the
    last week that has ended). Counted as the detection counts (grouped reports once)."""
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from locus.insights.detection import WHOLE_PLACE, weekly_series

    today = today or timezone.now().astimezone(ZoneInfo(place.timezone)).date()
    start = alarm.week - timedelta(weeks=weeks_before)
    last = min(alarm.week + timedelta(weeks=weeks_after), last_complete_week(today))
    last = max(last, alarm.week)
    category = category_key(alarm.axis, alarm.category)
    rows = [
        row
        for row in incident_rows(place=place, start=start, end=last + timedelta(days=6))
        if row[2] == category
    ]
    series = weekly_series(rows, start=start, end=last)
    key = (WHOLE_PLACE if alarm.area_id is None else alarm.area_id, category)
    counts = series.counts.get(key, [0] * len(series.weeks))
    reports = series.reports.get(key, [0] * len(series.weeks))
    return list(zip(series.weeks, counts, reports, strict=True))


def series_chart(points, *, alarm, width=640, height=260):
    """Geometry of the alarm's weekly bar chart (SVG units): bars, the alarm's week marked,
    lines at its expected count and at the largest count that would not have alarmed."""
    left, right, top, bottom = 40, 12, 12, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([c for _w, c, _r in points] + [alarm.upper_bound, alarm.expected, 1])
    step = max(1, round(peak / 4 + 0.4999))
    y_max = step * (int(peak // step) + 1)
    slot = plot_w / max(len(points), 1)
    marked = next((i for i, (week, _c, _r) in enumerate(points) if week == alarm.week), 0)

    def y(value):
        return round(top + plot_h - value / y_max * plot_h, 1)

    bars = [
        {
            "x": round(left + i * slot + slot * 0.15, 1),
            "y": y(count),
            "width": round(slot * 0.7, 1),
            "height": round(plot_h * count / y_max, 1),
            "week": week,
            "count": count,
            "count_label": chart_number(count),
            "alarm": week == alarm.week,
            "label": (i - marked) % 4 == 0,  # every fourth week, counted from the alarm's
            "label_x": round(left + i * slot + slot / 2, 1),
        }
        for i, (week, count, _reports) in enumerate(points)
    ]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "top": top,
        "bottom": top + plot_h,
        "bars": bars,
        "ticks": [{"at": y(v), "label": chart_number(v)} for v in range(0, y_max + 1, step)],
        "expected_y": y(alarm.expected),
        "upper_y": y(alarm.upper_bound),
        "label_y": top + plot_h + 16,
    }

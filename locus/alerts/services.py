"""Writes for alerts: subscriptions, detection runs (alarms and their notifications), closing
an alarm, and the demo (docs/insights.md, "Alerts")."""

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from locus.accounts.policies import Capability, membership_can
from locus.cases.services import absolute_link
from locus.core.choices import AuditAction
from locus.core.errors import PermissionDenied, ValidationFailed
from locus.core.services import audit_record
from locus.insights.detection import DEFAULT, WHOLE_PLACE, detect_many, week_start, weekly_series
from locus.outbox.services import outbox_enqueue_email, outbox_enqueue_event
from locus.places.models import Area
from locus.reporting.taxonomy import taxonomy

from . import selectors
from .choices import ALERT_EVENT, AlarmStatus
from .models import Alarm, AlertSubscription, DetectionRun

logger = logging.getLogger(__name__)

CATEGORIES_MAX = 60


# --- subscriptions --------------------------------------------------------------------------


def _check_codes(axis, codes, field_name):
    codes = list(dict.fromkeys(codes or ()))
    current = taxonomy()
    unknown = [code for code in codes if not isinstance(code, str) or not current.has(axis, code)]
    if unknown or len(codes) > CATEGORIES_MAX:
        message = (
            _("Unknown code: %(code)s") % {"code": unknown[0]} if unknown else _("Too many codes.")
        )
        raise ValidationFailed(
            _("Please correct the errors below."), fields={field_name: [message]}
        )
    return codes


def _check_areas(place, area_ids):
    area_ids = list(dict.fromkeys(area_ids or ()))
    areas = list(Area.objects.filter(place=place, pk__in=area_ids))
    if len(areas) != len(area_ids):
        raise ValidationFailed(
            _("Please correct the errors below."),
            fields={"areas": [_("Choose areas of this place.")]},
        )
    return areas


def _check_can_subscribe(membership):
    if not membership_can(membership, Capability.SUBSCRIBE_ALERTS):
        raise PermissionDenied(_("Your role does not allow this."))


@transaction.atomic
def subscription_set(
    *, place, membership, actor, area_ids=(), bias=(), incident_types=(), is_active=True
) -> AlertSubscription:
    """Create or replace the subscription of the membership's organisation in the place. No
    areas: every area; no bias and no incident types: every category."""
    _check_can_subscribe(membership)
    areas = _check_areas(place, area_ids)
    bias = _check_codes("bias", bias, "bias")
    incident_types = _check_codes("incident_type", incident_types, "incident_types")
    subscription = (
        AlertSubscription.objects.select_for_update()
        .filter(place=place, organisation_id=membership.organisation_id)
        .first()
    )
    created = subscription is None
    if created:
        subscription = AlertSubscription(place=place, organisation_id=membership.organisation_id)
    subscription.bias = bias
    subscription.incident_types = incident_types
    subscription.is_active = bool(is_active)
    subscription.updated_by = actor if actor is not None and actor.is_authenticated else None
    subscription.save()
    subscription.areas.set(areas)
    audit_record(
        action=AuditAction.ALERT_SUBSCRIPTION_CHANGED,
        actor=actor,
        place=place,
        target=subscription,
        data={
            "change": "created" if created else "updated",
            "organisation": membership.organisation_id,
            "areas": sorted(a.pk for a in areas),
            "bias": bias,
            "incident_types": incident_types,
            "active": subscription.is_active,
        },
    )
    return subscription


@transaction.atomic
def subscription_delete(*, place, membership, actor) -> bool:
    """End the organisation's subscription; returns whether there was one."""
    _check_can_subscribe(membership)
    subscription = selectors.subscription_get(place=place, organisation=membership.organisation)
    if subscription is None:
        return False
    audit_record(
        action=AuditAction.ALERT_SUBSCRIPTION_CHANGED,
        actor=actor,
        place=place,
        target=subscription,
        data={"change": "deleted", "organisation": membership.organisation_id},
    )
    subscription.delete()
    return True


@transaction.atomic
def alarm_close(*, place, alarm, actor) -> Alarm:
    """Mark an alarm as dealt with (it leaves the dashboard's list of open alarms)."""
    if alarm.place_id != place.pk:
        raise ValidationFailed(_("The alarm belongs to another place."))
    if alarm.status == AlarmStatus.CLOSED:
        return alarm
    alarm.status = AlarmStatus.CLOSED
    alarm.closed_at = timezone.now()
    alarm.closed_by = actor if actor is not None and actor.is_authenticated else None
    alarm.save(update_fields=["status", "closed_at", "closed_by"])
    return alarm


# --- detection ------------------------------------------------------------------------------


@dataclass
class RunSummary:
    week: date
    series: int = 0
    method: str = ""
    flagged: int = 0
    alarms: list = field(default_factory=list)
    new_alarms: list = field(default_factory=list)
    run: DetectionRun | None = None

    def line(self):
        return (
            f"week of {self.week:%Y-%m-%d}: {self.series} series ({self.method or 'none'}), "
            f"{self.flagged} flagged, {len(self.alarms)} alarms ({len(self.new_alarms)} new)"
        )


def _today(place, now=None):
    return (now or timezone.now()).astimezone(ZoneInfo(place.timezone)).date()


def _history(place, until_week, config):
    """The weekly incident series of the place from its first report (at most the years the
    methods use) to the end of `until_week`, or None when there is no report."""
    years = config.farrington_years * 52 + 2 * config.farrington_window + 2
    bound = until_week - timedelta(weeks=years)
    first = selectors.first_report_day(place=place, not_before=bound)
    if first is None or first > until_week + timedelta(days=6):
        return None
    end = until_week + timedelta(days=6)
    rows = selectors.incident_rows(place=place, start=first, end=end)
    return weekly_series(rows, start=first, end=end)


def _check_week(place, week, today):
    week = week_start(week)
    if week > selectors.last_complete_week(today):
        raise ValidationFailed(
            _("Only weeks that have ended can be judged."),
            fields={"week": [_("Choose a week that has ended.")]},
        )
    return week


def detection_run(*, place, week=None, now=None, config=DEFAULT, base_url="") -> RunSummary:
    """Judge one week (default: the last that has ended) of every series of the place."""
    today = _today(place, now)
    week = _check_week(place, week or selectors.last_complete_week(today), today)
    return detection_run_weeks(place=place, weeks=[week], config=config, base_url=base_url)[0]


def detection_run_since(*, place, since, now=None, config=DEFAULT, base_url="") -> list[RunSummary]:
    """Judge every week from the one holding `since` to the last that has ended (a back-fill
    after an import, or the demo), oldest first."""
    today = _today(place, now)
    last = selectors.last_complete_week(today)
    first = _check_week(place, since, today)
    weeks = [first + timedelta(weeks=i) for i in range((last - first).days // 7 + 1)]
    return detection_run_weeks(place=place, weeks=weeks, config=config, base_url=base_url)


def detection_run_weeks(*, place, weeks, config=DEFAULT, base_url="") -> list[RunSummary]:
    """Judge each of `weeks` (Mondays, ascending) with the history known now. Each week is one
    transaction: its alarms, the run's record and the outbox messages of new alarms."""
    if not weeks:
        return []
    history = _history(place, weeks[-1], config)
    areas = {area.pk: area for area in Area.objects.filter(place=place)}
    subscriptions = list(selectors.subscription_list(place=place, active_only=True))
    summaries = []
    for week in weeks:
        with transaction.atomic():
            summaries.append(
                _judge_week(place, history, week, areas, subscriptions, config, base_url)
            )
    return summaries


def _judge_week(place, history, week, areas, subscriptions, config, base_url):
    summary = RunSummary(week=week)
    if history is not None and week >= history.weeks[0]:
        t = (week - history.weeks[0]).days // 7
        # The series watched: those with at least one incident up to the week judged (a series
        # that never saw an incident cannot alarm and would only dilute the false discovery
        # rate control).
        series = {
            key: counts[: t + 1] for key, counts in history.counts.items() if any(counts[: t + 1])
        }
        if series:
            signals = detect_many(series, config=config)
            summary.series = len(signals)
            summary.method = signals[0].method
            summary.flagged = sum(s.exceeds for s in signals)
            for signal in signals:
                if not signal.alarm:
                    continue
                area_id, category = signal.key
                alarm, created = _store_alarm(
                    place, week, area_id, category, signal, history, t, len(signals)
                )
                summary.alarms.append(alarm)
                if created:
                    summary.new_alarms.append(alarm)
                    alarm.area = areas.get(area_id)
                    _notify(place, alarm, subscriptions, base_url)
    summary.run = DetectionRun.objects.create(
        place=place,
        week=week,
        series=summary.series,
        method=summary.method,
        flagged=summary.flagged,
        alarms=len(summary.alarms),
        new_alarms=len(summary.new_alarms),
    )
    if summary.new_alarms:
        logger.info(
            "spike detection place=%s week=%s: %s new alarms",
            place.pk,
            week,
            len(summary.new_alarms),
        )
    return summary


def _finite(value):
    return value if value == value and abs(value) != float("inf") else 0.0


def _store_alarm(place, week, area_id, category, signal, history, t, judged):
    axis, code = selectors.split_category(category)
    key = selectors.series_key(None if area_id is WHOLE_PLACE else area_id, category)
    existing = Alarm.objects.filter(place=place, series_key=key, week=week).first()
    if existing is not None:
        return existing, False
    reports = history.reports.get((area_id, category), [0] * (t + 1))[t]
    alarm = Alarm.objects.create(
        place=place,
        week=week,
        series_key=key,
        area_id=area_id,
        axis=axis,
        category=code,
        method=signal.method,
        observed=signal.observed,
        expected=_finite(signal.expected),
        upper_bound=_finite(signal.upper_bound),
        p_value=signal.p_value,
        q_value=signal.q_value,
        score=_finite(signal.score),
        reports=reports,
        series_judged=judged,
        details={k: _finite(v) for k, v in signal.details.items()},
    )
    return alarm, True


def alert_payload(*, place, alarm, link):
    """The `insights.alert` webhook payload: figures of the series, never anything of a
    report."""
    return {
        "alarm": alarm.pk,
        "place": place.slug,
        "week": alarm.week.isoformat(),
        "area": None if alarm.area_id is None else {"id": alarm.area_id, "name": alarm.area.name},
        "axis": alarm.axis,
        "category": alarm.category,
        "category_label": selectors.category_label(alarm.axis, alarm.category, "en"),
        "method": alarm.method,
        "observed": alarm.observed,
        "expected": round(alarm.expected, 3),
        "upper_bound": round(alarm.upper_bound, 3),
        "p_value": alarm.p_value,
        "q_value": alarm.q_value,
        "reports": alarm.reports,
        "link": link,
    }


# What a partner organisation is told of an alarm: what the alarm is about, never its counts.
NOTICE_FIELDS = ("alarm", "place", "week", "area", "axis", "category", "category_label", "link")


def alert_notice_payload(*, place, alarm, link):
    """The `insights.alert` payload for a partner organisation (one that does not run Locus
    in the place): the week, the area and the category, no figure. The exact counts are the
    place team's (docs/insights.md, "Who sees exact figures"); a partner receives only part of
    some reports."""
    payload = alert_payload(place=place, alarm=alarm, link=link)
    return {key: payload[key] for key in NOTICE_FIELDS}


def alarm_path(*, place, alarm):
    return reverse("alerts:detail", kwargs={"place_slug": place.slug, "alarm_id": alarm.pk})


def notice_path(*, place, alarm):
    """Where a partner reads an alarm's notice: its subscription page, at the alarm's row."""
    page = reverse("alerts:subscription", kwargs={"place_slug": place.slug})
    return f"{page}#alarm-{alarm.pk}"


def _notify(place, alarm, subscriptions, base_url):
    """Tell every matching subscriber, in the run's transaction: the `insights.alert` webhook
    event to its endpoints and an e-mail to its inbox with a link only. The place's team gets
    the alarm's figures and a link to them; a partner the notice and a link to its subscription
    page, which it may open."""
    variants = {}
    for place_team in (True, False):
        path = (alarm_path if place_team else notice_path)(place=place, alarm=alarm)
        link = absolute_link(path, base_url)
        payload = (alert_payload if place_team else alert_notice_payload)(
            place=place, alarm=alarm, link=link
        )
        with translation.override(place.default_language):
            subject = _("Locus: an unusual rise in reported incidents")
            body = _(
                "The weekly check found an unusual rise in incidents reported in %(place)s. See "
                "it in Locus (you will be asked to sign in):\n%(link)s\n\n"
                "This e-mail carries no details on purpose."
            ) % {"place": place.name, "link": link}
        variants[place_team] = (payload, subject, body)
    for subscription, inbox, place_team in selectors.subscribers_of(
        place=place, alarm=alarm, subscriptions=subscriptions
    ):
        payload, subject, body = variants[place_team]
        outbox_enqueue_event(
            place=place,
            organisation=subscription.organisation,
            event_type=ALERT_EVENT,
            payload=payload,
            source=alarm,
        )
        if inbox:
            outbox_enqueue_email(
                place=place,
                to=inbox,
                subject=subject,
                body=body,
                source=alarm,
                event_type=ALERT_EVENT,
            )


# --- demo -----------------------------------------------------------------------------------

# (organisation key in the demo, bias codes, incident types): no codes means everything.
DEMO_SUBSCRIPTIONS = {
    "london": [
        ("team", [], []),
        ("antisemitism", ["antisemitism"], []),
        ("anti_muslim", ["anti_muslim"], []),
    ],
}
DEMO_WEEKS = 104


def alerts_load_demo(*, place, organisations, now=None) -> list[str]:
    """The demo's subscriptions and a year of weekly detection runs (run with the place
    active), so the surge after the demo's trigger event is flagged and its subscribers were
    told. Safe to run again: subscriptions are kept, alarms are found again, not repeated."""
    lines = []
    for key, bias, incident_types in DEMO_SUBSCRIPTIONS.get(place.slug, []):
        organisation = organisations.get(key)
        if organisation is None:
            continue
        if selectors.subscription_get(place=place, organisation=organisation) is None:
            AlertSubscription.objects.create(
                place=place, organisation=organisation, bias=bias, incident_types=incident_types
            )
            lines.append(f"  alert subscription: {organisation.name}")
    today = _today(place, now)
    last = selectors.last_complete_week(today)
    # Every week since the history allows a judgement (the weekly runs the city would have
    # had), at most the last two years.
    first = selectors.first_report_day(place=place, not_before=last - timedelta(weeks=DEMO_WEEKS))
    if first is None:
        return lines
    since = max(
        week_start(first) + timedelta(weeks=DEFAULT.ears_baseline + 1),
        last - timedelta(weeks=DEMO_WEEKS - 1),
    )
    # Weeks an earlier demo load already judged are not judged again.
    judged = DetectionRun.objects.filter(week__gte=since).order_by("-week").first()
    if judged is not None:
        since = max(since, judged.week + timedelta(weeks=1))
    if since > last:
        return lines
    summaries = detection_run_since(place=place, since=since, now=now)
    found = sum(len(s.new_alarms) for s in summaries)
    lines.append(f"{place.name}: spike detection over {len(summaries)} weeks, {found} new alarms")
    for summary in summaries:
        for alarm in summary.new_alarms:
            where = alarm.area.name if alarm.area_id else place.name
            lines.append(
                f"  alarm: week of {alarm.week:%d %b %Y}, {alarm.axis} {alarm.category} in "
                f"{where}: {alarm.observed} incidents, {alarm.expected:.1f} expected"
            )
    return lines

"""Reads for programmes: every function takes the place (and the actor where it matters) and
owns its `select_related` / `prefetch_related`, so lists do not grow in queries with rows."""

import calendar
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Prefetch

from locus.core.ids import is_token
from locus.library.vocabulary import label_in

from . import policies
from .choices import IndicatorLevel
from .models import (
    EvidenceFile,
    Indicator,
    Programme,
    ReportingPeriod,
    Result,
    Survey,
    SurveyQuestion,
    SurveyResponse,
)


def _indicators_prefetch(place):
    """Indicators as `.indicator_list`, each with its results as `.result_list`."""
    return Prefetch(
        "indicators",
        queryset=Indicator.objects.filter(place=place)
        .prefetch_related(
            Prefetch(
                "results",
                queryset=Result.objects.filter(place=place)
                .select_related("period")
                .order_by("period__start"),
                to_attr="result_list",
            )
        )
        .order_by("-level", "order", "id"),
        to_attr="indicator_list",
    )


def programme_list(place, membership):
    """The programmes of the person's organisation in the place, with `.indicator_list`."""
    return (
        Programme.objects.filter(place=place, organisation_id=membership.organisation_id)
        .select_related("organisation")
        .prefetch_related("areas", _indicators_prefetch(place))
        .order_by("-start_date", "title", "id")
    )


def access_programme(place, membership, programme_id, *, read=False):
    """The programme if the actor may manage it (or, with `read`, read it); None otherwise —
    the same answer for "missing" and "not yours"."""
    programme = (
        Programme.objects.filter(place=place, pk=programme_id)
        .select_related("organisation", "library_record")
        .first()
    )
    if programme is None:
        return None
    allowed = policies.can_read if read else policies.can_manage
    return programme if allowed(membership, programme) else None


def indicators_with_results(programme):
    """The programme's indicators, each with `.result_list` ordered by period."""
    return list(
        Indicator.objects.filter(place=programme.place_id, programme=programme)
        .prefetch_related(
            Prefetch(
                "results",
                queryset=Result.objects.filter(place=programme.place_id)
                .select_related("period")
                .order_by("period__start"),
                to_attr="result_list",
            )
        )
        .order_by("-level", "order", "id")
    )


def period_list(programme):
    return list(
        ReportingPeriod.objects.filter(place=programme.place_id, programme=programme)
        .annotate(
            result_count=Count("results", distinct=True), file_count=Count("files", distinct=True)
        )
        .order_by("start", "id")
    )


def access_period(programme, period_id):
    return ReportingPeriod.objects.filter(
        place=programme.place_id, programme=programme, pk=period_id
    ).first()


def period_files(period):
    return EvidenceFile.objects.filter(place=period.place_id, period=period).select_related(
        "uploaded_by"
    )


def access_indicator(programme, indicator_id):
    return Indicator.objects.filter(
        place=programme.place_id, programme=programme, pk=indicator_id
    ).first()


def indicator_dependants(indicator):
    """What deleting an indicator would remove: its reported results, its surveys and the
    answers they hold."""
    place = indicator.place_id
    return {
        "results": Result.objects.filter(place=place, indicator=indicator).count(),
        "surveys": Survey.objects.filter(place=place, indicator=indicator).count(),
        "responses": SurveyResponse.objects.filter(
            place=place, survey__indicator=indicator
        ).count(),
    }


def survey_list(programme):
    return list(
        Survey.objects.filter(place=programme.place_id, indicator__programme=programme)
        .select_related("indicator", "period")
        .annotate(response_count=Count("responses", distinct=True))
        .order_by("period__start", "phase", "id")
    )


def access_survey(programme, survey_id):
    return (
        Survey.objects.filter(
            place=programme.place_id, indicator__programme=programme, pk=survey_id
        )
        .select_related("indicator", "period")
        .first()
    )


def survey_questions(survey):
    return list(SurveyQuestion.objects.filter(place=survey.place_id, survey=survey))


def survey_by_token(place, token):
    """An open or closed survey of the place by its public token (None if unknown)."""
    if not is_token(token):
        return None
    return (
        Survey.objects.filter(place=place, token=token)
        .select_related("indicator__programme__organisation", "period")
        .first()
    )


# How long a reporting period is, by the indicators' frequency (months).
FREQUENCY_MONTHS = {"monthly": 1, "quarterly": 3, "half_yearly": 6, "yearly": 12}


def next_period(programme, indicators):
    """The period after the last one (or from the programme's start), as long as the most
    frequent indicator asks, within the programme's dates: the form's suggestion."""
    months = min((FREQUENCY_MONTHS.get(i.frequency, 3) for i in indicators), default=3)
    last = (
        ReportingPeriod.objects.filter(place=programme.place_id, programme=programme)
        .order_by("-end")
        .values_list("end", flat=True)
        .first()
    )
    start = last + timedelta(days=1) if last else programme.start_date
    if start > programme.end_date:
        return {}
    month = start.month - 1 + months
    year, month = start.year + month // 12, month % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    end = min(date(year, month, day) - timedelta(days=1), programme.end_date)
    return {"start": start, "end": end}


# --- progress ------------------------------------------------------------------------------


def effective_target(indicator):
    return indicator.target


def progress_share(indicator, value):
    """How far `value` has come from the baseline to the target, 0–100 (None if unknown).
    For an indicator where lower is better, coming down counts."""
    if value is None or indicator.target is None:
        return None
    baseline = indicator.baseline if indicator.baseline is not None else Decimal(0)
    span = indicator.target - baseline
    if span == 0:
        return Decimal(100) if value == indicator.target else Decimal(0)
    share = (Decimal(value) - baseline) / span * 100
    return max(Decimal(0), min(Decimal(100), share)).quantize(Decimal("1"))


def indicator_progress(indicator):
    """The latest value and its progress for an indicator with `.result_list`."""
    values = [r for r in indicator.result_list if r.value is not None]
    latest = values[-1] if values else None
    return {
        "latest": latest,
        "share": progress_share(indicator, latest.value) if latest else None,
    }


def programme_progress(indicators):
    """The mean progress of the indicators that have a value (None when none has)."""
    shares = [
        p["share"] for p in (indicator_progress(i) for i in indicators) if p["share"] is not None
    ]
    if not shares:
        return None
    return (sum(shares) / len(shares)).quantize(Decimal("1"))


# --- the place's portfolio -----------------------------------------------------------------


def _report_period(programme):
    """The period whose report the portfolio opens: the latest marked as reported, else the
    latest with a value, else the latest. The newest period is often still open (the demo's
    third quarter), and its report said "Not reported" for every indicator. Uses the
    prefetched `period_list` and `indicator_list` (no query)."""
    periods = programme.period_list
    with_values = {
        result.period_id
        for indicator in programme.indicator_list
        for result in indicator.result_list
        if result.value is not None
    }
    for chosen in (
        [p for p in periods if p.submitted_at],
        [p for p in periods if p.pk in with_values],
        periods,
    ):
        if chosen:
            return chosen[-1]
    return None


def portfolio(place, language):
    """Every programme of the place with its organisation, areas and progress, and the same
    programmes grouped by area, target group and type of intervention. A fixed number of
    queries whatever the number of programmes."""
    programmes = list(
        Programme.objects.filter(place=place)
        .select_related("organisation")
        .prefetch_related(
            "areas",
            Prefetch(
                "periods",
                queryset=ReportingPeriod.objects.filter(place=place).order_by("start"),
                to_attr="period_list",
            ),
            Prefetch(
                "indicators",
                queryset=Indicator.objects.filter(place=place).prefetch_related(
                    Prefetch(
                        "results",
                        queryset=Result.objects.filter(place=place)
                        .select_related("period")
                        .order_by("period__start"),
                        to_attr="result_list",
                    )
                ),
                to_attr="indicator_list",
            ),
        )
        .order_by("title", "id")
    )
    by_area, by_group, by_intervention = defaultdict(list), defaultdict(list), defaultdict(list)
    rows = []
    for programme in programmes:
        row = {
            "programme": programme,
            "areas": list(programme.areas.all()),
            "intervention": label_in("intervention", programme.intervention, language),
            "target_groups": [
                label_in("target_group", code, language) for code in programme.target_groups
            ],
            "progress": programme_progress(programme.indicator_list),
            "latest_period": _report_period(programme),
            "outcomes": sum(
                1 for i in programme.indicator_list if i.level == IndicatorLevel.OUTCOME
            ),
        }
        rows.append(row)
        for area in row["areas"] or [None]:
            by_area[area.name if area else ""].append(row)
        for label in row["target_groups"]:
            by_group[label].append(row)
        by_intervention[row["intervention"]].append(row)

    def grouped(groups):
        return [
            {"label": label, "rows": items, "count": len(items)}
            for label, items in sorted(groups.items(), key=lambda kv: (kv[0] == "", kv[0]))
        ]

    from locus.places.models import Area

    covered = {area.pk for row in rows for area in row["areas"]}
    whole_place = any(not row["areas"] for row in rows)
    uncovered = (
        []
        if whole_place
        else [
            name
            for pk, name in Area.objects.filter(place=place)
            .order_by("name")
            .values_list("pk", "name")
            if pk not in covered
        ]
    )
    return {
        "rows": rows,
        "areas_without": uncovered,
        "by_area": grouped(by_area),
        "by_target_group": grouped(by_group),
        "by_intervention": grouped(by_intervention),
        "organisations": len({row["programme"].organisation_id for row in rows}),
    }


def place_programmes_for_export(place, programme_ids=None):
    """The programmes written to IATI, with everything the file needs, in a fixed number of
    queries."""
    queryset = Programme.objects.filter(place=place)
    if programme_ids is not None:
        queryset = queryset.filter(pk__in=programme_ids)
    return list(
        queryset.select_related("organisation", "place")
        .prefetch_related(
            "areas",
            Prefetch(
                "indicators",
                queryset=Indicator.objects.filter(place=place)
                .prefetch_related(
                    Prefetch(
                        "results",
                        queryset=Result.objects.filter(place=place)
                        .select_related("period")
                        .order_by("period__start"),
                        to_attr="result_list",
                    )
                )
                .order_by("-level", "order", "id"),
                to_attr="indicator_list",
            ),
        )
        .order_by("start_date", "id")
    )

"""Writes for programmes: each a keyword-only function in one transaction that validates,
writes, audits and returns the object. Views, the API, the commands and the demo all call
these."""

import re
import secrets
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from locus.core.choices import AuditAction
from locus.core.errors import ValidationFailed
from locus.core.files import inspect_upload
from locus.core.ids import parse_id
from locus.core.services import audit_record
from locus.core.storage import delete_on_commit, opaque_name
from locus.directory.selectors import listing_exists
from locus.library.vocabulary import vocabulary
from locus.places.models import Area

from . import scoring
from .bank import bank_measure
from .choices import (
    DIMENSIONS,
    IndicatorLevel,
    Measure,
    ProgrammeStatus,
    QuestionDimension,
    QuestionKind,
    ResultSource,
    SurveyPhase,
)
from .models import (
    TOC_FIELDS,
    EvidenceFile,
    Indicator,
    Programme,
    ReportingPeriod,
    Result,
    Survey,
    SurveyQuestion,
    SurveyResponse,
)

MAX_VALUE = Decimal("999999999999.99")
MAX_TOC_CHARS = 4000
MAX_FILES_PER_PERIOD = 20
MAX_QUESTIONS = 20
MAX_OPTIONS = 10
CURRENCIES = ("GBP", "EUR", "SEK", "USD", "NOK", "DKK", "CHF")


def _fail(fields):
    raise ValidationFailed(_("Please correct the errors below."), fields=fields)


def _decimal(value, name, errors, *, required=False, minimum=None):
    if value in (None, ""):
        if required:
            errors[name] = [_("This field is required.")]
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors[name] = [_("Enter a number.")]
        return None
    if not number.is_finite() or abs(number) > MAX_VALUE:
        errors[name] = [_("Enter a smaller number.")]
        return None
    if minimum is not None and number < minimum:
        errors[name] = [_("Enter a number of at least %(minimum)s.") % {"minimum": minimum}]
        return None
    return number.quantize(Decimal("0.01"))


# --- programmes ----------------------------------------------------------------------------


def _clean_programme(place, data, errors):
    vocab = vocabulary()
    title = " ".join(str(data.get("title") or "").split())
    if not title:
        errors["title"] = [_("This field is required.")]
    start, end = data.get("start_date"), data.get("end_date")
    if not isinstance(start, date):
        errors["start_date"] = [_("Enter a date.")]
    if not isinstance(end, date):
        errors["end_date"] = [_("Enter a date.")]
    if isinstance(start, date) and isinstance(end, date) and end < start:
        errors["end_date"] = [_("The end cannot be before the start.")]
    intervention = data.get("intervention") or ""
    if not vocab.has("intervention", intervention):
        errors["intervention"] = [_("Choose a type of intervention.")]
    groups = list(dict.fromkeys(data.get("target_groups") or []))
    for code in groups:
        if not vocab.has("target_group", code):
            errors["target_groups"] = [_("Unknown target group: %(code)s") % {"code": code}]
    currency = (data.get("currency") or "GBP").upper()
    if currency not in CURRENCIES:
        errors["currency"] = [_("Choose a currency.")]
    status = data.get("status") or ProgrammeStatus.ACTIVE
    if status not in ProgrammeStatus.values:
        errors["status"] = [_("Choose a status.")]
    areas = list(data.get("areas") or [])
    for area in areas:
        # A foreign key into another place is a validation error, never a silent link.
        if not isinstance(area, Area) or area.place_id != place.pk:
            errors["areas"] = [_("Choose areas of this place.")]
            areas = []
            break
    iati_ref = str(data.get("iati_org_ref") or "").strip()
    # IATI identifiers hold no whitespace nor "/", "&", "|", "?" (IATI rule on iati-identifier,
    # which starts with this reference).
    if iati_ref and (len(iati_ref) > 60 or "-" not in iati_ref or re.search(r"[\s/&|?]", iati_ref)):
        errors["iati_org_ref"] = [_("An IATI organisation identifier looks like GB-CHC-1234567.")]
    return {
        "title": title[:200],
        "summary": str(data.get("summary") or "").strip(),
        "start_date": start,
        "end_date": end,
        "budget": _decimal(data.get("budget"), "budget", errors, minimum=0),
        "currency": currency,
        "funders": "\n".join(
            line.strip() for line in str(data.get("funders") or "").splitlines() if line.strip()
        ),
        "intervention": intervention,
        "target_groups": groups,
        "status": status,
        "iati_org_ref": iati_ref,
    }, areas


@transaction.atomic
def programme_create(*, place, organisation, actor, data) -> Programme:
    """A programme of `organisation` (listed in the place) in the place."""
    errors = {}
    if not listing_exists(place=place, organisation=organisation):
        errors["organisation"] = [_("This organisation does not work in this place.")]
    cleaned, areas = _clean_programme(place, data, errors)
    if errors:
        _fail(errors)
    programme = Programme(place=place, organisation=organisation, created_by=actor, **cleaned)
    programme.save()
    programme.areas.set(areas)
    audit_record(
        action=AuditAction.PROGRAMME_CHANGED,
        actor=actor,
        place=place,
        target=programme,
        data={"change": "created"},
    )
    return programme


@transaction.atomic
def programme_update(*, programme, actor, data) -> Programme:
    errors = {}
    cleaned, areas = _clean_programme(programme.place, data, errors)
    if errors:
        _fail(errors)
    changed = [name for name, value in cleaned.items() if getattr(programme, name) != value]
    for name, value in cleaned.items():
        setattr(programme, name, value)
    programme.save()
    before = set(programme.areas.values_list("pk", flat=True))
    if before != {area.pk for area in areas}:
        programme.areas.set(areas)
        changed.append("areas")
    audit_record(
        action=AuditAction.PROGRAMME_CHANGED,
        actor=actor,
        place=programme.place,
        target=programme,
        data={"change": "updated", "fields": changed},
    )
    return programme


@transaction.atomic
def programme_set_theory_of_change(*, programme, actor, data) -> Programme:
    """Save the guided theory of change (one item per line in each part)."""
    errors, changed = {}, []
    for name in TOC_FIELDS:
        if name not in data:
            continue
        text = "\n".join(
            line.rstrip() for line in str(data[name] or "").replace("\r\n", "\n").split("\n")
        ).strip()
        if len(text) > MAX_TOC_CHARS:
            errors[name] = [_("Write at most %(limit)s characters.") % {"limit": MAX_TOC_CHARS}]
            continue
        if getattr(programme, name) != text:
            setattr(programme, name, text)
            changed.append(name)
    if errors:
        _fail(errors)
    if changed:
        programme.save()
        audit_record(
            action=AuditAction.PROGRAMME_CHANGED,
            actor=actor,
            place=programme.place,
            target=programme,
            data={"change": "theory_of_change", "fields": changed},
        )
    return programme


# --- indicators ----------------------------------------------------------------------------


@transaction.atomic
def indicator_save(*, programme, actor, data, indicator=None) -> Indicator:
    """Create (or change) an indicator. `bank_code` fills what is not given from the bank."""
    errors = {}
    measure_from_bank = bank_measure(data.get("bank_code") or "")
    if data.get("bank_code") and measure_from_bank is None:
        errors["bank_code"] = [_("Unknown measure in the indicator bank.")]
    defaults = {}
    if measure_from_bank:
        defaults = {
            "title": measure_from_bank.title,
            "description": measure_from_bank.description,
            "level": measure_from_bank.level,
            "measure": measure_from_bank.measure,
        }
    title = " ".join(str(data.get("title") or defaults.get("title", "")).split())[:300]
    if not title:
        errors["title"] = [_("This field is required.")]
    level = data.get("level") or defaults.get("level")
    if level not in IndicatorLevel.values:
        errors["level"] = [_("Choose output or outcome.")]
    measure = data.get("measure") or defaults.get("measure") or Measure.NUMBER
    if measure not in Measure.values:
        errors["measure"] = [_("Choose how it is counted.")]
    baseline = _decimal(data.get("baseline"), "baseline", errors)
    target = _decimal(data.get("target"), "target", errors, required=True)
    if measure == Measure.PERCENT:
        for name, value in (("baseline", baseline), ("target", target)):
            if value is not None and not 0 <= value <= 100 and name not in errors:
                errors[name] = [_("A percentage is between 0 and 100.")]
    baseline_year = data.get("baseline_year")
    if baseline_year in ("", None):
        baseline_year = None
    else:
        try:
            baseline_year = int(baseline_year)
            if not 1900 <= baseline_year <= 2100:
                raise ValueError
        except (TypeError, ValueError):
            errors["baseline_year"] = [_("Enter a year, like 2025.")]
            baseline_year = None
    if baseline is not None and baseline_year is None and "baseline_year" not in errors:
        errors["baseline_year"] = [_("Give the year of the baseline.")]
    frequency = data.get("frequency") or "quarterly"
    from .choices import Frequency

    if frequency not in Frequency.values:
        errors["frequency"] = [_("Choose how often it is reported.")]
    if errors:
        _fail(errors)
    if indicator is None:
        indicator = Indicator(place=programme.place, programme=programme)
        indicator.order = programme.indicators.count()
    indicator.level = level
    indicator.title = title
    indicator.description = str(data.get("description") or defaults.get("description", "")).strip()
    indicator.measure = measure
    indicator.unit = str(data.get("unit") or "").strip()[:60]
    indicator.baseline = baseline
    indicator.baseline_year = baseline_year
    indicator.target = target
    indicator.ascending = bool(data.get("ascending", True))
    indicator.frequency = frequency
    indicator.by_gender = bool(data.get("by_gender"))
    indicator.by_age = bool(data.get("by_age"))
    indicator.by_area = bool(data.get("by_area"))
    indicator.bank_code = measure_from_bank.code if measure_from_bank else ""
    indicator.save()
    audit_record(
        action=AuditAction.PROGRAMME_CHANGED,
        actor=actor,
        place=programme.place,
        target=programme,
        data={"change": "indicator", "indicator": indicator.pk},
    )
    return indicator


@transaction.atomic
def indicator_delete(*, indicator, actor):
    """Delete an indicator that has no reported results and no survey answers (its unanswered
    surveys go with it). Refused otherwise: results are the programme's record, so an
    indicator that has them stays (clear its values on the results page first)."""
    from .selectors import indicator_dependants

    programme = indicator.programme
    dependants = indicator_dependants(indicator)
    if dependants["results"] or dependants["responses"]:
        raise ValidationFailed(
            _(
                "This indicator cannot be deleted: it has reported results or survey answers, "
                "which are part of the programme's record. Edit it instead, or clear its "
                "entered values on the results pages first."
            ),
            code="has_results",
            fields={"indicator": [_("It has reported results or survey answers.")]},
        )
    record = {
        "change": "indicator_deleted",
        "indicator": indicator.pk,
        "title": indicator.title,
        "level": indicator.level,
        "bank_code": indicator.bank_code,
        "surveys_deleted": dependants["surveys"],
    }
    indicator.delete()
    audit_record(
        action=AuditAction.PROGRAMME_CHANGED,
        actor=actor,
        place=programme.place,
        target=programme,
        data=record,
    )


# --- reporting periods and results ---------------------------------------------------------


@transaction.atomic
def period_create(*, programme, actor, start, end, due=None) -> ReportingPeriod:
    errors = {}
    if not isinstance(start, date):
        errors["start"] = [_("Enter a date.")]
    if not isinstance(end, date):
        errors["end"] = [_("Enter a date.")]
    if not errors:
        if end < start:
            errors["end"] = [_("The end cannot be before the start.")]
        elif start < programme.start_date or end > programme.end_date:
            errors["start"] = [_("The period must fall within the programme's dates.")]
        elif ReportingPeriod.objects.filter(
            place=programme.place, programme=programme, start__lte=end, end__gte=start
        ).exists():
            errors["start"] = [_("This period overlaps another one.")]
    if due is not None and not isinstance(due, date):
        errors["due"] = [_("Enter a date.")]
    if errors:
        _fail(errors)
    period = ReportingPeriod.objects.create(
        place=programme.place,
        programme=programme,
        start=start,
        end=end,
        due=due or end + timedelta(days=14),
    )
    audit_record(
        action=AuditAction.PROGRAMME_CHANGED,
        actor=actor,
        place=programme.place,
        target=programme,
        data={"change": "period", "period": period.pk},
    )
    return period


def _clean_breakdown(indicator, raw, area_ids, errors, key):
    """{dimension: {group: number}} limited to the indicator's dimensions and known groups."""
    cleaned = {}
    for dimension in indicator.dimensions:
        allowed = (
            {str(pk) for pk in area_ids}
            if dimension == "area"
            else set(DIMENSIONS[dimension].values)
        )
        values = (raw or {}).get(dimension) or {}
        if not isinstance(values, dict):
            errors[key] = [_("Give the breakdown as numbers per group.")]
            continue
        groups = {}
        for group, value in values.items():
            if str(group) not in allowed:
                errors[key] = [_("Unknown group in the breakdown: %(group)s") % {"group": group}]
                continue
            number = _decimal(value, key, errors, minimum=0)
            if number is not None:
                groups[str(group)] = float(number)
        if groups:
            cleaned[dimension] = groups
    return cleaned


@transaction.atomic
def results_report(*, period, actor, values, narrative=None, submit=False, reopen=False):
    """Save the period's results: `values` is {indicator id: {"value", "disaggregation",
    "comment"}}; a blank value clears an entered result (a survey's result is kept).
    `submit` marks the period as reported (a period already reported keeps the date it was
    first reported); `reopen` takes a reported period back to open, for a correction the
    charity still has to finish (the results page's box, unticked). Audited as
    RESULTS_REPORTED."""
    programme = period.programme
    indicators = {
        i.pk: i for i in Indicator.objects.filter(place=period.place_id, programme=programme)
    }
    area_ids = set(programme.areas.values_list("pk", flat=True))
    errors, cleaned = {}, {}
    for indicator_id, entry in values.items():
        indicator = indicators.get(parse_id(str(indicator_id)))
        key = f"indicator_{indicator_id}"
        if indicator is None:
            errors[key] = [_("Unknown indicator.")]
            continue
        entry = entry or {}
        value = _decimal(entry.get("value"), key, errors)
        if (
            value is not None
            and indicator.measure == Measure.PERCENT
            and not 0 <= value <= 100
            and key not in errors
        ):
            errors[key] = [_("A percentage is between 0 and 100.")]
        breakdown = _clean_breakdown(
            indicator, entry.get("disaggregation"), area_ids, errors, f"{key}_breakdown"
        )
        comment = " ".join(str(entry.get("comment") or "").split())[:500]
        cleaned[indicator.pk] = (indicator, value, breakdown, comment)
    if errors:
        _fail(errors)
    existing = {
        r.indicator_id: r for r in Result.objects.filter(place=period.place_id, period=period)
    }
    saved = 0
    for indicator_id, (indicator, value, breakdown, comment) in cleaned.items():
        result = existing.get(indicator_id)
        if result is not None and result.source == ResultSource.SURVEY:
            if comment != result.comment:
                result.comment = comment
                result.save(update_fields=["comment", "reported_at"])
            continue
        if value is None and not breakdown:
            if result is not None:
                result.delete()
            continue
        if result is None:
            result = Result(place=period.place, indicator=indicator, period=period)
        result.value = value
        result.disaggregation = breakdown
        result.comment = comment
        result.source = ResultSource.ENTERED
        result.reported_by = actor if getattr(actor, "pk", None) else None
        result.save()
        saved += 1
    fields = ["narrative"]
    if narrative is not None:
        period.narrative = str(narrative).strip()[:20000]
    reopened = bool(reopen and not submit and period.submitted_at is not None)
    if submit and period.submitted_at is None:
        period.submitted_at = timezone.now()
        period.submitted_by = actor if getattr(actor, "pk", None) else None
        fields += ["submitted_at", "submitted_by"]
    elif reopened:
        period.submitted_at = None
        period.submitted_by = None
        fields += ["submitted_at", "submitted_by"]
    period.save(update_fields=fields)
    audit_record(
        action=AuditAction.RESULTS_REPORTED,
        actor=actor,
        place=period.place,
        target=period,
        data={
            "programme": programme.pk,
            "results": saved,
            "submitted": bool(submit),
            "reopened": reopened,
        },
    )
    return period


def _check_room(period):
    if EvidenceFile.objects.filter(place=period.place_id, period=period).count() >= (
        MAX_FILES_PER_PERIOD
    ):
        raise ValidationFailed(
            _("A period holds at most %(count)s files.") % {"count": MAX_FILES_PER_PERIOD},
            fields={"files": [_("Remove a file first.")]},
        )


def evidence_add(*, period, actor, uploaded) -> EvidenceFile:
    """Store one evidence file of a period, checked by content (locus/core/files.py) and
    encrypted at rest.

    As for a report's evidence (reporting.services.evidence_stage), the file is checked
    (images re-encoded) and written before any transaction: on SQLite a transaction holds the
    writers' queue (locus/core/sqlite), which every report submission waits for. One short
    transaction then checks the cap again and inserts the row with its audit event; if it
    fails, the file is deleted (a process killed in between leaves a file no record names,
    which reporting.retention.evidence_purge_orphans deletes)."""
    _check_room(period)
    checked = inspect_upload(uploaded)
    evidence = EvidenceFile(
        place=period.place,
        period=period,
        original_name=checked.original_name or _("file"),
        mime=checked.mime,
        size=checked.size,
        sha256=checked.sha256,
        uploaded_by=actor if getattr(actor, "pk", None) else None,
    )
    evidence.file.save(
        opaque_name(prefix=f"place-{period.place_id}", suffix=f".{checked.extension}"),
        ContentFile(checked.content),
        save=False,
    )
    try:
        with transaction.atomic():
            # The period's row serialises two uploads to it, so the cap holds.
            ReportingPeriod.objects.select_for_update().filter(
                place=period.place_id, pk=period.pk
            ).exists()
            _check_room(period)
            evidence.save()
            audit_record(
                action=AuditAction.RESULTS_REPORTED,
                actor=actor,
                place=period.place,
                target=period,
                data={"programme": period.programme_id, "file_added": evidence.pk},
            )
    except BaseException:
        evidence.file.storage.delete(evidence.file.name)
        raise
    return evidence


@transaction.atomic
def evidence_delete(*, evidence, actor):
    """Delete an evidence file: the row now, the stored bytes once the deletion is committed
    (so a rolled-back deletion never leaves a row without its file)."""
    period = evidence.period
    stored_name = evidence.file.name
    storage = evidence.file.storage
    record = {
        "programme": period.programme_id,
        "file_deleted": evidence.pk,
        # Not its name: names of attendance sheets name people, and the audit log is kept for
        # good; the hash identifies the file.
        "mime": evidence.mime,
        "size": evidence.size,
        "sha256": evidence.sha256,
    }
    evidence.delete()
    audit_record(
        action=AuditAction.RESULTS_REPORTED,
        actor=actor,
        place=period.place,
        target=period,
        data=record,
    )
    delete_on_commit(storage, stored_name)


def evidence_record_download(*, period, evidence, actor) -> None:
    """Audit that a person downloaded one evidence file of a period: attendance sheets, photos
    and feedback forms name and show people, so every download is recorded, as for a report's
    evidence (EVIDENCE_DOWNLOADED; ids only)."""
    audit_record(
        action=AuditAction.EVIDENCE_DOWNLOADED,
        actor=actor,
        place=period.place,
        target=evidence,
        data={"programme": period.programme_id, "period": period.pk, "file": evidence.pk},
    )


# --- surveys -------------------------------------------------------------------------------


def _token():
    return secrets.token_urlsafe(16)


def default_questions(indicator, *, language=None):
    """A starting questionnaire: two breakdown questions and the indicator as a statement to
    agree or disagree with (the bank's sentence for a bank measure), in `language` (the
    request's) or the active language."""
    if language:
        with translation.override(language):
            return default_questions(indicator)
    from .choices import AgeBand, Gender

    measure = bank_measure(indicator.bank_code) if indicator.bank_code else None
    statement = (measure.statement if measure and measure.statement else "") or indicator.title

    return [
        {
            "text": _("Which of these describes you?"),
            "kind": QuestionKind.CHOICE,
            "options": [str(g) for g in Gender.values],
            "dimension": QuestionDimension.GENDER,
        },
        {
            "text": _("How old are you?"),
            "kind": QuestionKind.CHOICE,
            "options": [str(a) for a in AgeBand.values],
            "dimension": QuestionDimension.AGE,
        },
        {"text": statement, "kind": QuestionKind.LIKERT, "reverse": False},
    ]


def _clean_questions(questions, errors):
    cleaned = []
    if not questions:
        errors["questions"] = [_("Add at least one question.")]
    if len(questions) > MAX_QUESTIONS:
        errors["questions"] = [_("At most %(count)s questions.") % {"count": MAX_QUESTIONS}]
    for number, question in enumerate(questions, start=1):
        text = " ".join(str(question.get("text") or "").split())[:300]
        kind = question.get("kind") or QuestionKind.LIKERT
        dimension = question.get("dimension") or ""
        options = [
            " ".join(str(o).split())[:100]
            for o in (question.get("options") or [])
            if str(o).strip()
        ]
        problem = None
        if not text:
            problem = _("Question %(number)s has no text.")
        elif kind not in QuestionKind.values:
            problem = _("Question %(number)s has an unknown kind.")
        elif dimension and (kind != QuestionKind.CHOICE or dimension not in DIMENSIONS):
            problem = _("Question %(number)s: only a multiple-choice question gives a breakdown.")
        elif kind == QuestionKind.CHOICE and not 2 <= len(options) <= MAX_OPTIONS:
            problem = _("Question %(number)s needs between 2 and 10 options.")
        if problem:
            errors.setdefault("questions", []).append(problem % {"number": number})
            continue
        if dimension:
            options = [str(code) for code in DIMENSIONS[dimension].values]
        cleaned.append(
            {
                "text": text,
                "kind": kind,
                "options": options if kind == QuestionKind.CHOICE else [],
                "dimension": dimension,
                "reverse": bool(question.get("reverse")) and kind == QuestionKind.LIKERT,
            }
        )
    if not any(q["kind"] == QuestionKind.LIKERT for q in cleaned) and "questions" not in errors:
        errors["questions"] = [_("Add at least one agree–disagree question: it gives the value.")]
    return cleaned


@transaction.atomic
def survey_create(
    *,
    indicator,
    period,
    actor,
    title,
    phase=SurveyPhase.POST,
    intro="",
    questions=None,
    language=None,
) -> Survey:
    """A survey of an outcome indicator for one period of the same programme. Without
    `questions` it starts with `default_questions` in `language` (the request's)."""
    errors = {}
    if indicator.level != IndicatorLevel.OUTCOME:
        errors["indicator"] = [_("Surveys measure outcome indicators.")]
    if period.programme_id != indicator.programme_id or period.place_id != indicator.place_id:
        errors["period"] = [_("Choose a period of this programme.")]
    if phase not in SurveyPhase.values:
        errors["phase"] = [_("Choose before or after.")]
    title = " ".join(str(title or "").split())[:200]
    if not title:
        errors["title"] = [_("This field is required.")]
    cleaned = _clean_questions(
        questions if questions is not None else default_questions(indicator, language=language),
        errors,
    )
    if errors:
        _fail(errors)
    survey = Survey.objects.create(
        place=indicator.place,
        indicator=indicator,
        period=period,
        phase=phase,
        title=title,
        intro=str(intro or "").strip()[:2000],
        token=_token(),
    )
    _store_questions(survey, cleaned)
    audit_record(
        action=AuditAction.PROGRAMME_CHANGED,
        actor=actor,
        place=survey.place,
        target=indicator.programme,
        data={"change": "survey", "survey": survey.pk},
    )
    return survey


def _store_questions(survey, cleaned):
    SurveyQuestion.objects.filter(place=survey.place_id, survey=survey).delete()
    SurveyQuestion.objects.bulk_create(
        [
            SurveyQuestion(
                place=survey.place,
                survey=survey,
                order=index,
                text=q["text"],
                kind=q["kind"],
                options=q["options"],
                dimension=q["dimension"],
                reverse=q["reverse"],
            )
            for index, q in enumerate(cleaned)
        ]
    )


@transaction.atomic
def survey_update(*, survey, actor, title, intro, is_open, questions=None) -> Survey:
    errors = {}
    title = " ".join(str(title or "").split())[:200]
    if not title:
        errors["title"] = [_("This field is required.")]
    cleaned = None
    if questions is not None:
        if survey.responses.exists():
            errors["questions"] = [_("The questions cannot change once answers have come in.")]
        else:
            cleaned = _clean_questions(questions, errors)
    if errors:
        _fail(errors)
    survey.title = title
    survey.intro = str(intro or "").strip()[:2000]
    survey.is_open = bool(is_open)
    survey.save()
    if cleaned is not None:
        _store_questions(survey, cleaned)
    audit_record(
        action=AuditAction.PROGRAMME_CHANGED,
        actor=actor,
        place=survey.place,
        target=survey.indicator.programme,
        data={"change": "survey", "survey": survey.pk},
    )
    return survey


@transaction.atomic
def survey_submit(*, survey, answers, today=None) -> SurveyResponse:
    """Store one anonymous response. `answers`: {question id: value} as posted (strings).
    Likert answers are 1–5; a choice answer must be one of the question's options. Unknown
    keys are ignored; nothing else is stored (no time, no address, no identifier)."""
    if not survey.is_open:
        raise ValidationFailed(_("This survey is closed."), fields={"survey": [_("Closed.")]})
    questions = list(SurveyQuestion.objects.filter(place=survey.place_id, survey=survey))
    cleaned, errors = {}, {}
    for question in questions:
        raw = answers.get(str(question.pk))
        if raw in (None, ""):
            continue
        key = f"q{question.pk}"
        if question.kind == QuestionKind.LIKERT:
            try:
                value = int(str(raw))
            except ValueError:
                value = 0
            if not scoring.LIKERT_MIN <= value <= scoring.LIKERT_MAX:
                errors[key] = [_("Choose one of the answers.")]
                continue
            cleaned[str(question.pk)] = value
        else:
            if str(raw) not in question.options:
                errors[key] = [_("Choose one of the answers.")]
                continue
            cleaned[str(question.pk)] = str(raw)
    if errors:
        _fail(errors)
    if not cleaned:
        _fail({"survey": [_("Answer at least one question.")]})
    return SurveyResponse.objects.create(
        place=survey.place,
        survey=survey,
        answers=cleaned,
        submitted_on=today or timezone.localdate(),
    )


def survey_results(survey, *, min_count=scoring.MIN_COUNT):
    """What the survey gives now (see scoring.compute), read from its responses."""
    questions = list(SurveyQuestion.objects.filter(place=survey.place_id, survey=survey))
    likert = [(q.pk, q.reverse) for q in questions if q.kind == QuestionKind.LIKERT]
    breakdowns = {q.dimension: q.pk for q in questions if q.dimension}
    responses = SurveyResponse.objects.filter(place=survey.place_id, survey=survey).values_list(
        "answers", flat=True
    )
    return scoring.compute(
        list(responses),
        likert_items=likert,
        breakdowns=breakdowns,
        percent=survey.indicator.measure == Measure.PERCENT,
        min_count=min_count,
    )


@transaction.atomic
def survey_compute(*, survey, actor) -> Result:
    """Write the survey's value (and the breakdowns that may be shown) as the indicator's result
    for the survey's period. With a before and an after survey in the same period, the after
    survey's value is the result; the before value becomes the comment."""
    computed = survey_results(survey)
    if computed["value"] is None:
        raise ValidationFailed(
            _("At least %(count)s answers are needed before a value can be computed.")
            % {"count": scoring.MIN_COUNT},
            fields={"survey": [_("Not enough answers yet.")]},
        )
    if (
        survey.phase == SurveyPhase.PRE
        and Survey.objects.filter(
            place=survey.place_id,
            indicator=survey.indicator,
            period=survey.period,
            phase=SurveyPhase.POST,
            responses__isnull=False,
        ).exists()
    ):
        raise ValidationFailed(
            _("This period has an after survey: its value is the result."),
            fields={"survey": [_("Compute the after survey instead.")]},
        )
    result, _created = Result.objects.get_or_create(
        place=survey.place,
        indicator=survey.indicator,
        period=survey.period,
        defaults={"source": ResultSource.SURVEY},
    )
    result.value = computed["value"]
    result.disaggregation = computed["disaggregation"]
    result.respondents = computed["respondents"]
    result.source = ResultSource.SURVEY
    result.reported_by = actor if getattr(actor, "pk", None) else None
    pre = _pre_value(survey)
    result.comment = (
        _("Before: %(before)s (%(n)s answers); after: %(after)s (%(m)s answers).")
        % {
            "before": pre["value"],
            "n": pre["respondents"],
            "after": computed["value"],
            "m": computed["respondents"],
        }
        if pre and pre["value"] is not None and survey.phase == SurveyPhase.POST
        else _("From %(n)s anonymous survey answers.") % {"n": computed["respondents"]}
    )
    result.save()
    audit_record(
        action=AuditAction.RESULTS_REPORTED,
        actor=actor,
        place=survey.place,
        target=survey.period,
        data={"programme": survey.indicator.programme_id, "survey": survey.pk},
    )
    return result


def _pre_value(survey):
    pre = Survey.objects.filter(
        place=survey.place_id,
        indicator=survey.indicator,
        period=survey.period,
        phase=SurveyPhase.PRE,
    ).first()
    return survey_results(pre) if pre else None


# --- reminders -----------------------------------------------------------------------------

REMINDER_DAYS_BEFORE = 7


@transaction.atomic
def reminders_send(*, place, base_url, today=None):
    """E-mail each organisation whose period's results are due within a week (or overdue) and
    not reported yet, once per period, through the outbox: a neutral sentence and a link.
    Returns how many periods were reminded."""
    from locus.directory.models import OrganisationListing
    from locus.outbox.services import outbox_enqueue_email

    today = today or timezone.localdate()
    due = ReportingPeriod.objects.filter(
        place=place,
        submitted_at__isnull=True,
        reminded_at__isnull=True,
        due__lte=today + timedelta(days=REMINDER_DAYS_BEFORE),
        end__lte=today + timedelta(days=REMINDER_DAYS_BEFORE),
    ).select_related("programme")
    inboxes = dict(
        OrganisationListing.objects.filter(place=place, is_active=True)
        .exclude(inbox_email="")
        .values_list("organisation_id", "inbox_email")
    )
    count = 0
    for period in due:
        to = inboxes.get(period.programme.organisation_id)
        if not to:
            continue
        link = base_url.rstrip("/") + reverse(
            "programmes:results",
            kwargs={
                "place_slug": place.slug,
                "programme_id": period.programme_id,
                "period_id": period.pk,
            },
        )
        outbox_enqueue_email(
            place=place,
            to=to,
            subject=_("Programme results are due"),
            body=_(
                "The results of one of your programmes for the period %(start)s to %(end)s are "
                "due on %(due)s. Report them here: %(link)s"
            )
            % {"start": period.start, "end": period.end, "due": period.due, "link": link},
            source=period,
            event_type="programme.results_due",
        )
        period.reminded_at = timezone.now()
        period.save(update_fields=["reminded_at"])
        count += 1
    return count


# --- the evaluation in the library ---------------------------------------------------------


def _evaluation_data(programme, *, language):
    from locus.library.choices import EvidenceLevel, ResourceType

    from .reports import results_summary

    vocab = vocabulary()
    outcomes = []
    for indicator in Indicator.objects.filter(place=programme.place_id, programme=programme):
        measure = bank_measure(indicator.bank_code) if indicator.bank_code else None
        if measure and measure.outcome and measure.outcome not in outcomes:
            outcomes.append(measure.outcome)
    phases = set(
        Survey.objects.filter(
            place=programme.place_id, indicator__programme=programme, responses__isnull=False
        ).values_list("phase", flat=True)
    )
    evidence = (
        EvidenceLevel.PRE_POST
        if {SurveyPhase.PRE, SurveyPhase.POST} <= phases
        else EvidenceLevel.MONITORING_DATA
    )
    place = programme.place
    country = place.country.upper()
    localities = [place.name] + [area.name for area in programme.areas.all()]
    summary = results_summary(programme, language=language)
    reference = _("From the programme “%(title)s” (Locus, %(place)s, programme %(id)s).") % {
        "title": programme.title,
        "place": place.name,
        "id": programme.pk,
    }
    return {
        "type": ResourceType.EVALUATION,
        "title": (_("Evaluation: %(title)s") % {"title": programme.title})[:500],
        "summary": f"{summary}\n\n{reference}"[:10_000],
        "authors": [programme.organisation.name[:200]],
        "publisher": programme.organisation.name[:300],
        "year": timezone.localdate().year,
        "languages": [language],
        "countries": [country] if vocab.has("country", country) else [],
        "localities": localities[:30],
        "interventions": [programme.intervention],
        "target_groups": list(programme.target_groups),
        "outcomes": outcomes,
        "evidence_level": evidence,
    }


@transaction.atomic
def programme_publish_evaluation(*, programme, actor, language="en", base_url=""):
    """Put the programme's evaluation in the library: a record of type evaluation for the
    organisation, with the theory of change and the results summary, submitted for the library
    editors' review (library rules: contributors draft and submit, editors publish). A record
    sent back to draft is updated and submitted again; one in review or published is left as
    it is. Returns the record."""
    from locus.library import moderation
    from locus.library.choices import RecordStatus
    from locus.library.models import Record

    data = _evaluation_data(programme, language=language)
    record = (
        Record.objects.filter(pk=programme.library_record_id).first()
        if programme.library_record_id
        else None
    )
    if record is not None and record.status in (RecordStatus.IN_REVIEW, RecordStatus.PUBLISHED):
        raise ValidationFailed(
            _("The evaluation is already in the library (%(status)s).")
            % {"status": record.get_status_display()},
            fields={"library_record": [_("Already submitted.")]},
        )
    if record is None or record.status == RecordStatus.WITHDRAWN:
        record = moderation.record_draft_create(
            actor=actor, organisation=programme.organisation, data=data
        )
    else:
        moderation.record_draft_update(actor=actor, record=record, data=data)
    moderation.record_submit(actor=actor, record=record, base_url=base_url)
    record.refresh_from_db()
    programme.library_record = record
    programme.save(update_fields=["library_record", "updated_at"])
    audit_record(
        action=AuditAction.PROGRAMME_CHANGED,
        actor=actor,
        place=programme.place,
        target=programme,
        data={"change": "evaluation_published", "record": record.pk},
    )
    return record


def programmes_load_demo():
    """The demo programme (locus/programmes/demo.py); `manage.py demo` calls it. The demo place
    is London, so the bank's measures are taken in English whatever language is active."""
    from .demo import programmes_load_demo as load

    with translation.override("en"):
        return load()

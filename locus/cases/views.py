"""The caseworker inbox and case page. Parse, call one selector or service, render."""

import mimetypes
from datetime import UTC, datetime, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from locus.accounts.decorators import staff_view
from locus.accounts.models import User
from locus.accounts.policies import Capability, membership_can
from locus.core.errors import ApplicationError, ValidationFailed
from locus.core.idempotency import FORM_FIELD, form_idempotency
from locus.core.storage import open_stored
from locus.directory.models import Organisation
from locus.reporting.choices import SupportWanted
from locus.reporting.taxonomy import display_label, taxonomy

from . import policies, selectors, services
from .choices import CaseEventKind, CaseOutcome, CaseStatus, Verification
from .forms import (
    ActionForm,
    AssignForm,
    CaseFilterForm,
    ClassifyForm,
    CloseForm,
    HandOnForm,
    MergeForm,
    MessageForm,
    NoteForm,
    StatsPeriodForm,
    TargetsForm,
)

PAGE_SIZE = 50


def _label(axis, code, language, version=None):
    """A taxonomy code's label in the language (docs/taxonomy.md "Versions": today's wording
    where the code still exists, the record's version for a retired code)."""
    return display_label(axis, code, language, version)


def _add_errors(form, exc):
    """Show an application error next to its fields (or at the top of the form)."""
    if not exc.fields:
        form.add_error(None, exc.message)
    for field, msgs in exc.fields.items():
        for message in msgs:
            form.add_error(field if field in form.fields else None, message)


def _base_url(request):
    """The address this request came in on: links in messages that leave Locus start here."""
    return request.build_absolute_uri("/").rstrip("/")


_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _duration(delta):
    """A duration in words ("3 days, 4 hours"), in the active language; "" for None."""
    if delta is None:
        return ""
    return timesince(_EPOCH, _EPOCH + max(delta, timedelta(0)))


def _percent(share):
    return None if share is None else round(share * 100)


@staff_view(Capability.VIEW_PERSONAL_DATA)
def inbox(request):
    """The cases of the person's organisation (or, for the place team, of every organisation),
    filtered, with counts per status, overdue cases and unread messages. Reports of the same
    online content are one row ("reported 37 times") unless one group is opened. Below, the
    organisation's handling times against its targets."""
    place, membership, language = request.place, request.membership, get_language()
    now = timezone.now()
    form = CaseFilterForm(request.GET, place=place, membership=membership, language=language)
    form.is_valid()  # a bad value is dropped from cleaned_data: the other filters still apply
    filters = form.cleaned_data
    group = filters.get("group") or ""
    all_organisations = filters.get("scope") == "all"
    cases = selectors.case_list(place, membership, filters, grouped=not group, now=now)
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    targets = selectors.case_targets(
        place, None if all_organisations else [membership.organisation_id]
    )
    no_targets = selectors.Targets()
    rows = [
        {
            "case": case,
            "type": _label(
                "incident_type",
                case.incident_type,
                language,
                case.taxonomy_version
                if case.verified_incident_type
                else case.report.taxonomy_version,
            ),
            "shows_area": policies.case_list_shows_area(membership, case),
            "own": case.organisation_id == membership.organisation_id,
            "overdue": targets.get(case.organisation_id, no_targets).is_overdue(case, now),
            "grouped": not group and case.group_size > 1,
        }
        for case in page
    ]
    counts = selectors.case_stats(place, membership, filters, now=now)
    tabs = [("", _("All"), counts["all"])] + [
        (status.value, status.label, counts[status.value]) for status in CaseStatus
    ]
    period_form = StatsPeriodForm(request.GET)
    period = period_form.cleaned_data["period"] if period_form.is_valid() else 90
    stats = selectors.case_handling_stats(
        place, membership.organisation_id, since=now - timedelta(days=period), until=now, now=now
    )
    narrowed = any(
        filters.get(name) for name in ("incident_type", "area", "mine", "overdue", "group")
    )
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "tabs": tabs,
        # Nothing has reached this inbox yet: say how cases come, not "no cases match".
        "never_received": counts["all"] == 0 and not narrowed,
        "can_route": membership_can(membership, Capability.MANAGE_ROUTING),
        "counts": counts,
        "current_status": filters.get("status", ""),
        "overdue_only": bool(filters.get("overdue")),
        "group": group,
        "all_organisations": all_organisations,
        "stats": stats,
        "period": period,
        "periods": [(days, label) for days, label in period_form.fields["period"].choices],
        "figures": {
            "median_acknowledge": _duration(stats.median_acknowledge),
            "median_close": _duration(stats.median_close),
            "acknowledge_within": _percent(stats.acknowledge_within),
            "close_within": _percent(stats.close_within),
            "acknowledge_target": _duration(stats.targets.acknowledge),
            "close_target": _duration(stats.targets.close),
        },
        "can_set_targets": policies.case_targets_can_set(membership),
    }
    return render(request, "cases/inbox.html", context)


# Workflow steps posted from the case page: (request, case, membership, cleaned data) →
# the service call.
def _acknowledge(request, case, membership, data):
    return services.case_acknowledge(case=case, membership=membership)


def _start(request, case, membership, data):
    return services.case_start(case=case, membership=membership)


def _reopen(request, case, membership, data):
    return services.case_reopen(case=case, membership=membership)


def _assign(request, case, membership, data):
    return services.case_assign(
        case=case, membership=membership, assignee=data["assignee"], seen=data["seen"]
    )


def _note(request, case, membership, data):
    return services.case_add_note(case=case, membership=membership, body=data["body"])


def _classify(request, case, membership, data):
    return services.case_classify(
        case=case,
        membership=membership,
        verification=data["verification"],
        incident_type=data["incident_type"],
        bias=data["bias"],
        ideology=data["ideology"],
        seen=data["seen"],
    )


def _close(request, case, membership, data):
    return services.case_close(case=case, membership=membership, outcome=data["outcome"])


def _hand_on(request, case, membership, data):
    return services.case_hand_on(
        case=case,
        membership=membership,
        organisation=data["organisation"],
        base_url=_base_url(request),
    )


def _merge(request, case, membership, data):
    into = selectors.access_own_case_by_reference(request.place, membership, data["into"])
    if into is None:
        raise ValidationFailed(
            _("No case of your organisation has this reference."),
            fields={"into": [_("Give the reference of a report your organisation received.")]},
        )
    return services.case_merge(case=case, membership=membership, into=into)


def _split(request, case, membership, data):
    return services.case_split(case=case, membership=membership)


def _message(request, case, membership, data):
    return services.case_message_send(
        case=case, membership=membership, body=data["body"], base_url=_base_url(request)
    )


ACTIONS = {
    "acknowledge": _acknowledge,
    "start": _start,
    "reopen": _reopen,
    "assign": _assign,
    "note": _note,
    "classify": _classify,
    "close": _close,
    "hand_on": _hand_on,
    "merge": _merge,
    "split": _split,
    "message": _message,
}


def _success_message(action):
    return {
        "acknowledge": _("Case acknowledged."),
        "start": _("Work on the case started."),
        "reopen": _("Case reopened."),
        "assign": _("Assignment saved."),
        "note": _("Note added."),
        "classify": _("Classification saved."),
        "close": _("Case closed."),
        "hand_on": _("The report was handed on."),
        "merge": _("The case was merged."),
        "split": _("The case was split off: it is on its own again."),
        "message": _("Message sent to the reporter."),
    }[action]


def _forms(case, language, data=None, action=None):
    """The forms of the case page; the one named `action` bound to `data`."""
    assignees = User.objects.filter(memberships__in=selectors.case_assignees(case)).order_by(
        "name", "email"
    )
    people = {user.pk: user for user in assignees}

    def bound(name):
        return data if action == name else None

    return {
        "acknowledge": ActionForm(bound("acknowledge")),
        "start": ActionForm(bound("start")),
        "reopen": ActionForm(bound("reopen")),
        "assign": AssignForm(
            bound("assign"),
            assignees=assignees,
            initial={"assignee": case.assigned_to_id},
        ),
        "note": NoteForm(bound("note")),
        "classify": ClassifyForm(
            bound("classify"),
            language=language,
            initial={
                "verification": case.verification,
                "incident_type": case.verified_incident_type,
                "bias": case.verified_bias,
                "ideology": case.ideology,
            },
        ),
        "close": CloseForm(bound("close")),
        "hand_on": HandOnForm(
            bound("hand_on"),
            organisations=selectors.hand_on_candidates(case.place, case),
        ),
        "merge": MergeForm(bound("merge")),
        "split": ActionForm(bound("split")),
        # Prefixed: the note form has a `body` field too (ids must be unique on the page).
        "message": MessageForm(bound("message"), prefix="message"),
    }, people


def _choice(choices, code):
    try:
        return choices(code).label
    except ValueError:
        return code


def _timeline(case, people):
    """The case's events, each with a short detail (who it was given to, the outcome, which
    organisation or case it went to or came from)."""
    events = list(selectors.case_timeline(case))
    case_ids, organisation_ids = set(), set()
    for event in events:
        for key in ("case", "into", "from_case", "via"):
            case_ids.add(event.data.get(key))
        if event.kind == CaseEventKind.SPLIT:
            case_ids.add(event.data.get("from"))
        for key in ("organisation", "from_organisation"):
            organisation_ids.add(event.data.get(key))
    references = selectors.case_references(case.place, case_ids - {None})
    organisations = dict(
        Organisation.objects.filter(pk__in=organisation_ids - {None}).values_list("pk", "name")
    )
    rows = []
    for event in events:
        detail, data = "", event.data
        if event.kind == CaseEventKind.ASSIGNED:
            person = people.get(data.get("to"))
            detail = (person.name or person.email) if person else ""
        elif event.kind == CaseEventKind.CLOSED:
            detail = _choice(CaseOutcome, data.get("outcome", ""))
        elif event.kind == CaseEventKind.CLASSIFIED:
            detail = _choice(Verification, data.get("verification", ""))
        elif event.kind == CaseEventKind.HANDED_ON:
            detail = organisations.get(data.get("organisation"), "")
        elif event.kind == CaseEventKind.HAND_ON_RECEIVED:
            detail = organisations.get(data.get("from_organisation"), "")
        elif event.kind == CaseEventKind.MERGED and "into" in data:
            detail = _("into %(reference)s") % {"reference": references.get(data["into"], "—")}
        elif event.kind == CaseEventKind.MERGED:
            detail = _("%(reference)s merged into this case") % {
                "reference": references.get(data.get("case"), "—")
            }
        elif event.kind == CaseEventKind.SPLIT and "from" in data:
            detail = _("from %(reference)s") % {"reference": references.get(data["from"], "—")}
        elif event.kind == CaseEventKind.SPLIT:
            detail = _("%(reference)s split off") % {
                "reference": references.get(data.get("case"), "—")
            }
        elif event.kind == CaseEventKind.REPORT_ERASED:
            detail = _(
                "The account, contact details, files and messages are gone and consent to "
                "share is withdrawn. The case stays open until you close it."
            )
        rows.append({"event": event, "detail": detail})
    return rows


def _timing_rows(case, targets, now):
    """Time to acknowledge and to close against the targets, in words, for the case page."""
    timing = selectors.case_timing(case, targets, now=now)
    labels = {"acknowledge": _("Time to acknowledge"), "close": _("Time to close")}
    rows = []
    for step in ("acknowledge", "close"):
        item = timing[step]
        rows.append(
            {
                "label": labels[step],
                "done": item.taken is not None,
                "time": _duration(item.elapsed),
                "target": _duration(item.target),
                "due": item.due,
                "late": item.late,
            }
        )
    return rows


@staff_view(Capability.VIEW_PERSONAL_DATA)
def case_detail(request, case_id):
    """One case: what the organisation may see of the report (by the routing decision's level),
    why it was sent, the timeline and the workflow forms; its group of reports of the same
    online content, merged duplicates and suggested ones, hand-ons, the thread with the
    reporter (marked read once seen) and its handling times. Every view is audited."""
    place, membership, language = request.place, request.membership, get_language()
    case = selectors.access_case(place, membership, case_id)
    if case is None:
        raise Http404
    can_act = policies.case_can_act(membership, case)
    action = request.POST.get("action") if request.method == "POST" else None
    forms, people = _forms(case, language, request.POST, action)
    status = 200
    if request.method == "POST":
        if not can_act:
            raise PermissionDenied
        form = forms.get(action)
        if form is None:
            messages.error(request, _("Unknown action."))
            status = 422
        else:
            response = _act(request, case, membership, action, form)
            if response is not None:
                return response
            status = 422

    visibility = policies.case_visibility(membership, case)
    shown = _shown_forms(case, membership, visibility, can_act)
    if request.method == "POST" and action in shown and not shown[action]:
        # The form is not on the page as it is now (a colleague acknowledged or closed the
        # case meanwhile): its refusal is only in the error summary at the top, focused.
        forms[action].focus_errors = forms[action].focus_field = False
    services.case_record_view(case=case, membership=membership, visibility=visibility)
    report = case.report
    version = report.taxonomy_version
    explanation = case.decision.explanation or {}
    context = {
        "case": case,
        "report": report,
        "visibility": visibility,
        "can_act": can_act,
        "forms": forms,
        "shown": shown,
        "incident_type": _label("incident_type", report.incident_type, language, version),
        "platform": _label("platform", report.platform, language, version),
        "setting": _label("setting", report.setting, language, version),
        "bias": [_label("bias", code, language, version) for code in report.bias],
        "verified_incident_type": _label(
            "incident_type", case.verified_incident_type, language, case.taxonomy_version
        ),
        "verified_bias": [
            _label("bias", code, language, case.taxonomy_version) for code in case.verified_bias
        ],
        "ideology": _label("ideology", case.ideology, language, case.taxonomy_version),
        "rule_name": (explanation.get("rule") or {}).get("name", ""),
        "fallback": explanation.get("fallback", False),
        # Which conditions matched can name an area: not for those who may not see it.
        "matched": _matched_labels(explanation.get("matched", {}), case.place, language)
        if visibility.shows_report
        else [],
        "also_matched": [r["name"] for r in explanation.get("also_matched", []) if r.get("name")],
        "timeline": _timeline(case, people),
        "reporter_role": report.get_reporter_role_display(),
        "support_wanted": [_choice(SupportWanted, code) for code in report.support_wanted],
        "already_reported": [
            _label("already_reported", code, language, version) for code in report.already_reported
        ],
        "people": people,
        "notes": selectors.case_notes(case) if visibility.own else [],
        "evidence": selectors.case_evidence(case) if visibility.shows_report else [],
        **_casework_context(case, membership, visibility, can_act),
    }
    return render(request, "cases/detail.html", context, status=status)


def _act(request, case, membership, action, form):
    """Do one posted step, once: a double click, or the same page sent again, is answered with
    the first submission's redirect (the form's idempotency token) rather than done twice or
    refused as a step already taken. None when it was refused (the form carries the errors)."""
    url = reverse("cases:detail", kwargs={"place_slug": request.place.slug, "case_id": case.pk})
    try:
        with form_idempotency(
            request, scope="case.page", field=form.add_prefix(FORM_FIELD)
        ) as submission:
            if submission.response:
                return submission.response
            if not form.is_valid():
                _focus_first_error(form)
                return None
            with transaction.atomic():
                ACTIONS[action](request, case, membership, form.cleaned_data)
                response = submission.redirect(url) if submission.guard else redirect(url)
    except ApplicationError as exc:
        # Each error at its field and in the error summary at the top (base.html); an error of
        # the form as a whole above the form (or only in the summary when the form is gone).
        _add_errors(form, exc)
        _focus_first_error(form)
        return None
    if response.status_code in (302, 303):
        messages.success(request, _success_message(action))
    return response


def _focus_first_error(form):
    """The case page is long: a refused form is re-shown with its first field in error
    focused, so the browser scrolls to the error, rather than at the top of the page far above
    it. A refusal of the form as a whole ("changed meanwhile", a merge refused) focuses its
    message above the form (includes/form.html), read out first; else the first field. Either
    way the error summary at the top of the page lists the errors without taking the focus."""
    visible = [field.name for field in form.visible_fields()]
    name = next((name for name in form.errors if name in visible), None)
    if name is None and form.non_field_errors():
        form.focus_errors = True
        return
    name = name or next(iter(visible), None)
    if name is not None:
        form.fields[name].widget.attrs["autofocus"] = True
        form.focus_field = True


def _shown_forms(case, membership, visibility, can_act):
    """Which of the case page's forms the page shows for the case as it is now (the template
    follows this): a refused form that is not shown has its message at the top instead."""
    acting = can_act and not case.merged_into_id
    is_open = not case.is_closed
    return {
        "split": can_act and bool(case.merged_into_id),
        "acknowledge": acting and case.status == CaseStatus.NEW,
        "start": acting and case.status in (CaseStatus.NEW, CaseStatus.ACKNOWLEDGED),
        "reopen": acting and not is_open,
        "assign": acting and is_open,
        "close": acting and is_open,
        "classify": acting and is_open,
        "hand_on": acting and is_open,
        "merge": acting and is_open,
        "note": visibility.own and can_act,
        "message": visibility.own and policies.case_can_message(membership, case),
    }


GROUP_SHOWN = 20


def _casework_context(case, membership, visibility, can_act):
    """The case page's group, merges, hand-ons, duplicate suggestions, messages and timing."""
    place, now = case.place, timezone.now()
    group = selectors.case_group(case)
    group_size = group.count() if case.report.content_key else 0
    merged = list(selectors.case_merged_cases(case))
    thread = []
    if visibility.own:
        # Listed before they are marked read, so the page can show which ones are new.
        thread = list(selectors.case_messages(case))
        services.case_messages_mark_read(case=case, membership=membership, now=now)
    suggestions = []
    if can_act and visibility.shows_report and not case.is_closed and not case.merged_into_id:
        suggestions = selectors.case_duplicate_suggestions(case)
    return {
        "group": list(group[:GROUP_SHOWN]) if group_size > 1 else [],
        "group_size": group_size,
        "group_more": max(group_size - GROUP_SHOWN, 0),
        "merged_into": selectors.case_references(place, [case.merged_into_id]).get(
            case.merged_into_id
        )
        if case.merged_into_id
        else None,
        "merged": merged,
        "suggestions": suggestions,
        "origin": selectors.case_origin(case),
        "handed_on_to": list(selectors.case_handed_on_to(case)) if visibility.own else [],
        "thread": thread,
        "timing": _timing_rows(
            case, selectors.organisation_targets(place, case.organisation_id), now
        ),
    }


TAXONOMY_CONDITIONS = ("incident_type", "bias", "setting", "platform")


def _matched_labels(matched, place, language):
    """The conditions that matched, as (what, [values]) in words rather than codes."""
    from locus.places.selectors import area_list

    rows = []
    for key, values in matched.items():
        if key in TAXONOMY_CONDITIONS:
            name = taxonomy().axis_label(key, language)
            shown = [_label(key, code, language) for code in values]
        elif key == "area":
            name = _("Area")
            names = dict(area_list(place=place).filter(pk__in=values).values_list("pk", "name"))
            shown = [names.get(v, str(v)) for v in values]
        elif key == "online":
            name = _("Online")
            shown = [_("Yes") if v else _("No") for v in values]
        else:
            name, shown = key, [str(v) for v in values]
        rows.append((name, shown))
    return rows


@staff_view(Capability.VIEW_PERSONAL_DATA)
def evidence_download(request, case_id, evidence_id):
    """One evidence file of the case's report, as an attachment; audited. Only for those who
    may see the report itself (not content-only)."""
    case = selectors.access_case(request.place, request.membership, case_id)
    if case is None:
        raise Http404
    visibility = policies.case_visibility(request.membership, case)
    evidence = (
        selectors.case_evidence(case).filter(pk=evidence_id).first()
        if visibility.shows_report
        else None
    )
    handle = open_stored(evidence.file) if evidence is not None else None
    if handle is None:
        raise Http404
    services.case_record_evidence_download(
        case=case, membership=request.membership, evidence=evidence
    )
    extension = mimetypes.guess_extension(evidence.mime) or ""
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"{case.report.reference}-{evidence.pk}{extension}",
        content_type=evidence.mime,
    )
    response["Cache-Control"] = "private, no-store"
    return response


@staff_view(Capability.MANAGE_MEMBERS)
def targets(request):
    """The organisation's handling targets in this place (its administrators set them): the
    inbox flags cases past them and the handling figures measure against them."""
    place, membership = request.place, request.membership
    current = selectors.organisation_targets(place, membership.organisation_id)
    form = TargetsForm(
        request.POST or None,
        initial={
            "acknowledge_target_hours": current.acknowledge_hours,
            "close_target_days": current.close_days,
        },
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.case_targets_set(place=place, membership=membership, **form.cleaned_data)
            except ApplicationError as exc:
                _add_errors(form, exc)
                status = 422
            else:
                messages.success(request, _("Targets saved."))
                return redirect("cases:targets", place_slug=place.slug)
        else:
            status = 422
    return render(request, "cases/targets.html", {"form": form}, status=status)

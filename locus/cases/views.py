"""The caseworker inbox and case page. Parse, call one selector or service, render."""

import mimetypes

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from locus.accounts.decorators import staff_view
from locus.accounts.models import User
from locus.accounts.policies import Capability
from locus.core.errors import ApplicationError
from locus.reporting.choices import SupportWanted
from locus.reporting.taxonomy import UnknownCode, UnknownVersion, taxonomy

from . import policies, selectors, services
from .choices import CaseEventKind, CaseOutcome, CaseStatus, Verification
from .forms import ActionForm, AssignForm, CaseFilterForm, ClassifyForm, CloseForm, NoteForm

PAGE_SIZE = 50


def _label(axis, code, language, version=None):
    """A taxonomy code's label in the language, read in the version it was written in; the
    code itself when no version knows it."""
    if not code:
        return ""
    try:
        return taxonomy(version or None).label(axis, code, language)
    except (UnknownCode, UnknownVersion):
        try:
            return taxonomy().label(axis, code, language)
        except UnknownCode:
            return code


def _add_errors(form, exc):
    """Show an application error next to its fields (or at the top of the form)."""
    if not exc.fields:
        form.add_error(None, exc.message)
    for field, msgs in exc.fields.items():
        for message in msgs:
            form.add_error(field if field in form.fields else None, message)


@staff_view(Capability.VIEW_PERSONAL_DATA)
def inbox(request):
    """The cases of the person's organisation (or, for the place team, of every organisation),
    filtered, with counts per status."""
    place, membership, language = request.place, request.membership, get_language()
    form = CaseFilterForm(request.GET, place=place, membership=membership, language=language)
    filters = form.cleaned_data if form.is_valid() else {}
    page = Paginator(selectors.case_list(place, membership, filters), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
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
        }
        for case in page
    ]
    counts = selectors.case_stats(place, membership, filters)
    tabs = [("", _("All"), counts["all"])] + [
        (status.value, status.label, counts[status.value]) for status in CaseStatus
    ]
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "tabs": tabs,
        "current_status": filters.get("status", ""),
        "all_organisations": filters.get("scope") == "all",
    }
    return render(request, "cases/inbox.html", context)


# Workflow steps posted from the case page: (form class, service call, success message).
def _acknowledge(case, membership, data):
    return services.case_acknowledge(case=case, membership=membership)


def _start(case, membership, data):
    return services.case_start(case=case, membership=membership)


def _reopen(case, membership, data):
    return services.case_reopen(case=case, membership=membership)


def _assign(case, membership, data):
    return services.case_assign(case=case, membership=membership, assignee=data["assignee"])


def _note(case, membership, data):
    return services.case_add_note(case=case, membership=membership, body=data["body"])


def _classify(case, membership, data):
    return services.case_classify(case=case, membership=membership, **data)


def _close(case, membership, data):
    return services.case_close(case=case, membership=membership, outcome=data["outcome"])


ACTIONS = {
    "acknowledge": _acknowledge,
    "start": _start,
    "reopen": _reopen,
    "assign": _assign,
    "note": _note,
    "classify": _classify,
    "close": _close,
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
    }, people


def _choice(choices, code):
    try:
        return choices(code).label
    except ValueError:
        return code


def _timeline(case, people):
    """The case's events, each with a short detail (who it was given to, the outcome)."""
    rows = []
    for event in selectors.case_timeline(case):
        detail = ""
        if event.kind == CaseEventKind.ASSIGNED:
            person = people.get(event.data.get("to"))
            detail = (person.name or person.email) if person else ""
        elif event.kind == CaseEventKind.CLOSED:
            detail = _choice(CaseOutcome, event.data.get("outcome", ""))
        elif event.kind == CaseEventKind.CLASSIFIED:
            detail = _choice(Verification, event.data.get("verification", ""))
        rows.append({"event": event, "detail": detail})
    return rows


@staff_view(Capability.VIEW_PERSONAL_DATA)
def case_detail(request, case_id):
    """One case: what the organisation may see of the report (by the routing decision's level),
    why it was sent, the timeline and the workflow forms. Every view is audited."""
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
        elif form.is_valid():
            try:
                ACTIONS[action](case, membership, form.cleaned_data)
            except ApplicationError as exc:
                _add_errors(form, exc)
                messages.error(request, exc.message)
                status = 422
            else:
                messages.success(request, _success_message(action))
                return redirect("cases:detail", place_slug=place.slug, case_id=case.pk)
        else:
            messages.error(request, _("Please correct the errors below."))
            status = 422

    visibility = policies.case_visibility(membership, case)
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
        "is_open": not case.is_closed,
        "can_start": case.status in (CaseStatus.NEW, CaseStatus.ACKNOWLEDGED),
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
    }
    return render(request, "cases/detail.html", context, status=status)


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
    if evidence is None:
        raise Http404
    services.case_record_evidence_download(
        case=case, membership=request.membership, evidence=evidence
    )
    extension = mimetypes.guess_extension(evidence.mime) or ""
    response = FileResponse(
        evidence.file.open("rb"),
        as_attachment=True,
        filename=f"{case.report.reference}-{evidence.pk}{extension}",
        content_type=evidence.mime,
    )
    response["Cache-Control"] = "private, no-store"
    return response

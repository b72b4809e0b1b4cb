"""Reads for reports and for the reporter's follow-up: the report opened with its reference and
code, the threads with the organisations handling it, and the copy of everything Locus holds
about it. The reporter is never shown who at an organisation wrote, only the organisation."""

from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.utils import timezone, translation

from locus.cases.choices import CaseEventKind, CaseOutcome, CaseStatus, MessageDirection, ShareLevel
from locus.cases.models import Case, CaseEvent, CaseMessage

from . import references
from .choices import ReporterRole, ReportStatus, SupportWanted
from .models import ConsentChange, Evidence, Report
from .taxonomy import display_label


def report_for_followup(*, place, reference, code):
    """The report with this reference whose follow-up code matches, or None. The same None
    for a wrong reference and a wrong code, and the code is compared in constant time."""
    reference = references.normalise_reference(reference)
    report = Report.objects.filter(place=place, reference=reference).first() if reference else None
    if report is None:
        references.hash_code(code)  # same work either way
        return None
    return report if references.code_matches(code, report.followup_code_hash) else None


def report_is_routed(report) -> bool:
    """Whether routing has run for the report (it runs in the task worker after submission)."""
    from locus.cases.models import RoutingRun

    return RoutingRun.objects.filter(place_id=report.place_id, report=report).exists()


def report_is_erased(report) -> bool:
    """Whether the report's personal data is gone (erased at the reporter's request; a report
    anonymised by retention can no longer be opened at all)."""
    return report.anonymised_at is not None


# --- threads -------------------------------------------------------------------------------


@dataclass
class Thread:
    """One organisation handling the report, as the reporter sees it: its name, how far it
    is, and the messages exchanged (oldest first)."""

    case: Case
    messages: list = field(default_factory=list)
    # Ids of the reporter's messages that are additions to the report (INFO_ADDED events).
    additions: frozenset = frozenset()

    @property
    def organisation(self):
        return self.case.organisation

    @property
    def status_label(self):
        return str(CaseStatus(self.case.status).label)

    @property
    def outcome_label(self):
        return str(CaseOutcome(self.case.outcome).label) if self.case.outcome else ""

    @property
    def reads_report(self):
        """Whether the organisation was sent the report itself (not only public content):
        additions go only to these."""
        return self.case.decision.level in (ShareLevel.FULL, ShareLevel.ANONYMISED)

    @property
    def unread(self):
        return [
            m
            for m in self.messages
            if m.direction == MessageDirection.TO_REPORTER and m.read_at is None
        ]


def _handling_cases(report):
    # A case merged into another case of the same organisation is worked on there (another
    # report's case): its thread is not offered to this reporter.
    return Case.objects.filter(
        place_id=report.place_id, report=report, merged_into__isnull=True
    ).select_related("organisation", "decision")


def _addition_message_ids(place_id, cases):
    ids = set()
    for data in CaseEvent.objects.filter(
        place_id=place_id, case__in=cases, kind=CaseEventKind.INFO_ADDED
    ).values_list("data", flat=True):
        if isinstance(data, dict) and isinstance(data.get("message"), int):
            ids.add(data["message"])
    return frozenset(ids)


def report_threads(report) -> list[Thread]:
    """One thread per organisation handling the report (its cases that are not merged), in
    the order the report reached them, with their messages. Three queries whatever the size."""
    messages = CaseMessage.objects.filter(place_id=report.place_id).order_by("at", "id")
    cases = list(
        _handling_cases(report)
        .prefetch_related(Prefetch("messages", queryset=messages))
        .order_by("created_at", "id")
    )
    additions = _addition_message_ids(report.place_id, cases) if cases else frozenset()
    return [
        Thread(case=case, messages=list(case.messages.all()), additions=additions) for case in cases
    ]


def report_thread_case(report, case_id):
    """The report's handling case with this id, or None (the same for another report's case,
    another place's and a merged one)."""
    try:
        case_id = int(case_id)
    except (TypeError, ValueError):
        return None
    return _handling_cases(report).filter(pk=case_id).first()


def report_evidence(report):
    """The files attached to the report, in the order they were received."""
    return Evidence.objects.filter(place_id=report.place_id, report=report).order_by(
        "received_at", "id"
    )


def report_message(report, message_id):
    """One message of the report's threads, or None."""
    return (
        CaseMessage.objects.filter(place_id=report.place_id, case__report=report, pk=message_id)
        .select_related("case", "case__organisation")
        .first()
    )


def followup_message(place, message_id):
    """A message by id in the place (replaying an idempotent send, whose key was made with the
    same reference and code), or None."""
    if not isinstance(message_id, int):
        return None
    return (
        CaseMessage.objects.filter(place=place, pk=message_id)
        .select_related("case", "case__organisation")
        .first()
    )


# --- a copy of my data ---------------------------------------------------------------------


def _label(axis, code, language, version):
    """A taxonomy code's label (docs/taxonomy.md "Versions": today's wording where the code
    still exists, the version the report was written in for a retired code), or None."""
    return display_label(axis, code, language, version) if code else None


def _coded(axis, code, language, version):
    return {"code": code, "label": _label(axis, code, language, version)} if code else None


def _choice(choices, code):
    if not code:
        return None
    try:
        return {"code": code, "label": str(choices(code).label)}
    except ValueError:
        return {"code": code, "label": code}


def report_copy(report, *, language) -> dict:
    """Everything Locus holds about the report, for its reporter: what they sent, consent and
    its history, where it went and why (in words), how far each organisation is, the messages,
    and the list of files with their SHA-256 hashes (the files themselves are not in the copy).
    Staff-only data (internal notes, staff classification, who at an organisation did what) is
    not about the reporter and is left out. Dates are date/datetime objects: DjangoJSONEncoder
    or the API's schema write them as ISO 8601."""
    from locus.cases.routing import explain
    from locus.cases.selectors import routing_decisions_for

    version = report.taxonomy_version
    with translation.override(language):
        cases = list(
            Case.objects.filter(place_id=report.place_id, report=report)
            .select_related("organisation")
            .prefetch_related(
                Prefetch(
                    "messages",
                    queryset=CaseMessage.objects.filter(place_id=report.place_id).order_by(
                        "at", "id"
                    ),
                )
            )
            .order_by("created_at", "id")
        )
        additions = _addition_message_ids(report.place_id, cases) if cases else frozenset()
        return {
            "generated_at": timezone.now(),
            "place": {"slug": report.place.slug, "name": report.place.name},
            "reference": report.reference,
            "status": _choice(ReportStatus, report.status),
            "submitted_at": report.submitted_at,
            "closed_at": report.closed_at,
            "erased_at": report.anonymised_at,
            "language": report.language,
            "taxonomy_version": version,
            "report": {
                "incident_type": _coded("incident_type", report.incident_type, language, version),
                "occurred_on": report.occurred_on,
                "occurred_approx": report.occurred_approx,
                "ongoing": report.ongoing,
                "area": report.area.name if report.area_id else None,
                "location_text": report.location_text,
                "setting": _coded("setting", report.setting, language, version),
                "platform": _coded("platform", report.platform, language, version),
                "content_url": report.content_url,
                "bias": [_coded("bias", code, language, version) for code in report.bias],
                "account": report.account,
                "reporter_role": _choice(ReporterRole, report.reporter_role),
                "support_wanted": [_choice(SupportWanted, c) for c in report.support_wanted],
                "already_reported": [
                    _coded("already_reported", code, language, version)
                    for code in report.already_reported
                ],
                "police_reference": report.police_reference,
                "contact": dict(report.contact) if report.contact else None,
                "wants_email_updates": report.wants_email_updates,
            },
            "consent": {
                "police_anonymised": report.consent_police_anonymised,
                "police_with_contact": report.consent_police_with_contact,
                "support_contact": report.consent_support_contact,
            },
            "consent_history": [
                {
                    "at": change.at,
                    "police_anonymised": bool(change.consent.get("police_anonymised")),
                    "police_with_contact": bool(change.consent.get("police_with_contact")),
                    "support_contact": bool(change.consent.get("support_contact")),
                }
                for change in ConsentChange.objects.filter(
                    place_id=report.place_id, report=report
                ).order_by("at", "id")
            ],
            "routing": explain(list(routing_decisions_for(report)), language),
            "organisations": [
                {
                    "organisation": case.organisation.name,
                    "status": _choice(CaseStatus, case.status),
                    "outcome": _choice(CaseOutcome, case.outcome),
                    "received_at": case.created_at,
                    "closed_at": case.closed_at,
                    "merged": case.merged_into_id is not None,
                    "messages": [
                        {
                            "direction": message.direction,
                            "at": message.at,
                            "read_at": message.read_at,
                            "addition": message.pk in additions,
                            "body": message.body,
                        }
                        for message in case.messages.all()
                    ],
                }
                for case in cases
            ],
            "evidence": [
                {
                    "name": evidence.original_name,
                    "kind": evidence.kind,
                    "mime": evidence.mime,
                    "size": evidence.size,
                    "sha256": evidence.sha256,
                    "received_at": evidence.received_at,
                }
                for evidence in report_evidence(report)
            ],
        }

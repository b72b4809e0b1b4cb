"""Consent policy: how far a report may travel to one organisation. Pure functions.

The table, and why, is in docs/routing.md. The reporter's consent flags on the report are the
source of truth; consent to the police *with* contact includes consent to the police without it.
Anything not allowed below is refused: an unknown organisation type receives nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from locus.directory.choices import OrganisationType

from .choices import ShareLevel, ShareReason

SUPPORT_TYPES = frozenset(
    {
        OrganisationType.VICTIM_SUPPORT,
        OrganisationType.CSO,
        OrganisationType.FAITH_GROUP,
        OrganisationType.HEALTH,
        OrganisationType.SCHOOL,
    }
)
CONTENT_TYPES = frozenset({OrganisationType.COMPANY, OrganisationType.NATIONAL_BODY})


@dataclass(frozen=True)
class Share:
    """What one organisation may receive of one report. `reason` is a ShareReason code."""

    allowed: bool
    level: str | None
    with_contact: bool
    reason: str

    def __post_init__(self):
        # Plain strings, so the share stores as JSON and compares equal to its codes.
        object.__setattr__(self, "level", None if self.level is None else str(self.level))
        object.__setattr__(self, "reason", str(self.reason))

    def as_dict(self):
        return asdict(self)


def _refuse(reason):
    return Share(allowed=False, level=None, with_contact=False, reason=reason)


def is_online_incident(report) -> bool:
    """Whether the report's incident type is an online one (in the taxonomy version the report
    was written in). Unknown codes are not online."""
    from locus.reporting.taxonomy import UnknownCode, UnknownVersion, taxonomy

    try:
        vocabulary = taxonomy(report.taxonomy_version or None)
    except UnknownVersion:
        vocabulary = taxonomy()
    try:
        return vocabulary.get("incident_type", report.incident_type).online
    except UnknownCode:
        return False


def is_place_team(place_id, organisation) -> bool:
    """Whether the organisation runs Locus in the place (the city's own team)."""
    from locus.directory.models import OrganisationListing

    return OrganisationListing.objects.filter(
        place_id=place_id, organisation=organisation, is_active=True, manages_place=True
    ).exists()


def share_for(report, organisation, *, place_team=None, listed=True) -> Share:
    """How far `report` may go to `organisation`.

    `place_team` says whether the organisation runs Locus in the report's place; when None
    it is read from the directory (the routing engine passes it, so it reads once per place).
    `listed=False` (no active listing in the place) refuses whatever the type.
    """
    if not listed:
        return _refuse(ShareReason.NOT_LISTED)
    has_contact = bool(report.contact)
    support_consent = bool(report.consent_support_contact)
    kind = organisation.type

    if kind == OrganisationType.LOCAL_AUTHORITY:
        if place_team is None:
            place_team = is_place_team(report.place_id, organisation)
        if place_team:
            # The data controller: it holds every report of its place anyway.
            return Share(
                allowed=True,
                level=ShareLevel.FULL,
                with_contact=support_consent and has_contact,
                reason=ShareReason.PLACE_TEAM,
            )
        kind = OrganisationType.VICTIM_SUPPORT  # another council's team: like a support org

    if kind == OrganisationType.POLICE:
        if report.consent_police_with_contact:
            return Share(
                allowed=True,
                level=ShareLevel.FULL,
                with_contact=has_contact,
                reason=ShareReason.POLICE_WITH_CONTACT,
            )
        if report.consent_police_anonymised:
            return Share(
                allowed=True,
                level=ShareLevel.ANONYMISED,
                with_contact=False,
                reason=ShareReason.POLICE_ANONYMISED,
            )
        return _refuse(ShareReason.NO_POLICE_CONSENT)

    if kind in SUPPORT_TYPES:
        if support_consent:
            return Share(
                allowed=True,
                level=ShareLevel.FULL,
                with_contact=has_contact,
                reason=ShareReason.SUPPORT_CONTACT,
            )
        return _refuse(ShareReason.NO_SUPPORT_CONSENT)

    if kind in CONTENT_TYPES:
        if not is_online_incident(report):
            return _refuse(ShareReason.NOT_ONLINE_CONTENT)
        if not report.content_url:
            return _refuse(ShareReason.NO_CONTENT_URL)
        return Share(
            allowed=True,
            level=ShareLevel.CONTENT_ONLY,
            with_contact=False,
            reason=ShareReason.PUBLIC_CONTENT,
        )

    return _refuse(ShareReason.UNKNOWN_TYPE)


# --------------------------------------------------------------------------------------------
# Cases: who may see and act on a case, and how much of the report they see.


def can_handle_cases(membership) -> bool:
    """A role that works on cases: one that may see personal data (admin, coordinator,
    caseworker)."""
    from locus.accounts.policies import Capability, role_can

    return bool(membership.is_active) and role_can(membership.role, Capability.VIEW_PERSONAL_DATA)


def case_can_view(membership, case) -> bool:
    """The organisation that received the case may view it; so may the team that runs Locus in
    the place (read-only: it is the data controller and holds every report anyway)."""
    if not can_handle_cases(membership):
        return False
    if case.organisation_id == membership.organisation_id:
        return True
    return bool(getattr(membership, "manages_place", False))


def case_can_act(membership, case) -> bool:
    """Only the organisation that received the case works on it."""
    return can_handle_cases(membership) and case.organisation_id == membership.organisation_id


def case_assignable(membership, case) -> bool:
    """Whether a case may be assigned to this membership's person."""
    return can_handle_cases(membership) and membership.organisation_id == case.organisation_id


@dataclass(frozen=True)
class Visibility:
    """How much of a case's report a viewer sees. `own` is False when the place team looks at
    another organisation's case: it then sees what its own share of the report allows."""

    level: str
    with_contact: bool
    own: bool

    @property
    def shows_report(self):
        """Account, place, bias, evidence: everything but the reporter's identity."""
        return self.level in (ShareLevel.FULL, ShareLevel.ANONYMISED)

    @property
    def shows_identity(self):
        return self.level == ShareLevel.FULL

    @property
    def shows_contact(self):
        return self.level == ShareLevel.FULL and self.with_contact


def case_visibility(membership, case) -> Visibility:
    """What `membership` may see of `case`'s report: the routing decision's level and contact
    for the receiving organisation; for the place team looking at another organisation's case,
    the share it would get itself (full, contact only with the reporter's support consent)."""
    decision = case.decision
    if case.organisation_id == membership.organisation_id:
        return Visibility(level=decision.level, with_contact=decision.with_contact, own=True)
    share = share_for(case.report, membership.organisation, place_team=True)
    return Visibility(
        level=share.level or ShareLevel.CONTENT_ONLY,
        with_contact=bool(share.allowed and share.with_contact),
        own=False,
    )


def case_list_shows_area(membership, case) -> bool:
    """Whether an inbox row may say where it happened: not for content-only cases, unless the
    viewer is the place team (which sees every report of its place in full)."""
    if case.organisation_id != membership.organisation_id:
        return bool(getattr(membership, "manages_place", False))
    return case.decision.level != ShareLevel.CONTENT_ONLY


def case_can_message(membership, case) -> bool:
    """The organisation that received the case may write to the reporter, unless it received
    only the public online content (then it has nothing about the reporter, no channel
    either)."""
    return case_can_act(membership, case) and case.decision.level != ShareLevel.CONTENT_ONLY


def case_targets_can_set(membership) -> bool:
    """An organisation's handling targets are set by its administrators (the role that
    administers the organisation: its members, tokens and integrations)."""
    from locus.accounts.policies import Capability, role_can

    return bool(membership.is_active) and role_can(membership.role, Capability.MANAGE_MEMBERS)

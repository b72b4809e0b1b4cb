"""Every staff view of every place passes the isolation battery, every place-scoped URL is
either in the battery or declared public, and every view of a place-wide capability is proved
closed to partner organisations."""

import re

import pytest
from django.urls import get_resolver

from locus.core.services import job_create
from locus.core.tenancy import place_scope
from locus.core.testing.battery import ViewCase, run_battery


def _job(place_world):
    with place_scope(place_world.place):
        job = job_create(place=place_world.place, kind="test", title="Test job")
    return {"job_id": job.pk}


def _membership(place_world):
    return {"membership_id": place_world.memberships["member"].pk}


def _case(place_world):
    from locus.cases.tests.factories import team_case

    return {"case_id": team_case(place_world).pk}


def _case_evidence(place_world):
    from locus.cases.selectors import case_evidence
    from locus.cases.tests.factories import team_case

    case = team_case(place_world)
    with place_scope(place_world.place):
        return {"case_id": case.pk, "evidence_id": case_evidence(case).get().pk}


def _rule(place_world):
    from locus.cases.services import routing_rule_save

    with place_scope(place_world.place):
        rule = routing_rule_save(
            place=place_world.place, actor=None, name="Battery", destinations=[]
        )
    return {"rule_id": rule.pk}


def _endpoint(place_world):
    from locus.outbox.services import webhook_endpoint_create

    with place_scope(place_world.place):
        endpoint, _secret = webhook_endpoint_create(
            place=place_world.place,
            organisation=place_world.organisation,
            url="https://hooks.example.org/battery",
        )
    return {"endpoint_id": endpoint.pk}


def _dead_message(place_world):
    from django.db import transaction

    from locus.outbox.models import OutboxMessage
    from locus.outbox.services import outbox_enqueue_webhook, webhook_endpoint_create

    with place_scope(place_world.place):
        endpoint, _secret = webhook_endpoint_create(
            place=place_world.place,
            organisation=place_world.organisation,
            url="https://hooks.example.org/battery",
        )
        with transaction.atomic():
            message = outbox_enqueue_webhook(
                place=place_world.place, endpoint=endpoint, event_type="report.routed", payload={}
            )
        OutboxMessage.objects.filter(pk=message.pk).update(status="dead")
    return {"endpoint_id": endpoint.pk, "message_id": message.message_id}


def _token(place_world):
    from locus.accounts.services import token_create

    token, _secret = token_create(membership=place_world.memberships["admin"], name="battery")
    return {"token_id": token.pk}


def _invitation(place_world):
    from locus.accounts.services import invitation_create

    invitation, _link = invitation_create(
        actor_membership=place_world.memberships["admin"],
        email="battery.invitee@example.org",
        role="member",
        place=place_world.place,
        accept_url_builder=lambda secret: f"http://testserver/invitations/{secret}/",
    )
    return {"invitation_id": invitation.pk}


CASES = [
    ViewCase("places:staff_home", allowed_role="member", denied_role=None),
    ViewCase("places:areas", allowed_role="admin", denied_role="coordinator", place_team_only=True),
    ViewCase("places:settings", allowed_role="admin", denied_role="analyst", place_team_only=True),
    ViewCase("places:jobs", allowed_role="analyst", denied_role="editor", place_team_only=True),
    ViewCase(
        "places:job",
        allowed_role="coordinator",
        denied_role="member",
        objects=_job,
        place_team_only=True,
    ),
    ViewCase("accounts:members", allowed_role="admin", denied_role="caseworker"),
    ViewCase(
        "accounts:member_role",
        allowed_role="admin",
        denied_role="coordinator",
        objects=_membership,
        method="post",
        data={"role": "analyst"},
        ok_status=(302,),
    ),
    ViewCase(
        "accounts:invitation_withdraw",
        allowed_role="admin",
        denied_role="coordinator",
        objects=_invitation,
        method="post",
        ok_status=(302,),
    ),
    ViewCase("accounts:tokens", allowed_role="caseworker", denied_role="member"),
    ViewCase(
        "accounts:token_revoke",
        allowed_role="admin",
        denied_role="member",
        objects=_token,
        method="post",
        ok_status=(302,),
    ),
    ViewCase("cases:inbox", allowed_role="caseworker", denied_role="analyst"),
    ViewCase("cases:detail", allowed_role="caseworker", denied_role="editor", objects=_case),
    ViewCase(
        "cases:detail",
        allowed_role="coordinator",
        denied_role="analyst",
        objects=_case,
        method="post",
        data={"action": "note", "body": "Called the reporter back."},
        ok_status=(302,),
    ),
    ViewCase("cases:evidence", allowed_role="admin", denied_role="member", objects=_case_evidence),
    ViewCase(
        "cases:rules", allowed_role="coordinator", denied_role="caseworker", place_team_only=True
    ),
    ViewCase(
        "cases:rule_new", allowed_role="coordinator", denied_role="analyst", place_team_only=True
    ),
    ViewCase(
        "cases:rule_new",
        allowed_role="admin",
        denied_role="caseworker",
        method="post",
        data={"action": "save", "name": "Battery rule", "is_active": "on", "stop": "on"},
        ok_status=(302,),
        place_team_only=True,
    ),
    ViewCase(
        "cases:rules_try", allowed_role="coordinator", denied_role="member", place_team_only=True
    ),
    ViewCase(
        "cases:rule_edit",
        allowed_role="coordinator",
        denied_role="editor",
        objects=_rule,
        place_team_only=True,
    ),
    ViewCase(
        "cases:rule_edit",
        allowed_role="coordinator",
        denied_role="caseworker",
        objects=_rule,
        method="post",
        data={"action": "save", "name": "Renamed", "is_active": "on", "stop": "on"},
        ok_status=(302,),
        place_team_only=True,
    ),
    ViewCase(
        "cases:rule_move",
        allowed_role="coordinator",
        denied_role="caseworker",
        objects=_rule,
        method="post",
        data={"direction": "up"},
        ok_status=(302,),
        place_team_only=True,
    ),
    ViewCase(
        "cases:rule_active",
        allowed_role="coordinator",
        denied_role="analyst",
        objects=_rule,
        method="post",
        data={"is_active": "0"},
        ok_status=(302,),
        place_team_only=True,
    ),
    ViewCase(
        "cases:rule_delete",
        allowed_role="admin",
        denied_role="caseworker",
        objects=_rule,
        place_team_only=True,
    ),
    ViewCase(
        "cases:rule_delete",
        allowed_role="coordinator",
        denied_role="member",
        objects=_rule,
        method="post",
        ok_status=(302,),
        place_team_only=True,
    ),
    ViewCase("outbox:endpoints", allowed_role="admin", denied_role="coordinator"),
    ViewCase("outbox:endpoint_new", allowed_role="admin", denied_role="caseworker"),
    ViewCase(
        "outbox:endpoint_new",
        allowed_role="admin",
        denied_role="coordinator",
        method="post",
        data={"url": "https://hooks.example.org/new"},
        ok_status=(303,),
    ),
    ViewCase("outbox:endpoint", allowed_role="admin", denied_role="analyst", objects=_endpoint),
    ViewCase(
        "outbox:endpoint",
        allowed_role="admin",
        denied_role="coordinator",
        objects=_endpoint,
        method="post",
        data={"url": "https://hooks.example.org/changed"},
        ok_status=(302,),
    ),
    ViewCase(
        "outbox:endpoint_rotate",
        allowed_role="admin",
        denied_role="coordinator",
        objects=_endpoint,
        method="post",
        ok_status=(303,),
    ),
    ViewCase(
        "outbox:endpoint_test",
        allowed_role="admin",
        denied_role="coordinator",
        objects=_endpoint,
        method="post",
        ok_status=(303,),
    ),
    # Without a secret just made in this session: to the endpoint's page.
    ViewCase(
        "outbox:endpoint_secret",
        allowed_role="admin",
        denied_role="coordinator",
        objects=_endpoint,
        ok_status=(302,),
    ),
    ViewCase(
        "outbox:endpoint_active",
        allowed_role="admin",
        denied_role="caseworker",
        objects=_endpoint,
        method="post",
        data={"is_active": "0"},
        ok_status=(302,),
    ),
    ViewCase(
        "outbox:message_retry",
        allowed_role="admin",
        denied_role="coordinator",
        objects=_dead_message,
        method="post",
        ok_status=(302,),
    ),
    ViewCase("cases:targets", allowed_role="admin", denied_role="caseworker"),
    ViewCase(
        "cases:targets",
        allowed_role="admin",
        denied_role="coordinator",
        method="post",
        data={"acknowledge_target_hours": "24", "close_target_days": "30"},
        ok_status=(302,),
    ),
]

# Place-scoped URLs anyone may open.
PUBLIC_PLACE_URLS = {
    "places:home",
    "reporting:report",
    "reporting:receipt",
    "reporting:followup",
    # The reporter's own copy and erasure: for the report opened with reference and code in
    # this browser session only (locus/reporting/tests/test_followup_pages.py).
    "reporting:followup_copy",
    "reporting:followup_copy_download",
    "reporting:followup_erase",
    # Library (issue 5 §6): a city's showcase of published library records — public, like the
    # library (locus/library/tests/test_review_api.py::test_showcase_*).
    "library:showcase",
}


# --- Programmes (locus/programmes) ---------------------------------------------------------


def _programme_objects(place_world):
    from locus.programmes.tests.factories import full_programme

    data = full_programme(place_world)
    return data


def _programme(place_world):
    return {"programme_id": _programme_objects(place_world)["programme"].pk}


def _programme_indicator(place_world):
    data = _programme_objects(place_world)
    return {"programme_id": data["programme"].pk, "indicator_id": data["outcome"].pk}


def _programme_period(place_world):
    data = _programme_objects(place_world)
    return {"programme_id": data["programme"].pk, "period_id": data["period"].pk}


def _programme_survey(place_world):
    data = _programme_objects(place_world)
    return {"programme_id": data["programme"].pk, "survey_id": data["survey"].pk}


def _programme_file(place_world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from locus.programmes.services import evidence_add

    data = _programme_objects(place_world)
    with place_scope(place_world.place):
        evidence = evidence_add(
            period=data["period"],
            actor=None,
            uploaded=SimpleUploadedFile("sheet.txt", b"Attendance: 12 people", "text/plain"),
        )
    return {
        "programme_id": data["programme"].pk,
        "period_id": data["period"].pk,
        "file_id": evidence.pk,
    }


def _place_with_programme(place_world):
    _programme_objects(place_world)
    return {}


def _programme_bare_indicator(place_world):
    """An indicator with no results or survey answers yet: one that may be deleted."""
    from locus.programmes.tests.factories import indicator

    data = _programme_objects(place_world)
    bare = indicator(data["programme"], title="Battery indicator without results")
    return {"programme_id": data["programme"].pk, "indicator_id": bare.pk}


CASES += [
    ViewCase("programmes:list", allowed_role="editor", denied_role="member"),
    ViewCase("programmes:new", allowed_role="editor", denied_role="analyst"),
    ViewCase(
        "programmes:new",
        allowed_role="coordinator",
        denied_role="caseworker",
        method="post",
        data={
            "title": "Battery programme",
            "start_date": "2026-01-01",
            "end_date": "2026-12-31",
            "intervention": "education",
            "currency": "GBP",
            "status": "active",
        },
        ok_status=(302,),
    ),
    ViewCase(
        "programmes:portfolio", allowed_role="analyst", denied_role="editor", place_team_only=True
    ),
    ViewCase(
        "programmes:place_iati",
        allowed_role="coordinator",
        denied_role="editor",
        objects=_place_with_programme,
        place_team_only=True,
    ),
    ViewCase("programmes:detail", allowed_role="editor", denied_role="analyst", objects=_programme),
    ViewCase("programmes:edit", allowed_role="editor", denied_role="member", objects=_programme),
    ViewCase("programmes:toc", allowed_role="editor", denied_role="analyst", objects=_programme),
    ViewCase(
        "programmes:toc",
        allowed_role="editor",
        denied_role="caseworker",
        objects=_programme,
        method="post",
        data={"problem": "A problem", "activities": "One\nTwo"},
        ok_status=(302,),
    ),
    ViewCase(
        "programmes:indicator_new", allowed_role="editor", denied_role="analyst", objects=_programme
    ),
    ViewCase(
        "programmes:indicator_edit",
        allowed_role="editor",
        denied_role="caseworker",
        objects=_programme_indicator,
    ),
    ViewCase(
        "programmes:survey_new",
        allowed_role="editor",
        denied_role="analyst",
        objects=_programme_indicator,
    ),
    ViewCase(
        "programmes:period_new",
        allowed_role="editor",
        denied_role="analyst",
        objects=_programme,
        method="post",
        data={"start": "2026-04-01", "end": "2026-06-30"},
        ok_status=(302,),
    ),
    ViewCase(
        "programmes:results",
        allowed_role="editor",
        denied_role="analyst",
        objects=_programme_period,
    ),
    ViewCase(
        "programmes:results",
        allowed_role="editor",
        denied_role="caseworker",
        objects=_programme_period,
        method="post",
        data={"narrative": "Went well."},
        ok_status=(302,),
    ),
    ViewCase(
        "programmes:evidence", allowed_role="editor", denied_role="member", objects=_programme_file
    ),
    ViewCase(
        "programmes:report",
        allowed_role="analyst",
        denied_role="caseworker",
        objects=_programme_period,
    ),
    ViewCase(
        "programmes:report_pdf",
        allowed_role="coordinator",
        denied_role="member",
        objects=_programme_period,
    ),
    ViewCase(
        "programmes:survey", allowed_role="editor", denied_role="analyst", objects=_programme_survey
    ),
    ViewCase("programmes:iati", allowed_role="editor", denied_role="analyst", objects=_programme),
    ViewCase(
        "programmes:publish",
        allowed_role="editor",
        denied_role="analyst",
        objects=_programme,
        method="post",
        ok_status=(302,),
    ),
    # Deleting an indicator (without results) and an evidence file: confirm (GET), then POST.
    ViewCase(
        "programmes:indicator_delete",
        allowed_role="editor",
        denied_role="analyst",
        objects=_programme_bare_indicator,
    ),
    ViewCase(
        "programmes:indicator_delete",
        allowed_role="coordinator",
        denied_role="caseworker",
        objects=_programme_bare_indicator,
        method="post",
        ok_status=(302,),
    ),
    ViewCase(
        "programmes:evidence_delete",
        allowed_role="editor",
        denied_role="member",
        objects=_programme_file,
    ),
    ViewCase(
        "programmes:evidence_delete",
        allowed_role="editor",
        denied_role="analyst",
        objects=_programme_file,
        method="post",
        ok_status=(302,),
    ),
]
# The anonymous questionnaire of a survey (by its token; no personal data).
PUBLIC_PLACE_URLS |= {"programmes:survey_public", "programmes:survey_thanks"}


# --- Alerts and context indicators (locus/alerts, locus/places/indicator_*) -----------------


def _alarm(place_world):
    from datetime import date

    from locus.alerts.models import Alarm

    with place_scope(place_world.place):
        alarm, _created = Alarm.objects.get_or_create(
            place=place_world.place,
            week=date(2026, 3, 2),
            series_key="place|bias:antisemitism",
            defaults={
                "axis": "bias",
                "category": "antisemitism",
                "method": "ears",
                "observed": 30,
                "expected": 5.0,
                "upper_bound": 14.0,
                "p_value": 0.0001,
                "q_value": 0.001,
                "score": 2.5,
            },
        )
    return {"alarm_id": alarm.pk}


CASES += [
    ViewCase("alerts:index", allowed_role="analyst", denied_role="editor", place_team_only=True),
    # Partners' too: their notices (week, area, category) and their subscription.
    ViewCase("alerts:subscription", allowed_role="caseworker", denied_role="analyst"),
    ViewCase(
        "alerts:subscription",
        allowed_role="caseworker",
        denied_role="analyst",
        method="post",
        data={"bias": ["antisemitism"], "is_active": "on"},
        ok_status=(302,),
    ),
    ViewCase(
        "alerts:detail",
        allowed_role="caseworker",
        denied_role="editor",
        objects=_alarm,
        place_team_only=True,
    ),
    ViewCase(
        "alerts:close",
        allowed_role="coordinator",
        denied_role="caseworker",
        objects=_alarm,
        method="post",
        ok_status=(302,),
        place_team_only=True,
    ),
    ViewCase(
        "indicators:context", allowed_role="caseworker", denied_role="editor", place_team_only=True
    ),
    ViewCase(
        "indicators:import", allowed_role="analyst", denied_role="caseworker", place_team_only=True
    ),
]


# --- Insights dashboard, service figures and annotations (locus/insights) ------------------


def _annotation(place_world):
    from datetime import date

    from locus.insights.services import annotation_create

    with place_scope(place_world.place):
        annotation = annotation_create(
            place=place_world.place,
            starts_on=date(2026, 2, 21),
            ends_on=date(2026, 2, 27),
            text="Battery event",
        )
    return {"annotation_id": annotation.pk}


CASES += [
    ViewCase(
        "insights:dashboard", allowed_role="caseworker", denied_role="editor", place_team_only=True
    ),
    ViewCase(
        "insights:service", allowed_role="analyst", denied_role="member", place_team_only=True
    ),
    ViewCase(
        "insights:annotations",
        allowed_role="analyst",
        denied_role="caseworker",
        place_team_only=True,
    ),
    ViewCase(
        "insights:annotations",
        allowed_role="coordinator",
        denied_role="caseworker",
        method="post",
        data={"starts_on": "2026-02-21", "ends_on": "2026-02-22", "text": "Battery"},
        ok_status=(302,),
        place_team_only=True,
    ),
    ViewCase(
        "insights:annotation_edit",
        allowed_role="analyst",
        denied_role="editor",
        objects=_annotation,
        place_team_only=True,
    ),
    ViewCase(
        "insights:annotation_edit",
        allowed_role="coordinator",
        denied_role="caseworker",
        objects=_annotation,
        method="post",
        data={"starts_on": "2026-02-21", "ends_on": "2026-02-21", "text": "Changed"},
        ok_status=(302,),
        place_team_only=True,
    ),
    ViewCase(
        "insights:annotation_delete",
        allowed_role="admin",
        denied_role="member",
        objects=_annotation,
        place_team_only=True,
    ),
    ViewCase(
        "insights:annotation_delete",
        allowed_role="coordinator",
        denied_role="caseworker",
        objects=_annotation,
        method="post",
        ok_status=(302,),
        place_team_only=True,
    ),
]


# --- Open data, exports and network roll-ups (locus/insights/public_*.py) --------------------

CASES += [
    ViewCase(
        "insights_data:exports", allowed_role="analyst", denied_role="member", place_team_only=True
    ),
    ViewCase(
        "insights_data:export_records",
        allowed_role="coordinator",
        denied_role="editor",
        place_team_only=True,
    ),
]
# The public open data of a place (locus/insights/tests/test_open_data.py): suppressed figures.
PUBLIC_PLACE_URLS |= {
    "insights_data:open_data",
    "insights_data:open_data_csv",
    "insights_data:open_data_geojson",
}


# --- Directory (locus/directory) ------------------------------------------------------------


def _dir_organisation(place_world):
    return {"organisation_id": place_world.organisation.pk}


def _dir_service(place_world):
    from locus.directory.tests.factories import world_service

    return {"service_id": world_service(place_world).pk}


def _dir_partnership(place_world):
    from locus.directory.tests.factories import listed_organisation, make_partnership

    partner = listed_organisation(place_world.place, f"Partner of {place_world.place.slug}")
    partnership = make_partnership(place_world.place, place_world.organisation, partner)
    return {"partnership_id": partnership.pk}


DIRECTORY_SERVICE_FORM = {
    "name": "Battery service",
    "service_type": "helpline",
    "status": "active",
    "whole_place": "on",
}

CASES += [
    ViewCase("directory:index", allowed_role="editor", denied_role="caseworker"),
    ViewCase(
        "directory:organisation",
        allowed_role="editor",
        denied_role="analyst",
        objects=_dir_organisation,
    ),
    ViewCase(
        "directory:organisation",
        allowed_role="admin",
        denied_role="caseworker",
        objects=_dir_organisation,
        method="post",
        data={"name": "Renamed council"},
        ok_status=(302,),
    ),
    ViewCase(
        "directory:organisation_check",
        allowed_role="editor",
        denied_role="member",
        objects=_dir_organisation,
        method="post",
        ok_status=(302,),
    ),
    ViewCase(
        "directory:service_new",
        allowed_role="editor",
        denied_role="analyst",
        objects=_dir_organisation,
    ),
    ViewCase(
        "directory:service_new",
        allowed_role="coordinator",
        denied_role="caseworker",
        objects=_dir_organisation,
        method="post",
        data=DIRECTORY_SERVICE_FORM,
        ok_status=(302,),
    ),
    ViewCase(
        "directory:service_edit", allowed_role="editor", denied_role="member", objects=_dir_service
    ),
    ViewCase(
        "directory:service_edit",
        allowed_role="admin",
        denied_role="analyst",
        objects=_dir_service,
        method="post",
        data=DIRECTORY_SERVICE_FORM,
        ok_status=(302,),
    ),
    ViewCase(
        "directory:service_delete",
        allowed_role="editor",
        denied_role="caseworker",
        objects=_dir_service,
    ),
    ViewCase(
        "directory:service_delete",
        allowed_role="coordinator",
        denied_role="member",
        objects=_dir_service,
        method="post",
        ok_status=(302,),
    ),
    ViewCase(
        "directory:partnership_new",
        allowed_role="editor",
        denied_role="analyst",
        objects=_dir_organisation,
    ),
    ViewCase(
        "directory:partnership_delete",
        allowed_role="admin",
        denied_role="caseworker",
        objects=_dir_partnership,
        method="post",
        ok_status=(302,),
    ),
    # Place-wide (MANAGE_DIRECTORY): an editor, who may edit its own entry, gets 403.
    ViewCase(
        "directory:organisation_new",
        allowed_role="coordinator",
        denied_role="editor",
        place_team_only=True,
    ),
    ViewCase(
        "directory:organisation_new",
        allowed_role="admin",
        denied_role="caseworker",
        method="post",
        data={"name": "Battery partner", "type": "cso"},
        ok_status=(302,),
        place_team_only=True,
    ),
    ViewCase(
        "directory:coverage", allowed_role="coordinator", denied_role="editor", place_team_only=True
    ),
    ViewCase(
        "directory:pathways", allowed_role="coordinator", denied_role="editor", place_team_only=True
    ),
    ViewCase("directory:network", allowed_role="admin", denied_role="editor", place_team_only=True),
    ViewCase(
        "directory:import", allowed_role="coordinator", denied_role="editor", place_team_only=True
    ),
    ViewCase("directory:export", allowed_role="admin", denied_role="editor", place_team_only=True),
    ViewCase(
        "directory:settings", allowed_role="admin", denied_role="editor", place_team_only=True
    ),
    ViewCase(
        "directory:settings",
        allowed_role="coordinator",
        denied_role="analyst",
        method="post",
        data={"check_every_days": "120"},
        ok_status=(302,),
        place_team_only=True,
    ),
]
# The public directory (no sign-in; locus/directory/tests/test_views.py).
PUBLIC_PLACE_URLS |= {"directory:public", "directory:public_service"}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_isolation_battery(case, world, client):
    run_battery(case, world, client)


def _place_views():
    views = {}

    def walk(patterns, namespace=""):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, ns)
            elif pattern.name:
                views[namespace + pattern.name] = pattern.callback

    walk(get_resolver().url_patterns)
    return views


def test_place_wide_views_are_checked_for_partners():
    """A case is marked `place_team_only` exactly when its view needs a place-wide capability
    (staff_view records it), so the battery proves a partner's member gets 403 on each: the
    exact insights above all (docs/insights.md, "Who sees exact figures")."""
    from locus.accounts.policies import PLACE_WIDE_CAPABILITIES

    views = _place_views()
    wrong = [
        (case.name, case.method)
        for case in CASES
        if case.place_team_only
        != (getattr(views[case.name], "locus_capability", None) in PLACE_WIDE_CAPABILITIES)
    ]
    assert wrong == [], "mark these cases place_team_only (or unmark them)"


def _place_url_names():
    names = set()

    def walk(patterns, namespace=""):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, ns)
            elif pattern.name and "place_slug" in pattern.pattern.regex.pattern:
                names.add(namespace + pattern.name)

    walk(get_resolver().url_patterns)
    return names


def test_every_place_url_is_covered():
    covered = {case.name for case in CASES} | PUBLIC_PLACE_URLS
    place_urls = {n for n in _place_url_names() if not n.startswith("api:")}
    assert place_urls - covered == set(), "add these views to the isolation battery"


# --- Navigation: no link to a page that refuses the person ----------------------------------

_STAFF_NAV = re.compile(r'<nav class="staff-nav".*?</nav>', re.S)
_TILES = re.compile(r'<a class="tile" href="([^"]+)"')
_HREF = re.compile(r'href="([^"]+)"')


def _staff_links(html):
    nav = _STAFF_NAV.search(html)
    links = set(_HREF.findall(nav.group(0))) if nav else set()
    return links | set(_TILES.findall(html))


@pytest.mark.parametrize("partner", [False, True], ids=["place team", "partner"])
@pytest.mark.parametrize(
    "role", ["admin", "coordinator", "caseworker", "analyst", "editor", "member"]
)
def test_every_staff_link_opens_for_the_person_it_is_shown_to(world, client, role, partner):
    """The staff navigation and the staff home's tiles link only to pages the person may open:
    a partner's caseworker, whose role reads insights but whose organisation does not run Locus
    in the place, is offered the public open data instead of the exact insights (403)."""
    from django.urls import reverse

    from locus.core.testing.world import partner_member

    a = world.a
    user = partner_member(a, role).user if partner else a.users[role]
    client.force_login(user)
    html = client.get(reverse("places:staff_home", args=[a.place.slug])).content.decode()
    links = _staff_links(html)
    assert links
    for link in sorted(links):
        assert client.get(link).status_code == 200, link
    dashboard = reverse("insights:dashboard", args=[a.place.slug])
    open_data = reverse("insights_data:open_data", args=[a.place.slug])
    reads_insights = role not in ("editor", "member")
    assert (dashboard in links) == (reads_insights and not partner)
    assert (open_data in links) == (reads_insights and partner)
    # Alerts: the alarms for the team, the organisation's subscription and notices for a
    # partner whose role may subscribe.
    alarms = reverse("alerts:index", args=[a.place.slug])
    notices = reverse("alerts:subscription", args=[a.place.slug])
    assert (alarms in links) == (reads_insights and not partner)
    assert (notices in links) == (partner and role in ("admin", "coordinator", "caseworker"))

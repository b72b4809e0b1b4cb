"""Every staff view of every place passes the isolation battery, and every place-scoped URL
is either in the battery or declared public."""

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


CASES = [
    ViewCase("places:staff_home", allowed_role="member", denied_role=None),
    ViewCase("places:areas", allowed_role="admin", denied_role="coordinator"),
    ViewCase("places:settings", allowed_role="admin", denied_role="analyst"),
    ViewCase("places:jobs", allowed_role="analyst", denied_role="editor"),
    ViewCase("places:job", allowed_role="coordinator", denied_role="member", objects=_job),
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
    ViewCase("cases:rules", allowed_role="coordinator", denied_role="caseworker"),
    ViewCase("cases:rule_new", allowed_role="coordinator", denied_role="analyst"),
    ViewCase(
        "cases:rule_new",
        allowed_role="admin",
        denied_role="caseworker",
        method="post",
        data={"action": "save", "name": "Battery rule", "is_active": "on"},
        ok_status=(302,),
    ),
    ViewCase("cases:rules_try", allowed_role="coordinator", denied_role="member"),
    ViewCase("cases:rule_edit", allowed_role="coordinator", denied_role="editor", objects=_rule),
    ViewCase(
        "cases:rule_edit",
        allowed_role="coordinator",
        denied_role="caseworker",
        objects=_rule,
        method="post",
        data={"action": "save", "name": "Renamed", "is_active": "on"},
        ok_status=(302,),
    ),
    ViewCase(
        "cases:rule_move",
        allowed_role="coordinator",
        denied_role="caseworker",
        objects=_rule,
        method="post",
        data={"direction": "up"},
        ok_status=(302,),
    ),
    ViewCase(
        "cases:rule_active",
        allowed_role="coordinator",
        denied_role="analyst",
        objects=_rule,
        method="post",
        data={"is_active": "0"},
        ok_status=(302,),
    ),
    ViewCase("cases:rule_delete", allowed_role="admin", denied_role="caseworker", objects=_rule),
    ViewCase(
        "cases:rule_delete",
        allowed_role="coordinator",
        denied_role="member",
        objects=_rule,
        method="post",
        ok_status=(302,),
    ),
    ViewCase("outbox:endpoints", allowed_role="admin", denied_role="coordinator"),
    ViewCase("outbox:endpoint_new", allowed_role="admin", denied_role="caseworker"),
    ViewCase(
        "outbox:endpoint_new",
        allowed_role="admin",
        denied_role="coordinator",
        method="post",
        data={"url": "https://hooks.example.org/new"},
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
}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_isolation_battery(case, world, client):
    run_battery(case, world, client)


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

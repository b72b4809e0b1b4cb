"""The caseworker inbox and case page: what each level shows, who gets 404 or 403, audit on
every view, the workflow forms, filters, the query budget and evidence downloads."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from locus.cases.choices import CaseStatus
from locus.cases.models import CaseNote
from locus.core.choices import AuditAction
from locus.core.models import AuditEvent
from locus.core.testing.factories import MembershipFactory, UserFactory
from locus.core.testing.world import enable_totp

from .factories import ONLINE, REPORT, cases_of, route_to, submit

SECRETS = ("resident@example.org", "Ana Resident", "+447700900123")


@pytest.fixture
def person():
    """`person(organisation, role)` → a user with MFA and one membership."""

    def make(organisation, role="caseworker"):
        user = UserFactory()
        enable_totp(user)
        MembershipFactory(user=user, organisation=organisation, role=role)
        return user

    return make


@pytest.fixture
def everyone(world, partners):
    route_to(world.a.place, partners.in_a())
    return partners


def detail_url(place, case):
    return reverse("cases:detail", kwargs={"place_slug": place.slug, "case_id": case.pk})


def inbox_url(place):
    return reverse("cases:inbox", kwargs={"place_slug": place.slug})


def page(client, user, url, **params):
    client.force_login(user)
    return client.get(url, params)


def test_content_only_shows_the_content_and_nothing_about_the_reporter(
    world, everyone, client, person
):
    report = submit(world.a.place, ONLINE, area=world.a.areas[0], evidence=True)
    case = cases_of(report)[everyone.platform]
    assert case.decision.level == "content_only"
    response = page(client, person(everyone.platform), detail_url(world.a.place, case))
    html = response.content.decode()
    assert response.status_code == 200
    assert "https://x.com/someone/status/1" in html and "X (Twitter)" in html
    assert "Hateful content online" in html
    for hidden in ("I found this post", "finder@example.org", world.a.areas[0].name, "/evidence/"):
        assert hidden not in html
    # What the reporter said about who was targeted is not shown (the classify form still
    # offers every bias code, for the staff's own view of the content).
    report_section = html.split('id="report-heading"')[1].split('id="routing-heading"')[0]
    assert "Antisemitism" not in report_section and "Who was targeted" not in report_section


def test_anonymised_shows_the_account_but_never_the_contact(world, everyone, client, person):
    report = submit(world.a.place, evidence=True)
    case = cases_of(report)[everyone.police]
    assert case.decision.level == "anonymised"
    response = page(client, person(everyone.police), detail_url(world.a.place, case))
    html = response.content.decode()
    assert "burn our house down" in html and "Outside 12 Station Road" in html
    assert "/evidence/" in html
    for secret in (*SECRETS, "PR-778899"):
        assert secret not in html


def test_full_with_contact_shows_the_contact(world, everyone, client, person):
    report = submit(world.a.place)
    case = cases_of(report)[everyone.charity]
    assert case.decision.level == "full" and case.decision.with_contact
    html = page(client, person(everyone.charity), detail_url(world.a.place, case)).content
    for secret in (*SECRETS, "PR-778899", "burn our house down"):
        assert secret.encode() in html


def test_full_without_contact_hides_the_contact(world, everyone, client):
    report = submit(world.a.place, REPORT | {"consent_support_contact": False})
    case = cases_of(report)[everyone.team]
    assert case.decision.level == "full" and not case.decision.with_contact
    html = page(client, world.a.users["caseworker"], detail_url(world.a.place, case)).content
    assert b"burn our house down" in html
    for secret in SECRETS:
        assert secret.encode() not in html


def test_another_organisation_of_the_place_gets_404(world, everyone, client, person):
    report = submit(world.a.place)
    cases = cases_of(report)
    police = person(everyone.police)
    assert (
        page(client, police, detail_url(world.a.place, cases[everyone.charity])).status_code == 404
    )
    assert (
        page(client, police, detail_url(world.a.place, cases[everyone.police])).status_code == 200
    )
    # The platform was sent nothing: it has no case at all.
    assert everyone.platform not in cases


def test_place_team_reads_other_cases_but_cannot_act(world, everyone, client, in_place):
    report = submit(world.a.place, REPORT | {"consent_support_contact": False})
    police_case = cases_of(report)[everyone.police]
    url = detail_url(world.a.place, police_case)
    response = page(client, world.a.users["coordinator"], url)
    assert response.status_code == 200
    assert b"Read-only" in response.content and b'name="action"' not in response.content
    # The routing explanation is the owner's, not the reader's.
    html = response.content.decode()
    assert f"Why {police_case.organisation.name} received it" in html
    assert "Why your organisation received it" not in html
    response = client.post(url, {"action": "acknowledge"})
    assert response.status_code == 403
    police_case.refresh_from_db()
    assert police_case.status == CaseStatus.NEW


def test_viewing_a_case_is_audited(world, everyone, client, person):
    report = submit(world.a.place)
    case = cases_of(report)[everyone.police]
    user = person(everyone.police)
    page(client, user, detail_url(world.a.place, case))
    event = AuditEvent.objects.get(action=AuditAction.CASE_VIEWED)
    assert event.actor == user and event.place == world.a.place
    assert event.target_type == "cases.case" and event.target_id == str(case.pk)
    assert event.data["level"] == "anonymised" and event.data["with_contact"] is False
    assert event.data["own"] is True


def test_workflow_forms_post_redirect_and_refuse_with_422(world, everyone, client):
    report = submit(world.a.place)
    case = cases_of(report)[everyone.team]
    url = detail_url(world.a.place, case)
    client.force_login(world.a.users["caseworker"])

    response = client.post(url, {"action": "acknowledge"})
    assert response.status_code == 302 and response["Location"] == url
    case.refresh_from_db()
    assert case.status == CaseStatus.ACKNOWLEDGED

    response = client.post(url, {"action": "acknowledge"})
    assert response.status_code == 422
    assert b"Only a new case can be acknowledged." in response.content

    response = client.post(url, {"action": "close", "outcome": ""})
    assert response.status_code == 422 and b"errorlist" in response.content

    response = client.post(url, {"action": "note", "body": "Spoke to the neighbour's landlord."})
    assert response.status_code == 302
    response = client.get(url)
    assert b"Spoke to the neighbour&#x27;s landlord." in response.content

    coordinator = world.a.users["coordinator"]
    response = client.post(url, {"action": "assign", "assignee": coordinator.pk})
    assert response.status_code == 302
    response = client.post(url, {"action": "assign", "assignee": world.a.users["analyst"].pk})
    assert response.status_code == 422

    response = client.post(
        url,
        {
            "action": "classify",
            "verification": "verified",
            "bias": ["antisemitism"],
            "ideology": "far_right",
        },
    )
    assert response.status_code == 302
    response = client.post(url, {"action": "close", "outcome": "supported"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.assigned_to == coordinator
    assert case.verified_bias == ["antisemitism"] and case.ideology == "far_right"
    response = client.post(url, {"action": "explode"})
    assert response.status_code == 422


def test_notes_are_not_shown_to_the_place_team_on_another_organisations_case(
    world, everyone, client, person, in_place
):
    report = submit(world.a.place)
    case = cases_of(report)[everyone.police]
    officer = person(everyone.police)
    client.force_login(officer)
    client.post(detail_url(world.a.place, case), {"action": "note", "body": "Suspect known to us."})
    with in_place(world.a.place):
        assert CaseNote.objects.filter(case=case).count() == 1
    html = page(client, world.a.users["admin"], detail_url(world.a.place, case)).content
    assert b"Suspect known to us." not in html


def test_inbox_lists_filters_and_counts(world, everyone, client, in_place):
    north, south = world.a.areas
    threat = submit(world.a.place, area=north)
    online = submit(world.a.place, ONLINE, area=south)
    caseworker = world.a.users["caseworker"]
    client.force_login(caseworker)
    client.post(detail_url(world.a.place, cases_of(threat)[everyone.team]), {"action": "start"})
    url = inbox_url(world.a.place)

    html = client.get(url).content.decode()
    assert threat.reference in html and online.reference in html
    assert "All (2)" in html and "In progress (1)" in html and "New (1)" in html
    html = client.get(url, {"status": "in_progress"}).content.decode()
    assert threat.reference in html and online.reference not in html
    html = client.get(url, {"area": south.pk}).content.decode()
    assert threat.reference not in html and online.reference in html
    html = client.get(url, {"incident_type": "threat"}).content.decode()
    assert threat.reference in html and online.reference not in html
    html = client.get(url, {"mine": "on"}).content.decode()
    assert threat.reference not in html and online.reference not in html
    # A bad filter value is ignored, not an error; the other filters still apply (an area
    # since removed, in a bookmarked link, does not widen the list to every status).
    assert client.get(url, {"status": "bogus", "page": "x"}).status_code == 200
    html = client.get(url, {"status": "in_progress", "area": 999999999}).content.decode()
    assert threat.reference in html and online.reference not in html
    html = client.get(url, {"area": south.pk, "incident_type": "bogus"}).content.decode()
    assert threat.reference not in html and online.reference in html
    # The place team can widen the list; others' cases then show their organisation.
    html = client.get(url, {"scope": "all"}).content.decode()
    assert everyone.police.name in html


def test_inbox_hides_the_area_of_content_only_cases(world, everyone, client, person):
    submit(world.a.place, ONLINE, area=world.a.areas[1])
    html = page(client, person(everyone.platform), inbox_url(world.a.place)).content.decode()
    assert "Not shared" in html and world.a.areas[1].name not in html.split("<table")[1]


def test_inbox_query_count_does_not_grow_with_rows(world, everyone, client):
    client.force_login(world.a.users["caseworker"])
    url = inbox_url(world.a.place)
    submit(world.a.place, area=world.a.areas[0])
    client.get(url)  # warm caches (taxonomy, session)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for index in range(6):
        submit(world.a.place, ONLINE if index % 2 else REPORT, area=world.a.areas[index % 2])
    response = None
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.content.decode().count("/staff/cases/") >= 7
    assert len(many) == len(one), [q["sql"] for q in many.captured_queries]


def test_inbox_pages_by_fifty(world, everyone, client):
    from locus.cases import views

    route_to(world.a.place, [world.a.organisation], name="Team only")
    for _index in range(3):
        submit(world.a.place)
    original = views.PAGE_SIZE
    views.PAGE_SIZE = 2
    try:
        html = page(client, world.a.users["caseworker"], inbox_url(world.a.place)).content
        assert b"Page 1 of 2" in html and b'rel="next"' in html
    finally:
        views.PAGE_SIZE = original
    assert original == 50


def test_evidence_download_is_audited_and_not_for_content_only(world, everyone, client, person):
    from locus.cases.selectors import case_evidence
    from locus.core.tenancy import place_scope

    report = submit(world.a.place, ONLINE, evidence=True)
    cases = cases_of(report)
    with place_scope(world.a.place):
        evidence = case_evidence(cases[everyone.charity]).get()

    def url(case):
        return reverse(
            "cases:evidence",
            kwargs={
                "place_slug": world.a.place.slug,
                "case_id": case.pk,
                "evidence_id": evidence.pk,
            },
        )

    client.force_login(person(everyone.charity))
    response = client.get(url(cases[everyone.charity]))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert "attachment" in response["Content-Disposition"]
    assert report.reference in response["Content-Disposition"]
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
    event = AuditEvent.objects.get(action=AuditAction.EVIDENCE_DOWNLOADED)
    assert event.data == {
        "case": cases[everyone.charity].pk,
        "report": report.pk,
        "evidence": evidence.pk,
    }
    client.force_login(person(everyone.platform))
    assert client.get(url(cases[everyone.platform])).status_code == 404

    # A row whose stored file is missing: 404, not a server error, and no audit event.
    client.force_login(person(everyone.charity))
    evidence.file.storage.delete(evidence.file.name)
    assert client.get(url(cases[everyone.charity])).status_code == 404
    assert AuditEvent.objects.filter(action=AuditAction.EVIDENCE_DOWNLOADED).count() == 1


def test_inbox_link_in_the_staff_menu_only_for_case_roles(world, client):
    staff_home = reverse("places:staff_home", kwargs={"place_slug": world.a.place.slug})
    link = f'href="{inbox_url(world.a.place)}"'.encode()
    assert link in page(client, world.a.users["caseworker"], staff_home).content
    assert link not in page(client, world.a.users["analyst"], staff_home).content


def test_the_detail_names_matched_conditions_in_words(client, world, in_place):
    from locus.cases.models import Case
    from locus.cases.services import routing_rule_save
    from locus.reporting.services import report_submit

    side = world.a
    with in_place(side.place):
        routing_rule_save(
            place=side.place,
            actor=side.users["coordinator"],
            name="Antisemitism here",
            conditions={"bias": ["antisemitism"], "area": [side.areas[0].pk]},
            destinations=[side.organisation],
        )
        report = report_submit(
            place=side.place,
            data={
                "incident_type": "threat",
                "reporter_role": "victim",
                "bias": ["antisemitism"],
                "account": "They said they would be back.",
                "setting": "street",
                "area": side.areas[0],
            },
        ).report
        case = Case.objects.get(report=report)
    client.force_login(side.users["caseworker"])
    html = client.get(f"/alpha/staff/cases/{case.pk}/").content.decode()
    assert "Antisemitism" in html and side.areas[0].name in html
    assert "<code>bias</code>" not in html


def test_an_old_report_reads_in_todays_wording(client, world, in_place):
    """A report written in taxonomy 2026.1 keeps its version; its codes are shown with the
    current (inclusive) labels, since codes never change meaning."""
    from locus.cases.models import Case
    from locus.cases.services import routing_rule_save
    from locus.reporting.models import Report
    from locus.reporting.services import report_submit
    from locus.reporting.taxonomy import taxonomy

    side = world.a
    with in_place(side.place):
        routing_rule_save(
            place=side.place,
            actor=side.users["coordinator"],
            name="Racism",
            conditions={"bias": ["racism_xenophobia"]},
            destinations=[side.organisation],
        )
        report = report_submit(
            place=side.place,
            data={
                "incident_type": "abusive_behaviour",
                "reporter_role": "victim",
                "bias": ["anti_black"],
                "account": "Shouted at from a car.",
                "setting": "home_neighbourhood",
            },
        ).report
        Report.objects.filter(pk=report.pk).update(taxonomy_version="2026.1")
        case = Case.objects.get(report=report)
    client.force_login(side.users["caseworker"])
    client.cookies["django_language"] = "fr"
    html = client.get(f"/alpha/staff/cases/{case.pk}/").content.decode()
    assert taxonomy("2026.1").label("bias", "anti_black", "fr") == "Racisme anti-Noirs"
    assert "Racisme envers les personnes noires" in html
    assert "anti-Noirs" not in html


@pytest.mark.parametrize(
    ("language", "all_tab", "close"),
    [("fr", "Tous (1)", "Clore"), ("de", "Alle (1)", "Abschließen"), ("sv", "Alla (1)", "Avsluta")],
)
def test_the_inbox_tab_and_the_close_step_are_worded_for_cases(
    world, everyone, client, language, all_tab, close
):
    """ "All" (the status filter) and "Close" (a step of a case) were the words of other places:
    the open data's total row ("Ensemble", "Gesamt") and the reporter's button that closes the
    follow-up page on their device ("Fermer", "Schließen", "Stäng")."""
    report = submit(world.a.place)
    case = cases_of(report)[everyone.team]
    client.force_login(world.a.users["caseworker"])
    headers = {"Accept-Language": language}
    inbox = client.get(inbox_url(world.a.place), headers=headers).content.decode()
    assert all_tab in inbox and f'<th scope="row">{close}</th>' in inbox
    if language == "sv":  # the filter's box: "assigned me" read as if the cases assigned me
        assert "Tilldelade till mig" in inbox
    detail = client.get(detail_url(world.a.place, case), headers=headers).content.decode()
    assert f"<h3>{close}</h3>" in detail

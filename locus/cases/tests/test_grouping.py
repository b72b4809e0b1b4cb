"""Groups of reports of the same online content, suggested duplicates, merge and split."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from locus.cases.choices import CaseEventKind, CaseStatus, Verification
from locus.cases.models import Case, CaseEvent
from locus.cases.selectors import (
    DUPLICATE_CANDIDATES,
    case_duplicate_suggestions,
    case_group,
    case_list,
    case_stats,
)
from locus.cases.services import (
    case_acknowledge,
    case_close,
    case_merge,
    case_reopen,
    case_split,
)
from locus.core.choices import AuditAction
from locus.core.errors import PermissionDenied, ValidationFailed
from locus.core.models import AuditEvent
from locus.reporting.choices import ReportStatus
from locus.reporting.models import Report

from .factories import ONLINE, REPORT, cases_of, route_to, submit

ACCOUNT = (
    "Two men followed me from the tram stop on Market Street shouting abuse about my "
    "headscarf, then one of them spat at me and they ran towards the park."
)


@pytest.fixture
def team(world):
    route_to(world.a.place, [world.a.organisation], name="Team")
    membership = world.a.memberships["caseworker"]
    membership.manages_place = True
    return membership


def team_case_of(report):
    return next(iter(cases_of(report).values()))


def online(url="https://x.com/someone/status/1", **extra):
    return ONLINE | {"content_url": url} | extra


def inbox_url():
    return reverse("cases:inbox", kwargs={"place_slug": "alpha"})


def detail_url(case):
    return reverse("cases:detail", kwargs={"place_slug": "alpha", "case_id": case.pk})


# --- groups --------------------------------------------------------------------------------


def test_reports_of_the_same_content_are_one_inbox_row_with_its_count(
    world, team, client, in_place
):
    same = [
        submit(world.a.place, online()),
        submit(world.a.place, online("https://www.X.com/someone/status/1/?utm_source=a")),
        submit(world.a.place, online("http://x.com/someone/status/1#reply")),
    ]
    other = submit(world.a.place, online("https://x.com/another/status/2"))
    threat = submit(world.a.place)
    with in_place(world.a.place):
        rows = list(case_list(world.a.place, team, grouped=True))
        assert [row.report for row in rows] == [threat, other, same[-1]]
        assert [row.group_size for row in rows] == [1, 1, 3]
        # Ungrouped (the API, an opened group): every case, each with its group's size.
        assert [r.group_size for r in case_list(world.a.place, team)] == [1, 1, 3, 3, 3]
        assert case_stats(world.a.place, team)["all"] == 5
        group = list(case_group(team_case_of(same[0])))
        assert [c.report for c in group] == same
        assert list(case_group(team_case_of(threat))) == []

    client.force_login(world.a.users["caseworker"])
    html = client.get(inbox_url()).content.decode()
    assert "reported 3 times" in html
    for report in (threat, other, same[-1]):
        assert report.reference in html
    for report in same[:2]:
        assert report.reference not in html
    key = same[0].content_key
    html = client.get(inbox_url(), {"group": key}).content.decode()
    assert all(r.reference in html for r in same)
    assert threat.reference not in html and other.reference not in html
    assert "reported 3 times" not in html and "Back to the whole inbox" in html
    # A malformed group key is ignored like any bad filter.
    assert client.get(inbox_url(), {"group": "x' OR 1=1"}).status_code == 200


def test_the_group_is_per_organisation_and_under_the_filters(world, partners, in_place):
    route_to(world.a.place, [partners.team, partners.platform])
    first = submit(world.a.place, online())
    second = submit(world.a.place, online())
    team = world.a.memberships["caseworker"]
    team.manages_place = True
    with in_place(world.a.place):
        case_acknowledge(case=team_case(first, partners), membership=team)
        rows = list(case_list(world.a.place, team, {"scope": "all"}, grouped=True))
        # One row per organisation's group.
        assert sorted((r.organisation_id, r.group_size) for r in rows) == sorted(
            [(partners.team.pk, 2), (partners.platform.pk, 2)]
        )
        rows = list(case_list(world.a.place, team, {"status": "new"}, grouped=True))
        assert [(r.report, r.group_size) for r in rows] == [(second, 1)]


def team_case(report, partners):
    return cases_of(report)[partners.team]


def test_the_case_page_shows_the_group_and_its_size(world, team, client):
    reports = [submit(world.a.place, online()) for _ in range(3)]
    client.force_login(world.a.users["caseworker"])
    html = client.get(detail_url(team_case_of(reports[1]))).content.decode()
    assert "This online content was reported 3 times to your organisation" in html
    for report in reports:
        assert report.reference in html
    assert f"?group={reports[0].content_key}" in html


def test_grouped_inbox_query_count_does_not_grow(world, team, client):
    client.force_login(world.a.users["caseworker"])
    submit(world.a.place, online())
    client.get(inbox_url())
    with CaptureQueriesContext(connection) as one:
        client.get(inbox_url())
    for index in range(6):
        submit(world.a.place, online(f"https://x.com/s/{index % 3}") if index % 2 else REPORT)
    with CaptureQueriesContext(connection) as many:
        response = client.get(inbox_url())
    assert response.status_code == 200
    assert len(many) == len(one), [q["sql"] for q in many.captured_queries]


# --- suggested duplicates ------------------------------------------------------------------


def test_near_identical_accounts_are_suggested(world, team, in_place):
    first = submit(world.a.place, REPORT | {"account": ACCOUNT})
    copy = submit(
        world.a.place,
        REPORT | {"account": ACCOUNT.replace("Two men", "Two  MEN").replace("park", "park!")},
    )
    different = submit(world.a.place, REPORT | {"account": "Graffiti on the synagogue wall."})
    with in_place(world.a.place):
        suggestions = case_duplicate_suggestions(team_case_of(first))
        assert [s.case.report for s in suggestions] == [copy]
        assert 0.8 <= suggestions[0].similarity <= 1
        assert case_duplicate_suggestions(team_case_of(different)) == []


def test_duplicates_are_only_suggested_close_in_time_and_open(world, team, in_place):
    first = submit(world.a.place, REPORT | {"account": ACCOUNT})
    old = submit(world.a.place, REPORT | {"account": ACCOUNT})
    closed = submit(world.a.place, REPORT | {"account": ACCOUNT})
    with in_place(world.a.place):
        Report.objects.filter(pk=old.pk).update(
            submitted_at=first.submitted_at - timedelta(days=30)
        )
        case_close(case=team_case_of(closed), membership=team, outcome="supported")
        assert case_duplicate_suggestions(team_case_of(first)) == []


def test_the_candidate_set_is_bounded(world, team, in_place):
    first = submit(world.a.place, REPORT | {"account": ACCOUNT})
    for _ in range(DUPLICATE_CANDIDATES + 3):
        submit(world.a.place, REPORT | {"account": "Something else entirely happened here."})
    case = team_case_of(first)
    with in_place(world.a.place):
        case.report, case.decision  # noqa: B018 - loaded before counting
        with CaptureQueriesContext(connection) as queries:
            assert case_duplicate_suggestions(case) == []
    assert len(queries) == 2  # the nearest before, the nearest after: never the whole inbox


def test_content_only_cases_get_no_suggestions(world, partners, in_place):
    route_to(world.a.place, [partners.platform])
    first = submit(world.a.place, online("https://x.com/a/1"))
    submit(world.a.place, online("https://x.com/b/2"))
    with in_place(world.a.place):
        assert case_duplicate_suggestions(cases_of(first)[partners.platform]) == []


# --- merge and split -----------------------------------------------------------------------


def test_merge_and_split(world, team, in_place):
    primary_report = submit(world.a.place)
    duplicate_report = submit(world.a.place)
    primary, duplicate = team_case_of(primary_report), team_case_of(duplicate_report)
    with in_place(world.a.place):
        merged = case_merge(case=duplicate, membership=team, into=primary)
        assert merged.merged_into == primary and merged.verification == Verification.DUPLICATE
        assert [c.report for c in case_list(world.a.place, team)] == [primary_report]
        assert case_stats(world.a.place, team)["all"] == 1
        assert CaseEvent.objects.get(case=duplicate, kind=CaseEventKind.MERGED).data == {
            "into": primary.pk,
            "verification_before": "unverified",
            "moved": [],
        }
        assert CaseEvent.objects.filter(case=primary, kind=CaseEventKind.MERGED).exists()
        assert AuditEvent.objects.get(action=AuditAction.CASE_MERGED).data["into"] == primary.pk

        # Work happens on the primary; the duplicate refuses workflow steps.
        with pytest.raises(ValidationFailed) as refused:
            case_acknowledge(case=duplicate, membership=team)
        assert refused.value.code == "merged"

        split = case_split(case=duplicate, membership=team)
        assert split.merged_into is None and split.verification == Verification.UNVERIFIED
        assert len(case_list(world.a.place, team)) == 2
        assert CaseEvent.objects.filter(case=primary, kind=CaseEventKind.SPLIT).exists()
        assert AuditEvent.objects.filter(action=AuditAction.CASE_SPLIT).count() == 1
        with pytest.raises(ValidationFailed):
            case_split(case=duplicate, membership=team)


def test_split_restores_the_verification_before_the_merge(world, team, in_place):
    from locus.cases.services import case_classify

    primary, duplicate = (team_case_of(submit(world.a.place)) for _ in range(2))
    with in_place(world.a.place):
        case_classify(case=duplicate, membership=team, verification=Verification.VERIFIED)
        case_merge(case=duplicate, membership=team, into=primary)
        assert case_split(case=duplicate, membership=team).verification == Verification.VERIFIED


def test_closing_the_primary_closes_its_duplicates_and_reopening_reopens_them(
    world, team, in_place
):
    primary_report, duplicate_report = submit(world.a.place), submit(world.a.place)
    primary, duplicate = team_case_of(primary_report), team_case_of(duplicate_report)
    with in_place(world.a.place):
        case_merge(case=duplicate, membership=team, into=primary)
        case_close(case=primary, membership=team, outcome="supported")
        duplicate.refresh_from_db()
        assert duplicate.status == CaseStatus.CLOSED and duplicate.outcome == "supported"
        duplicate_report.refresh_from_db()
        assert duplicate_report.status == ReportStatus.CLOSED  # its reporter learns it too
        with pytest.raises(ValidationFailed):
            case_reopen(case=duplicate, membership=team)  # through the primary only
        case_reopen(case=primary, membership=team)
        duplicate.refresh_from_db()
        duplicate_report.refresh_from_db()
        assert duplicate.status == CaseStatus.IN_PROGRESS and duplicate.merged_into == primary
        assert duplicate_report.status == ReportStatus.WITH_ORGANISATIONS


def test_merging_a_case_that_has_duplicates_moves_them(world, team, in_place):
    a, b, c = (team_case_of(submit(world.a.place)) for _ in range(3))
    with in_place(world.a.place):
        case_merge(case=c, membership=team, into=b)
        case_merge(case=b, membership=team, into=a)
        c.refresh_from_db()
        assert c.merged_into == a
        assert CaseEvent.objects.filter(case=c, kind=CaseEventKind.MERGED).count() == 2
        case_split(case=c, membership=team)
        c.refresh_from_db()
        assert c.verification == Verification.UNVERIFIED  # from its first merge


def test_merge_refusals(world, team, partners, in_place):
    route_to(world.a.place, [partners.charity], name="Charity")
    first, second, third = (submit(world.a.place) for _ in range(3))
    one, two, three = (cases_of(r)[world.a.organisation] for r in (first, second, third))
    charity_case = cases_of(first)[partners.charity]
    with in_place(world.a.place):
        for into, words in (
            (None, "Choose the case"),
            (one, "into itself"),
            (charity_case, "another case of your organisation"),
        ):
            with pytest.raises(ValidationFailed) as refused:
                case_merge(case=one, membership=team, into=into)
            assert words in refused.value.message
        case_close(case=three, membership=team, outcome="other")
        with pytest.raises(ValidationFailed) as refused:
            case_merge(case=one, membership=team, into=three)
        assert refused.value.fields["into"]
        case_merge(case=two, membership=team, into=one)
        with pytest.raises(ValidationFailed):
            case_merge(case=two, membership=team, into=one)  # already merged
        reopen = case_reopen(case=three, membership=team)
        with pytest.raises(ValidationFailed) as refused:
            case_merge(case=reopen, membership=team, into=two)  # a merged case
        assert "merged into another" in refused.value.message
        # The place team may read the charity's cases, not merge them.
        with pytest.raises(PermissionDenied):
            case_merge(case=charity_case, membership=team, into=cases_of(second)[partners.charity])


def test_merge_and_split_from_the_case_page(world, team, client, in_place):
    primary_report = submit(world.a.place, REPORT | {"account": ACCOUNT})
    duplicate_report = submit(world.a.place, REPORT | {"account": ACCOUNT})
    primary, duplicate = team_case_of(primary_report), team_case_of(duplicate_report)
    client.force_login(world.a.users["caseworker"])
    html = client.get(detail_url(duplicate)).content.decode()
    assert "Possible duplicates" in html and primary_report.reference in html
    assert f"Merge this case into {primary_report.reference}" in html

    response = client.post(detail_url(duplicate), {"action": "merge", "into": "nope"})
    assert response.status_code == 422
    html = response.content.decode()
    # In the error summary (linked to the field) and next to the field, the typed value kept.
    assert html.count("Give the reference of a report your organisation received.") == 2
    assert 'href="#id_into"' in html and 'value="nope"' in html
    response = client.post(
        detail_url(duplicate), {"action": "merge", "into": primary_report.reference.lower()}
    )
    assert response.status_code == 302
    html = client.get(detail_url(duplicate)).content.decode()
    assert f"This case is merged into case {primary_report.reference}" in html
    assert 'value="close"' not in html and "Split it off again" in html
    html = client.get(detail_url(primary)).content.decode()
    assert "Duplicates merged into this case" in html and duplicate_report.reference in html
    assert duplicate_report.reference not in client.get(inbox_url()).content.decode()

    assert client.post(detail_url(duplicate), {"action": "split"}).status_code == 302
    with in_place(world.a.place):
        assert Case.objects.get(pk=duplicate.pk).merged_into is None


def test_case_page_query_count_does_not_grow_with_the_group(world, team, client, in_place):
    from locus.cases.choices import MessageDirection
    from locus.cases.models import CaseMessage

    reports = [submit(world.a.place, online()) for _ in range(2)]
    case = team_case_of(reports[0])
    with in_place(world.a.place):
        case_merge(case=team_case_of(reports[1]), membership=team, into=case)
    client.force_login(world.a.users["caseworker"])
    client.get(detail_url(case))
    with CaptureQueriesContext(connection) as few:
        assert client.get(detail_url(case)).status_code == 200
    others = [team_case_of(submit(world.a.place, online())) for _ in range(5)]
    with in_place(world.a.place):
        for other in others[:3]:
            case_merge(case=other, membership=team, into=case)
        for body in ("One.", "Two.", "Three."):
            CaseMessage.objects.create(
                place=world.a.place,
                case=case,
                direction=MessageDirection.FROM_REPORTER,
                body=body,
            )
    client.get(detail_url(case))  # the first view marks the messages read
    with CaptureQueriesContext(connection) as many:
        response = client.get(detail_url(case))
    assert "reported 7 times" in response.content.decode()
    assert len(many) == len(few)

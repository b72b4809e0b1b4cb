"""Contribution and moderation: a member drafts a record for their organisation (private to it),
submits it, an editor approves / asks for changes / rejects; versions, reviews, audit events and
the submitter's e-mail; the yearly check; who may do what; the pages' query budgets."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from locus.core.choices import AuditAction
from locus.core.errors import ValidationFailed
from locus.core.models import AuditEvent
from locus.core.tenancy import place_scope
from locus.core.testing.factories import MembershipFactory, OrganisationFactory, UserFactory
from locus.core.testing.world import enable_totp
from locus.library import moderation
from locus.library.choices import RecordStatus
from locus.library.models import Record, RecordReview, ReviewAction
from locus.outbox.models import OutboxMessage

from .factories import make_record

pytestmark = pytest.mark.django_db

FORM = {
    "type": "evaluation",
    "title": "Evaluation of our youth mentoring",
    "summary": "What changed for the young people we mentored in 2024.",
    "authors": "Ann Example\nBo Example",
    "languages": "en, sv",
    "year": "2024",
    "licence": "cc_by_4_0",
    "interventions": ["mentoring"],
    "outcomes": ["resilience", "attitudes"],
    "countries": ["GB"],
    "evidence_level": "pre_post",
}


def outbox(world, event_type):
    """The outbox messages of this type in both places of the world."""
    messages = []
    for side in (world.a, world.b):
        with place_scope(side.place):
            messages += list(OutboxMessage.objects.filter(event_type=event_type))
    return messages


def contribute(client, user, organisation, **overrides):
    client.force_login(user)
    data = {**FORM, "organisation": organisation.pk, **overrides}
    return client.post("/library/contribute/", data)


def draft_for(world, **overrides):
    return moderation.record_draft_create(
        actor=world.a.users["member"],
        organisation=world.a.organisation,
        data={"type": "guide", "title": "Our guide", "languages": ["en"], **overrides},
    )


def in_review(world, **overrides):
    record = draft_for(world, **overrides)
    moderation.record_submit(actor=world.a.users["member"], record=record)
    record.refresh_from_db()
    return record


# --- the whole path through the pages -------------------------------------------------------


def test_a_submitted_record_goes_through_moderation_to_publication(world, client):
    a = world.a
    response = contribute(client, a.users["member"], a.organisation)
    assert response.status_code == 302
    record = Record.objects.get(title=FORM["title"])
    assert (record.status, record.organisation, record.created_by) == (
        RecordStatus.DRAFT,
        a.organisation,
        a.users["member"],
    )
    assert record.languages == ["en", "sv"] and record.authors == "Ann Example\nBo Example"
    # The draft is private to the organisation: the public and the other place get a 404.
    client.logout()
    assert client.get(f"/library/{record.pk}/").status_code == 404
    client.force_login(world.b.users["member"])
    assert client.get(f"/library/{record.pk}/").status_code == 404
    client.force_login(a.users["analyst"])  # same organisation, any role
    page = client.get(f"/library/{record.pk}/")
    assert page.status_code == 200 and "Submit for review" in page.content.decode()

    assert client.post(f"/library/{record.pk}/submit/").status_code == 302
    record.refresh_from_db()
    assert record.status == RecordStatus.IN_REVIEW

    client.force_login(a.users["editor"])
    queue = client.get("/library/review/")
    assert queue.status_code == 200 and FORM["title"] in queue.content.decode()
    response = client.post(
        f"/library/review/{record.pk}/", {"decision": "changes_requested", "comment": ""}
    )
    assert response.status_code == 422  # a comment is required to ask for changes
    assert "Say what should change" in response.content.decode()
    response = client.post(
        f"/library/review/{record.pk}/",
        {"decision": "changes_requested", "comment": "Please add the report's web address."},
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.status == RecordStatus.DRAFT

    # The submitter sees the comment on their organisation's page and edits the draft.
    client.force_login(a.users["member"])
    mine = client.get("/library/mine/").content.decode()
    assert "Please add the report&#x27;s web address." in mine
    edit = client.post(
        f"/library/{record.pk}/edit/",
        {**FORM, "organisation": a.organisation.pk, "url": "https://example.org/report"},
    )
    assert edit.status_code == 302
    client.post(f"/library/{record.pk}/submit/")

    client.force_login(a.users["editor"])
    client.post(f"/library/review/{record.pk}/", {"decision": "approved", "comment": ""})
    record.refresh_from_db()
    assert record.status == RecordStatus.PUBLISHED and record.published_at is not None
    assert record.last_checked_at is not None
    assert record.url == "https://example.org/report"
    client.logout()
    assert client.get(f"/library/{record.pk}/").status_code == 200

    actions = list(
        RecordReview.objects.filter(record=record)
        .order_by("created_at", "id")
        .values_list("action", flat=True)
    )
    assert actions == ["submitted", "changes_requested", "submitted", "approved"]
    statuses = [v.snapshot["status"] for v in record.versions.order_by("number")]
    assert statuses == ["draft", "in_review", "draft", "draft", "in_review", "published"]
    audited = AuditEvent.objects.filter(
        action=AuditAction.LIBRARY_RECORD_REVIEWED, target_id=str(record.pk)
    )
    assert [event.data["decision"] for event in audited.order_by("pk")] == actions
    # Each decision e-mailed the submitter a link (the organisation is listed in Alphaville).
    mails = outbox(world, "library.reviewed")
    assert len(mails) == 2 and {mail.place for mail in mails} == {a.place}
    assert {mail.email_to for mail in mails} == {a.users["member"].email}
    for mail in mails:
        assert "/library/mine/" in mail.payload["body"]
        assert "web address" not in mail.payload["body"]  # the comment is read in Locus


def test_the_form_keeps_input_and_names_fields_in_error(world, client):
    response = contribute(
        client,
        world.a.users["member"],
        world.a.organisation,
        title="",
        languages="xx",
        year="1800",
        training_level="advanced",
    )
    assert response.status_code == 422
    form = response.context["form"]
    assert "title" in form.errors
    html = response.content.decode()
    assert "Evaluation of our youth mentoring" not in html  # the emptied title stays empty
    assert "What changed for the young people" in html  # the rest is kept
    assert Record.objects.count() == 0
    # Server-side errors from the services land on their fields too.
    response = contribute(client, world.a.users["member"], world.a.organisation, languages="xx")
    assert response.status_code == 422
    assert "languages" in response.context["form"].errors


def test_a_member_cannot_contribute_for_another_organisation(world, client):
    response = contribute(client, world.a.users["member"], world.b.organisation)
    assert response.status_code == 422
    assert "organisation" in response.context["form"].errors
    assert Record.objects.count() == 0


def test_reject_withdraws_and_needs_a_comment(world):
    record = in_review(world)
    with pytest.raises(ValidationFailed) as excinfo:
        moderation.record_review(
            actor=world.a.users["editor"], record=record, decision="rejected", comment=" "
        )
    assert "comment" in excinfo.value.fields
    step = moderation.record_review(
        actor=world.a.users["editor"],
        record=record,
        decision=ReviewAction.REJECTED,
        comment="Out of the library's scope.",
    )
    record.refresh_from_db()
    assert record.status == RecordStatus.WITHDRAWN and step.comment == "Out of the library's scope."
    with pytest.raises(ValidationFailed):  # decided once
        moderation.record_review(actor=world.a.users["editor"], record=record, decision="approved")


def test_no_listing_no_email_and_the_page_says_so(world, client):
    loner = OrganisationFactory(name="Unlisted Trust")
    user = UserFactory(email="someone@unlisted.test")
    enable_totp(user)
    MembershipFactory(user=user, organisation=loner, role="member")
    record = moderation.record_draft_create(
        actor=user, organisation=loner, data={"type": "guide", "title": "T", "languages": ["en"]}
    )
    moderation.record_submit(actor=user, record=record)
    step = moderation.record_review(
        actor=world.a.users["editor"], record=record, decision="approved"
    )
    assert step.notified is False
    assert outbox(world, "library.reviewed") == []
    client.force_login(user)
    assert "No e-mail was sent about this review" in client.get("/library/mine/").content.decode()


# --- permissions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/library/contribute/", "/library/mine/", "/library/review/", "/library/review/1/"]
)
def test_anonymous_people_are_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_only_editors_review(world, client):
    record = in_review(world)
    for role in ("member", "caseworker", "admin"):
        client.force_login(world.a.users[role])
        assert client.get("/library/review/").status_code == 403
        assert client.get(f"/library/review/{record.pk}/").status_code == 403
        response = client.post(f"/library/review/{record.pk}/", {"decision": "approved"})
        assert response.status_code == 403
    record.refresh_from_db()
    assert record.status == RecordStatus.IN_REVIEW
    client.force_login(world.b.users["editor"])  # editors are network-wide
    assert client.get(f"/library/review/{record.pk}/").status_code == 200


def test_editors_do_not_review_their_own_submission(world, client):
    editor = world.a.users["editor"]
    record = moderation.record_draft_create(
        actor=editor,
        organisation=world.a.organisation,
        data={"type": "guide", "title": "Mine", "languages": ["en"]},
    )
    moderation.record_submit(actor=editor, record=record)
    client.force_login(editor)
    assert client.post(f"/library/review/{record.pk}/", {"decision": "approved"}).status_code == 403


def test_other_organisations_drafts_are_404(world, client):
    record = draft_for(world)
    client.force_login(world.b.users["admin"])
    assert client.get(f"/library/{record.pk}/edit/").status_code == 404
    assert client.post(f"/library/{record.pk}/submit/").status_code == 404
    assert client.post(f"/library/{record.pk}/checked/").status_code == 404
    assert "Our guide" not in client.get("/library/mine/").content.decode()
    record.refresh_from_db()
    assert record.status == RecordStatus.DRAFT


def test_people_without_an_organisation_cannot_contribute(client, db):
    user = UserFactory(email="lonely@example.test")
    client.force_login(user)
    assert client.get("/library/contribute/").status_code == 403
    assert client.get("/library/mine/").status_code == 403


def test_only_drafts_are_edited_and_submitted(world, client):
    record = in_review(world)
    client.force_login(world.a.users["member"])
    assert client.get(f"/library/{record.pk}/edit/").status_code == 403
    assert client.post(f"/library/{record.pk}/submit/").status_code == 403


# --- the yearly check -----------------------------------------------------------------------


def test_owners_are_reminded_once_a_year_and_mark_records_current(world, client):
    record = in_review(world)
    moderation.record_review(actor=world.a.users["editor"], record=record, decision="approved")
    old = timezone.now() - timedelta(days=400)
    Record.objects.filter(pk=record.pk).update(last_checked_at=old)
    seed = make_record(title="Seed resource without owner")  # no organisation: not reminded
    Record.objects.filter(pk=seed.pk).update(published_at=old)

    call_command("library_remind_owners")
    mails = outbox(world, "library.check_reminder")
    assert len(mails) == 1
    assert mails[0].email_to == world.a.users["member"].email  # no inbox: the submitter
    call_command("library_remind_owners")  # not twice in a year
    assert len(outbox(world, "library.check_reminder")) == 1

    client.force_login(world.a.users["member"])
    assert "Not checked for a year" in client.get("/library/mine/").content.decode()
    response = client.post(f"/library/{record.pk}/checked/", {"next": "mine"})
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.last_checked_at > timezone.now() - timedelta(minutes=1)
    assert not moderation.records_due_for_check().filter(pk=record.pk).exists()


# --- query budgets --------------------------------------------------------------------------


def test_queue_and_mine_pages_have_fixed_query_budgets(
    world, client, django_assert_max_num_queries
):
    for number in range(6):
        in_review(world, title=f"Queued {number}")
        draft_for(world, title=f"Draft {number}")
    client.force_login(world.b.users["editor"])
    with django_assert_max_num_queries(16):
        assert client.get("/library/review/").status_code == 200
    client.force_login(world.a.users["member"])
    with django_assert_max_num_queries(16):
        assert client.get("/library/mine/").status_code == 200


def test_demo_fills_the_queue_and_is_idempotent(db):
    london, malmo = OrganisationFactory(name="London team"), OrganisationFactory(name="Malmö stad")
    for email, organisation, role in (
        ("member@london.demo", london, "member"),
        ("editor@london.demo", london, "editor"),
        ("member@malmo.demo", malmo, "member"),
    ):
        MembershipFactory(user=UserFactory(email=email), organisation=organisation, role=role)
    summary = moderation.library_moderation_load_demo()
    assert summary["created"] == 3
    statuses = sorted(Record.objects.values_list("status", flat=True))
    assert statuses == ["draft", "in_review", "in_review"]
    draft = Record.objects.get(status=RecordStatus.DRAFT)
    assert draft.reviews.first().action == ReviewAction.CHANGES_REQUESTED
    assert moderation.library_moderation_load_demo()["created"] == 0

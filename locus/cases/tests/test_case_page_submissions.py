"""The case page's forms under real use: a double click does the step once, a page opened
before another caseworker's change does not overwrite it unseen, and a refused form is
focused (the page is long; the error is far below its top)."""

import re

from django.urls import reverse

from locus.cases.choices import CaseStatus
from locus.cases.models import CaseMessage, CaseNote
from locus.core.testing.factories import MembershipFactory, UserFactory
from locus.core.testing.world import enable_totp

from .factories import cases_of, route_to, submit


def detail_url(place, case):
    return reverse("cases:detail", kwargs={"place_slug": place.slug, "case_id": case.pk})


def hidden(response, action, name):
    """The value of the hidden input `name` in the case page's form for `action`."""
    html = response.content.decode()
    forms = [f for f in html.split("<form")[1:] if f'name="action" value="{action}"' in f]
    assert forms, f"no {action} form"
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', forms[0])
    assert match, f"no {name} in the {action} form"
    return match[1]


def colleague(organisation, name):
    user = UserFactory(name=name)
    enable_totp(user)
    MembershipFactory(user=user, organisation=organisation, role="caseworker")
    return user


def test_a_double_click_sends_the_message_and_the_note_once(world, partners, client, in_place):
    route_to(world.a.place, partners.in_a())
    case = cases_of(submit(world.a.place))[partners.team]
    url = detail_url(world.a.place, case)
    client.force_login(world.a.users["caseworker"])
    page = client.get(url)
    message = {
        "action": "message",
        "message-body": "We can meet you on Tuesday.",
        "message-idempotency_token": hidden(page, "message", "message-idempotency_token"),
    }
    note = {
        "action": "note",
        "body": "Called the school.",
        "idempotency_token": hidden(page, "note", "idempotency_token"),
    }
    acknowledge = {
        "action": "acknowledge",
        "idempotency_token": hidden(page, "acknowledge", "idempotency_token"),
    }

    for data in (message, note, acknowledge):
        first, second = client.post(url, data), client.post(url, data)
        assert first.status_code == 303 and first["Location"] == url
        # The second click lands where the first did, not on "already acknowledged".
        assert second.status_code == 303 and second["Location"] == url

    with in_place(world.a.place):
        assert CaseMessage.objects.filter(case=case).count() == 1
        assert CaseNote.objects.filter(case=case).count() == 1
    case.refresh_from_db()
    assert case.status == CaseStatus.ACKNOWLEDGED
    # A new page carries new tokens: the same words can be sent again on purpose.
    again = client.get(url)
    assert hidden(again, "note", "idempotency_token") != note["idempotency_token"]
    message["message-idempotency_token"] = hidden(again, "message", "message-idempotency_token")
    assert client.post(url, message).status_code == 303
    with in_place(world.a.place):
        assert CaseMessage.objects.filter(case=case).count() == 2


def test_an_assignment_made_after_the_page_was_opened_is_not_overwritten_unseen(
    world, partners, client
):
    route_to(world.a.place, partners.in_a())
    case = cases_of(submit(world.a.place))[partners.team]
    url = detail_url(world.a.place, case)
    coordinator = world.a.users["coordinator"]
    me, sam = world.a.users["caseworker"], colleague(partners.team, "Sam Colleague")
    client.force_login(me)
    mine = client.get(url)
    seen = hidden(mine, "assign", "seen")

    client.force_login(sam)  # Sam, on a page opened meanwhile, gives it to the coordinator
    assert client.get(url).status_code == 200
    assert client.post(url, {"action": "assign", "assignee": coordinator.pk}).status_code == 302

    client.force_login(me)  # my page still says "Nobody": I choose myself
    stale = client.post(url, {"action": "assign", "assignee": me.pk, "seen": seen})
    assert stale.status_code == 422
    html = stale.content.decode()
    assert "Sam Colleague changed who this case is assigned to after you opened this page" in html
    assert re.search(rf'<option value="{me.pk}" selected>', html)  # my choice is kept
    case.refresh_from_db()
    assert case.assigned_to == coordinator
    # Having seen it, saving again goes ahead.
    fresh = hidden(stale, "assign", "seen")
    assert fresh > seen
    response = client.post(url, {"action": "assign", "assignee": me.pk, "seen": fresh})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.assigned_to == me


def test_a_classification_made_after_the_page_was_opened_is_not_overwritten_unseen(
    world, partners, client
):
    route_to(world.a.place, partners.in_a())
    case = cases_of(submit(world.a.place))[partners.team]
    url = detail_url(world.a.place, case)
    me, sam = world.a.users["caseworker"], colleague(partners.team, "Sam Colleague")
    client.force_login(me)
    seen = hidden(client.get(url), "classify", "seen")

    client.force_login(sam)
    data = {"action": "classify", "verification": "verified", "bias": ["antisemitism"]}
    assert client.post(url, data).status_code == 302

    client.force_login(me)
    data = {"action": "classify", "verification": "not_hate_related", "seen": seen}
    stale = client.post(url, data)
    assert stale.status_code == 422
    assert b"Sam Colleague changed the classification after you opened this page" in (stale.content)
    case.refresh_from_db()
    assert case.verification == "verified" and case.verified_bias == ["antisemitism"]
    # A later page (or an unrelated change since) does not stand in the way.
    client.post(url, {"action": "note", "body": "Checked with the school."})
    data["seen"] = hidden(stale, "classify", "seen")
    assert client.post(url, data).status_code == 302
    case.refresh_from_db()
    assert case.verification == "not_hate_related"


def test_a_refused_form_is_focused_on_its_field(world, partners, client):
    route_to(world.a.place, partners.in_a())
    case = cases_of(submit(world.a.place))[partners.team]
    url = detail_url(world.a.place, case)
    client.force_login(world.a.users["caseworker"])

    response = client.post(url, {"action": "close", "outcome": ""})
    assert response.status_code == 422
    html = response.content.decode()
    assert re.search(r'<select name="outcome"[^>]* autofocus[^>]*id="id_outcome"', html)
    assert '<ul class="errorlist" id="id_outcome_error"><li>Choose an outcome.</li>' in html
    assert html.count("autofocus") == 1

    response = client.post(url, {"action": "note", "body": "   "})
    assert response.status_code == 422
    html = response.content.decode()
    assert re.search(r'<textarea name="body"[^>]* autofocus', html)
    assert html.count("autofocus") == 1

    # Nothing refused, nothing focused: the page opens at its top.
    assert b"autofocus" not in client.get(url).content


def test_the_verified_bias_check_boxes_are_a_named_group(world, partners, client):
    """The shared form template labelled a group of check boxes with <label for="id_bias">,
    which points at a <div>: the boxes had no group name for a screen reader. They are a
    fieldset named by its legend, each box with its own label."""
    route_to(world.a.place, partners.in_a())
    case = cases_of(submit(world.a.place))[partners.team]
    client.force_login(world.a.users["caseworker"])
    html = client.get(detail_url(world.a.place, case)).content.decode()
    assert 'label for="id_bias"' not in html
    group = re.search(r'<fieldset aria-describedby="id_bias_helptext">(.*?)</fieldset>', html, re.S)
    assert group, "no fieldset around the bias boxes"
    assert re.search(r"<legend>Verified bias <span class=\"optional\">", group[1])
    assert '<label class="choice" for="id_bias_0"><input type="checkbox" name="bias"' in group[1]


def test_a_refusal_of_the_whole_form_is_shown_once_next_to_the_form(world, partners, client):
    """An error without a field was shown twice: in the banner at the top and above the form.
    It is shown once, above the form that was sent, and focused (the page is long)."""
    route_to(world.a.place, partners.in_a())
    case = cases_of(submit(world.a.place))[partners.team]
    url = detail_url(world.a.place, case)
    me, sam = world.a.users["caseworker"], colleague(partners.team, "Sam Colleague")
    client.force_login(me)
    page = client.get(url)
    seen = hidden(page, "assign", "seen")
    acknowledge = {
        "action": "acknowledge",
        "idempotency_token": hidden(page, "acknowledge", "idempotency_token"),
    }
    client.force_login(sam)
    assert client.post(url, {"action": "assign", "assignee": sam.pk}).status_code == 302
    assert client.post(url, {"action": "acknowledge"}).status_code == 302

    client.force_login(me)
    stale = client.post(url, {"action": "assign", "assignee": me.pk, "seen": seen})
    assert stale.status_code == 422
    html = stale.content.decode()
    text = "Sam Colleague changed who this case is assigned to after you opened this page"
    assert html.count(text) == 1
    assign_form = next(f for f in html.split("<form")[1:] if 'value="assign"' in f)
    assert re.search(
        rf'<div class="form-errors" role="alert" tabindex="-1" autofocus><p>{text}', assign_form
    )
    assert html.count("autofocus") == 1
    assert "<title>Error: " in html  # though the summary at the top has nothing to list

    # A step whose form the page no longer shows (Sam acknowledged it): the error summary at
    # the top of the page, focused.
    gone = client.post(url, acknowledge)
    assert gone.status_code == 422
    html = gone.content.decode()
    assert html.count("Only a new case can be acknowledged.") == 1
    assert re.search(
        r'<div class="error-summary"[^>]* autofocus>.*'
        r"<li>Only a new case can be acknowledged.</li>",
        html,
        re.S,
    )
    assert html.count("autofocus") == 1
    assert 'value="acknowledge"' not in html

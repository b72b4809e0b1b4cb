"""The routing-rule editor: the list in plain words, create and edit with errors next to the
fields, the preview of a rule as edited before saving, order, enable/disable, delete with
confirmation, the change history, the sample-report page, who may use it, and query budgets."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from locus.cases.models import RoutingRule
from locus.core.choices import AuditAction
from locus.core.models import AuditEvent
from locus.core.testing.factories import MembershipFactory, UserFactory
from locus.core.testing.world import enable_totp
from locus.reporting.taxonomy import taxonomy


def url(name, place, **kwargs):
    return reverse(f"cases:{name}", kwargs={"place_slug": place.slug, **kwargs})


@pytest.fixture
def coordinator(world, client):
    client.force_login(world.a.users["coordinator"])
    return client


def rules_of(place, in_place):
    with in_place(place):
        return list(RoutingRule.objects.order_by("position", "id"))


def audit_fields(rule):
    return [
        e.data.get("fields")
        for e in AuditEvent.objects.filter(
            action=AuditAction.ROUTING_RULE_CHANGED, target_id=str(rule.pk)
        ).order_by("id")
    ]


RULE_POST = {
    "action": "save",
    "name": "Antisemitism to the charity",
    "is_active": "on",
    "bias": ["antisemitism"],
    "incident_type": ["threat", "assault"],
    "online": "no",
    "consent": ["support_contact"],
    "language": ["en", "fr"],
}


# --- the list -----------------------------------------------------------------------------


def test_list_shows_each_rule_in_plain_words_and_the_fallback(
    world, partners, rule_in, coordinator
):
    rule_in(
        world.a,
        name="Threats in the north",
        conditions={"incident_type": ["threat"], "area": [world.a.areas[0].pk], "online": False},
        destinations=[partners.police],
        stop=True,
    )
    rule_in(world.a, name="Catch-all", is_fallback=True, destinations=[partners.team])
    response = coordinator.get(url("rules", world.a.place))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Threats in the north" in html and "Catch-all" in html
    assert "Threat" in html and world.a.areas[0].name in html and "Only offline" in html
    assert "Alpha Police" in html and "Stop: later rules are not looked at." in html
    # The fallback's destination is named at the top.
    fallback = html.split('id="fallback-heading"')[1].split("</section>")[0]
    assert world.a.organisation.name in fallback
    assert "There is no enabled fallback rule" not in html
    # In evaluation order.
    assert html.index("Threats in the north") < html.index("Catch-all", html.index("Rules, in"))


def test_list_warns_when_there_is_no_fallback(world, partners, rule_in, coordinator):
    rule_in(world.a, name="Police", destinations=[partners.police])
    html = coordinator.get(url("rules", world.a.place)).content.decode()
    assert "There is no enabled fallback rule" in html
    assert url("rule_new", world.a.place) + "?fallback=1" in html


def test_labels_are_in_the_viewers_language(world, partners, rule_in, coordinator):
    rule_in(world.a, name="Anti", conditions={"bias": ["anti_muslim"]}, destinations=[])
    coordinator.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"
    html = coordinator.get(url("rules", world.a.place)).content.decode()
    assert taxonomy().label("bias", "anti_muslim", "sv") in html
    assert taxonomy().label("bias", "anti_muslim", "en") not in html


def test_a_destination_no_longer_listed_is_flagged(world, partners, rule_in, coordinator):
    from locus.directory.models import OrganisationListing

    rule_in(world.a, name="Police", destinations=[partners.police])
    OrganisationListing.objects.filter(organisation=partners.police).update(is_active=False)
    html = coordinator.get(url("rules", world.a.place)).content.decode()
    assert "no longer works in this place: receives nothing" in html


@pytest.mark.parametrize("extra", [0, 8])
def test_list_query_budget(
    world, partners, rule_in, coordinator, django_assert_max_num_queries, extra
):
    for i in range(1 + extra):
        rule_in(
            world.a,
            name=f"Rule {i}",
            conditions={"area": [world.a.areas[0].pk], "bias": ["antisemitism"]},
            destinations=[partners.police, partners.charity],
        )
    coordinator.get(url("rules", world.a.place))  # warm the session and caches
    with django_assert_max_num_queries(14):
        assert coordinator.get(url("rules", world.a.place)).status_code == 200


# --- create and edit --------------------------------------------------------------------------


def test_create_a_rule_with_every_kind_of_condition(world, partners, coordinator, in_place):
    post = RULE_POST | {
        "area": [str(world.a.areas[1].pk)],
        "setting": ["street"],
        "platform": ["x_twitter"],
        "destinations": [str(partners.charity.pk), str(partners.police.pk)],
        "stop": "on",
    }
    response = coordinator.post(url("rule_new", world.a.place), post)
    assert response.status_code == 302
    [rule] = rules_of(world.a.place, in_place)
    assert response["Location"].endswith(f"#rule-{rule.pk}")
    assert rule.conditions == {
        "incident_type": ["threat", "assault"],
        "bias": ["antisemitism"],
        "setting": ["street"],
        "platform": ["x_twitter"],
        "area": [world.a.areas[1].pk],
        "online": False,
        "language": ["en", "fr"],
        "consent": ["support_contact"],
    }
    assert rule.stop and rule.is_active and not rule.is_fallback
    with in_place(world.a.place):
        assert set(rule.destinations.all()) == {partners.charity, partners.police}
    event = AuditEvent.objects.get(action=AuditAction.ROUTING_RULE_CHANGED)
    assert event.actor == world.a.users["coordinator"] and event.data["created"] is True


def test_the_edit_page_shows_the_rule_as_saved(world, partners, rule_in, coordinator):
    rule = rule_in(
        world.a,
        name="Online",
        conditions={"online": True, "platform": ["tiktok"]},
        destinations=[partners.platform],
    )
    response = coordinator.get(url("rule_edit", world.a.place, rule_id=rule.pk))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["online"] == "yes" and form.initial["platform"] == ["tiktok"]
    assert form.initial["destinations"] == [partners.platform.pk]
    html = response.content.decode()
    assert 'value="tiktok" aria-invalid' not in html
    assert 'name="platform" value="tiktok"' in html and "checked" in html


def test_a_fallback_with_conditions_is_refused_next_to_the_field(
    world, partners, coordinator, in_place
):
    post = RULE_POST | {"is_fallback": "on", "name": "Kept as typed"}
    response = coordinator.post(url("rule_new", world.a.place), post)
    assert response.status_code == 422
    form = response.context["form"]
    assert "fallback rule has no conditions" in form.errors["is_fallback"][0]
    html = response.content.decode()
    assert 'value="Kept as typed"' in html
    assert 'id="id_is_fallback_error"' in html
    assert 'aria-describedby="id_is_fallback_helptext id_is_fallback_error"' in html
    assert rules_of(world.a.place, in_place) == []
    assert not AuditEvent.objects.filter(action=AuditAction.ROUTING_RULE_CHANGED).exists()


def test_a_rule_sending_to_nobody_is_refused_next_to_the_destinations(
    world, partners, coordinator, in_place
):
    # It would match every report and send it nowhere, and, having matched, keep the
    # fallback from applying: a silent hole in routing.
    post = {"action": "save", "name": "Typed name", "is_active": "on"}
    response = coordinator.post(url("rule_new", world.a.place), post)
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert set(errors) == {"destinations"}
    assert "fallback rule would no longer apply" in errors["destinations"][0]
    html = response.content.decode()
    assert 'value="Typed name"' in html and 'id="id_destinations_error"' in html
    assert rules_of(world.a.place, in_place) == []
    assert not AuditEvent.objects.filter(action=AuditAction.ROUTING_RULE_CHANGED).exists()
    # A fallback to nobody does nothing either.
    response = coordinator.post(url("rule_new", world.a.place), post | {"is_fallback": "on"})
    assert response.status_code == 422
    assert "sends to nobody does nothing" in response.context["form"].errors["destinations"][0]
    # Keeping some reports with the team on purpose ("Stop here") is allowed.
    keep = post | {"incident_type": ["suspicious_activity"], "stop": "on"}
    assert coordinator.post(url("rule_new", world.a.place), keep).status_code == 302
    assert [r.name for r in rules_of(world.a.place, in_place)] == ["Typed name"]


def test_the_long_rule_page_lists_its_errors_at_the_top_as_links_to_the_fields(
    world, partners, coordinator
):
    post = {"action": "save", "name": "", "is_active": "on", "bias": ["no_such_bias"]}
    html = coordinator.post(url("rule_new", world.a.place), post).content.decode()
    summary = html[html.index('id="error-summary"') : html.index('id="rule-heading"')]
    # Each link goes to the field itself (a group of boxes: its first box), its error next to it.
    for field, target in (("name", "id_name"), ("bias", "id_bias_0")):
        assert f'href="#{target}"' in summary and f'id="{target}"' in html
        assert f'id="id_{field}_error"' in html
    post = {"action": "preview", "name": "X", "destinations": [str(partners.police.pk)]}
    html = coordinator.post(url("rule_new", world.a.place), post).content.decode()
    summary = html[html.index('id="error-summary"') : html.index('id="rule-heading"')]
    assert 'href="#id_sample-incident_type"' in summary
    assert "Sample report, " in summary


def test_trying_a_rule_lands_on_the_result(world, partners, coordinator):
    """The result is at the foot of a long page: the Try button's address names it."""
    new = url("rule_new", world.a.place) + "?fallback=1"
    html = coordinator.get(new).content.decode()
    assert f'formaction="{new.replace("&", "&amp;")}#rule-preview"' in html
    post = {"action": "preview", "name": "X", "destinations": [str(partners.police.pk)]}
    html = coordinator.post(new, post | SAMPLE).content.decode()
    assert 'id="rule-preview"' in html and 'id="error-summary"' not in html


def _legend_of(html, heading_id):
    """The legend that holds the heading `heading_id`."""
    at = html.index(f'id="{heading_id}"')
    return html[html.rindex("<legend", 0, at) : html.index("</legend>", at)]


def test_send_to_is_not_marked_optional(world, coordinator):
    html = coordinator.get(url("rule_new", world.a.place)).content.decode()
    legend = _legend_of(html, "destinations-heading")
    assert "Send to" in legend and "optional" not in legend


def test_send_to_is_said_once(world, coordinator):
    """The section's heading and the group's legend both said "Send to", one under the other:
    the legend is the section's heading now (a screen reader hears the group named once)."""
    html = coordinator.get(url("rule_new", world.a.place)).content.decode()
    assert '<legend><h2 id="destinations-heading">Send to</h2></legend>' in html
    start = html.index('<form method="post" novalidate>')
    form = html[start : html.index("</form>", start)]
    assert len(re.findall(r">\s*Send to\s*<", form)) == 1
    # Only the link to the section says it again, above the form.
    nav = html[html.index('aria-labelledby="on-this-page"') :]
    assert 'href="#destinations-heading">Send to</a>' in nav[: nav.index("</nav>")]


def test_conditions_are_folded_with_the_values_chosen_on_their_line(
    world, partners, rule_in, coordinator
):
    """About a hundred condition boxes made the page long: each condition is a <details> (no
    JavaScript needed) whose line names the values chosen; those with a value start open."""
    html = coordinator.get(url("rule_new", world.a.place)).content.decode()
    folded = re.findall(r'<details class="condition"( open)?>\s*<summary>(.*?)</summary>', html)
    assert len(folded) == 8 and not any(is_open for is_open, _ in folded)
    assert all('<span class="condition-values">Any value</span>' in line for _, line in folded)
    # The group keeps its name for screen readers; the line shows it.
    assert '<legend class="visually-hidden">Bias motivation' in html
    assert 'data-condition-any="Any value"' in html

    rule = rule_in(
        world.a,
        name="Several",
        conditions={
            "bias": ["antisemitism"],
            "incident_type": ["threat", "assault", "damage_desecration", "abusive_behaviour"],
            "online": False,
        },
        destinations=[partners.police],
    )
    html = coordinator.get(url("rule_edit", world.a.place, rule_id=rule.pk)).content.decode()
    folded = {
        re.sub(r"<.*", "", line).rstrip(": "): (bool(is_open), line)
        for is_open, line in re.findall(
            r'<details class="condition"( open)?>\s*<summary>(.*?)</summary>', html
        )
    }
    vocabulary = taxonomy()
    assert folded["Bias motivation"] == (
        True,
        f'Bias motivation: <span class="condition-values">'
        f"{vocabulary.label('bias', 'antisemitism', 'en')}</span>",
    )
    is_open, line = folded["Online"]
    assert is_open and "Only offline reports" in line
    is_open, line = folded[vocabulary.axis_label("incident_type", "en")]
    assert is_open and line.endswith(" and 1 more</span>") and line.count("; ") == 2
    is_open, line = folded["Area"]
    assert not is_open and "Any value" in line


def test_a_folded_condition_with_an_error_opens(world, coordinator):
    post = {"action": "save", "name": "X", "is_active": "on", "bias": ["no_such_bias"]}
    html = coordinator.post(url("rule_new", world.a.place), post).content.decode()
    bias = html[: html.index('id="id_bias_error"')]
    assert bias[bias.rindex("<details") :].startswith('<details class="condition" open>')
    # The others stay folded.
    assert html.count('<details class="condition" open>') == 1


def test_the_long_rule_page_has_links_to_its_sections(world, coordinator):
    """A keyboard user would otherwise tab through every condition's boxes to reach "Send to"."""
    html = coordinator.get(url("rule_new", world.a.place)).content.decode()
    nav = html[html.index('aria-labelledby="on-this-page"') :]
    nav = nav[: nav.index("</nav>")]
    for section in ("rule", "conditions", "destinations", "try"):
        assert f'href="#{section}-heading"' in nav and f'id="{section}-heading"' in html


def test_deleting_the_only_fallback_warns_first(world, partners, rule_in, coordinator):
    fallback = rule_in(world.a, name="Else", is_fallback=True, destinations=[partners.team])
    page = url("rule_delete", world.a.place, rule_id=fallback.pk)
    assert "the only enabled fallback rule" in coordinator.get(page).content.decode()
    rule_in(world.a, name="Else too", is_fallback=True, destinations=[partners.charity])
    assert "the only enabled fallback rule" not in coordinator.get(page).content.decode()
    other = rule_in(world.a, name="Police", destinations=[partners.police])
    page = url("rule_delete", world.a.place, rule_id=other.pk)
    assert "the only enabled fallback rule" not in coordinator.get(page).content.decode()


def test_an_old_rule_sending_to_nobody_can_still_be_disabled(
    world, partners, rule_in, coordinator, in_place
):
    rule = rule_in(world.a, name="Old", destinations=[])
    response = coordinator.post(
        url("rule_active", world.a.place, rule_id=rule.pk), {"is_active": "0"}
    )
    assert response.status_code == 302
    assert not rules_of(world.a.place, in_place)[0].is_active


@pytest.mark.parametrize(
    ("conditions", "words"),
    [
        ({"online": "no", "incident_type": ["online_content"]}, "every type of incident"),
        ({"online": "no", "setting": ["online"]}, "every setting"),
        (
            {"online": "yes", "incident_type": ["threat"], "setting": ["street"]},
            "asks for online reports only",
        ),
    ],
    ids=["offline-with-online-types", "offline-with-online-settings", "online-with-offline"],
)
def test_conditions_that_can_never_match_are_refused_next_to_online(
    world, partners, coordinator, in_place, conditions, words
):
    post = {
        "action": "save",
        "name": "Never",
        "is_active": "on",
        "destinations": [str(partners.police.pk)],
    } | conditions
    response = coordinator.post(url("rule_new", world.a.place), post)
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert set(errors) == {"online"}
    assert "could never match" in errors["online"][0] and words in errors["online"][0]
    assert response.context["form"]["online"].value() == conditions["online"]  # kept as chosen
    assert 'id="id_online_error"' in response.content.decode()
    assert rules_of(world.a.place, in_place) == []
    # The preview refuses it the same way (nothing to try).
    sample = {"sample-incident_type": "threat", "sample-language": "en"}
    response = coordinator.post(
        url("rule_new", world.a.place), post | {"action": "preview"} | sample
    )
    assert response.status_code == 422 and "online" in response.context["form"].errors
    # Online with an offline type but any setting can match (an online setting): allowed.
    post = post | {"online": "yes", "incident_type": ["threat"], "setting": []}
    assert coordinator.post(url("rule_new", world.a.place), post).status_code == 302


def test_a_missing_name_and_an_unknown_choice_are_errors_next_to_the_fields(
    world, partners, coordinator
):
    post = RULE_POST | {"name": "", "bias": ["no_such_bias"], "area": ["999999"]}
    response = coordinator.post(url("rule_new", world.a.place), post)
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert set(errors) == {"name", "bias", "area"}


def test_another_places_organisation_cannot_be_a_destination(world, partners, coordinator):
    post = RULE_POST | {"destinations": [str(partners.police_b.pk)]}
    response = coordinator.post(url("rule_new", world.a.place), post)
    assert response.status_code == 422
    assert "destinations" in response.context["form"].errors


def test_saving_an_edit_changes_only_what_changed(world, partners, rule_in, coordinator, in_place):
    rule = rule_in(world.a, name="Police", destinations=[partners.police])
    post = {"action": "save", "name": "Police and charity", "is_active": "on"} | {
        "destinations": [str(partners.police.pk), str(partners.charity.pk)]
    }
    response = coordinator.post(url("rule_edit", world.a.place, rule_id=rule.pk), post)
    assert response.status_code == 302
    assert audit_fields(rule)[-1] == ["destinations", "name"]


def test_unknown_action_is_422(world, coordinator):
    response = coordinator.post(url("rule_new", world.a.place), RULE_POST | {"action": "launch"})
    assert response.status_code == 422
    assert not AuditEvent.objects.filter(action=AuditAction.ROUTING_RULE_CHANGED).exists()


# --- the preview of an edit, before saving ---------------------------------------------------


SAMPLE = {
    "sample-incident_type": "threat",
    "sample-bias": ["anti_roma_sinti"],
    "sample-setting": "street",
    "sample-language": "en",
    "sample-consent_police_anonymised": "on",
}


def test_preview_shows_the_effect_of_an_edit_and_saves_nothing(
    world, partners, rule_in, coordinator, in_place
):
    rule = rule_in(
        world.a,
        name="Racism",
        conditions={"bias": ["racism_xenophobia"]},
        destinations=[partners.police],
    )
    rule_in(world.a, name="Fallback", is_fallback=True, destinations=[partners.team])
    before = audit_fields(rule)
    post = {
        "action": "preview",
        "name": "Racism",
        "is_active": "on",
        "bias": ["racism_xenophobia"],
        "destinations": [str(partners.police.pk), str(partners.charity.pk)],
    } | SAMPLE
    response = coordinator.post(url("rule_edit", world.a.place, rule_id=rule.pk), post)
    assert response.status_code == 200
    html = response.content.decode()
    # The charity is named but the reporter did not agree to be contacted: not sent, and why.
    assert response.context["changes"] == []
    draft = response.context["draft"].by_organisation()
    assert draft[partners.police.pk].sent and draft[partners.police.pk].level == "anonymised"
    assert not draft[partners.charity.pk].sent
    assert "because you chose not to be contacted by support organisations" in html
    assert partners.charity.pk not in response.context["current"].by_organisation()

    post["sample-consent_support_contact"] = "on"
    post["sample-contact"] = "on"
    response = coordinator.post(url("rule_edit", world.a.place, rule_id=rule.pk), post)
    assert response.context["changes"] == [
        "Alpha Victim Support would now receive it: The full report, with contact details."
    ]
    assert "What your change does" in response.content.decode()
    # Nothing saved, nothing audited; the form keeps what was typed.
    with in_place(world.a.place):
        assert set(RoutingRule.objects.get(pk=rule.pk).destinations.all()) == {partners.police}
    assert audit_fields(rule) == before
    assert response.context["form"]["destinations"].value() == [
        str(partners.police.pk),
        str(partners.charity.pk),
    ]


def test_preview_of_disabling_a_rule_shows_who_would_no_longer_receive_it(
    world, partners, rule_in, coordinator
):
    rule = rule_in(world.a, name="Police", destinations=[partners.police])
    rule_in(world.a, name="Fallback", is_fallback=True, destinations=[partners.team])
    post = {"action": "preview", "name": "Police", "destinations": [str(partners.police.pk)]}
    response = coordinator.post(url("rule_edit", world.a.place, rule_id=rule.pk), post | SAMPLE)
    assert response.status_code == 200
    assert response.context["changes"] == [
        "Alpha Police would no longer receive it.",
        "Alphaville Council would now receive it: The full report.",
    ]


def test_preview_of_a_new_rule(world, partners, coordinator):
    post = {
        "action": "preview",
        "name": "New",
        "is_active": "on",
        "incident_type": ["threat"],
        "destinations": [str(partners.police.pk)],
    }
    response = coordinator.post(url("rule_new", world.a.place), post | SAMPLE)
    assert response.status_code == 200
    draft = response.context["draft"]
    assert [r["name"] for r in draft.matched_rules] == ["New"]
    assert response.context["current"].destinations == []


def test_preview_with_a_bad_sample_or_a_bad_rule_shows_errors(world, partners, coordinator):
    post = {"action": "preview", "name": "X", "is_active": "on"}
    response = coordinator.post(
        url("rule_new", world.a.place), post | {"sample-incident_type": "", "sample-language": "en"}
    )
    assert response.status_code == 422
    assert "incident_type" in response.context["sample_form"].errors
    post = post | {"is_fallback": "on", "bias": ["antisemitism"]}
    response = coordinator.post(url("rule_new", world.a.place), post | SAMPLE)
    assert response.status_code == 422
    assert "is_fallback" in response.context["form"].errors
    assert "draft" not in response.context
    # Both forms wrong: both sets of errors at once.
    response = coordinator.post(
        url("rule_new", world.a.place), {"action": "preview", "name": "", "sample-language": "en"}
    )
    assert response.status_code == 422
    assert "name" in response.context["form"].errors
    assert "incident_type" in response.context["sample_form"].errors


# --- order, enable, delete, history ----------------------------------------------------------


def test_move_up_and_down_without_javascript(world, partners, rule_in, coordinator, in_place):
    first = rule_in(world.a, name="First", destinations=[])
    second = rule_in(world.a, name="Second", destinations=[])
    third = rule_in(world.a, name="Third", destinations=[])
    response = coordinator.post(
        url("rule_move", world.a.place, rule_id=third.pk), {"direction": "up"}
    )
    assert response.status_code == 302
    assert [r.name for r in rules_of(world.a.place, in_place)] == ["First", "Third", "Second"]
    coordinator.post(url("rule_move", world.a.place, rule_id=first.pk), {"direction": "down"})
    assert [r.name for r in rules_of(world.a.place, in_place)] == ["Third", "First", "Second"]
    assert audit_fields(second)[-1] == ["position"]
    # At the top already: nothing moves, the person is told.
    response = coordinator.post(
        url("rule_move", world.a.place, rule_id=third.pk), {"direction": "up"}, follow=True
    )
    assert "already first" in response.content.decode()
    assert [r.name for r in rules_of(world.a.place, in_place)] == ["Third", "First", "Second"]


def test_enable_and_disable(world, partners, rule_in, coordinator, in_place):
    rule = rule_in(world.a, name="Police", destinations=[partners.police])
    coordinator.post(url("rule_active", world.a.place, rule_id=rule.pk), {"is_active": "0"})
    with in_place(world.a.place):
        assert not RoutingRule.objects.get(pk=rule.pk).is_active
    html = coordinator.get(url("rules", world.a.place)).content.decode()
    assert "Disabled" in html
    coordinator.post(url("rule_active", world.a.place, rule_id=rule.pk), {"is_active": "1"})
    with in_place(world.a.place):
        assert RoutingRule.objects.get(pk=rule.pk).is_active
    assert audit_fields(rule)[-2:] == [["is_active"], ["is_active"]]


def test_delete_asks_first_then_deletes_and_keeps_the_history(
    world, partners, rule_in, coordinator, in_place
):
    rule = rule_in(world.a, name="Doomed", destinations=[partners.police])
    response = coordinator.get(url("rule_delete", world.a.place, rule_id=rule.pk))
    assert response.status_code == 200
    assert "Delete the rule “Doomed”?" in response.content.decode()
    assert rules_of(world.a.place, in_place) == [rule]
    response = coordinator.post(url("rule_delete", world.a.place, rule_id=rule.pk))
    assert response.status_code == 302
    assert rules_of(world.a.place, in_place) == []
    html = coordinator.get(url("rules", world.a.place)).content.decode()
    # Which rule it was, by the name its deletion recorded (on each of its events).
    assert html.count("Rule “Doomed” (deleted)") == 2 and "Deleted" in html
    assert f"Rule {rule.pk} (deleted)" not in html
    # An event recorded before names were (no name): by its id.
    with in_place(world.a.place):
        AuditEvent.objects.filter(target_id=str(rule.pk), data__deleted=True).update(
            data={"rule": rule.pk, "deleted": True, "fields": []}
        )
    html = coordinator.get(url("rules", world.a.place)).content.decode()
    assert f"Rule {rule.pk} (deleted)" in html


def test_the_rule_page_shows_its_change_history(world, partners, rule_in, coordinator):
    rule = rule_in(world.a, actor=world.a.users["admin"], name="R", destinations=[partners.police])
    coordinator.post(
        url("rule_edit", world.a.place, rule_id=rule.pk),
        {
            "action": "save",
            "name": "Renamed",
            "is_active": "on",
            "destinations": [str(partners.police.pk)],
        },
    )
    response = coordinator.get(url("rule_edit", world.a.place, rule_id=rule.pk))
    history = [row["what"] for row in response.context["history"]]
    assert history == ["Changed: name", "Created"]
    html = response.content.decode()
    assert world.a.users["coordinator"].name in html and world.a.users["admin"].name in html


# --- the sample-report page ------------------------------------------------------------------


def test_try_page_lists_who_receives_a_sample_and_who_does_not(
    world, partners, rule_in, coordinator
):
    rule_in(
        world.a,
        name="Everyone",
        destinations=[partners.team, partners.police, partners.charity, partners.platform],
    )
    response = coordinator.get(url("rules_try", world.a.place))
    assert response.status_code == 200 and "current" not in response.context
    response = coordinator.get(url("rules_try", world.a.place), SAMPLE)
    assert response.status_code == 200
    rows = response.context["current"].by_organisation()
    assert rows[partners.team.pk].sent and rows[partners.team.pk].level == "full"
    assert rows[partners.police.pk].sent and rows[partners.police.pk].level == "anonymised"
    assert not rows[partners.charity.pk].sent
    assert rows[partners.platform.pk].reason == "not_online_content"
    html = response.content.decode()
    assert "because they only receive reports of public online content" in html
    # The referral unit is listed in the place but no rule names it.
    assert [o.name for o in response.context["current"].not_named] == ["Internet Referral Unit"]


def test_try_page_with_a_bad_sample_is_422_with_the_error_next_to_the_field(world, coordinator):
    response = coordinator.get(
        url("rules_try", world.a.place),
        {"sample-incident_type": "nonsense", "sample-language": "en"},
    )
    assert response.status_code == 422
    assert 'id="id_sample-incident_type_error"' in response.content.decode()


def test_an_area_of_another_place_cannot_be_in_a_sample(world, coordinator):
    response = coordinator.get(
        url("rules_try", world.a.place), SAMPLE | {"sample-area": str(world.b.areas[0].pk)}
    )
    assert response.status_code == 422
    assert "area" in response.context["sample_form"].errors


# --- who may use the editor -------------------------------------------------------------------


def test_a_partners_coordinator_may_not_edit_the_places_rules(world, partners, client):
    user = UserFactory()
    enable_totp(user)
    MembershipFactory(user=user, organisation=partners.charity, role="coordinator")
    client.force_login(user)
    assert client.get(url("rules", world.a.place)).status_code == 403
    assert client.post(url("rule_new", world.a.place), RULE_POST).status_code == 403


def test_admin_of_the_place_team_may(world, client):
    client.force_login(world.a.users["admin"])
    assert client.get(url("rules", world.a.place)).status_code == 200


def test_the_staff_navigation_links_to_the_editor(world, coordinator, client):
    html = coordinator.get(reverse("places:staff_home", args=[world.a.place.slug])).content
    assert url("rules", world.a.place).encode() in html
    client.force_login(world.a.users["caseworker"])
    html = client.get(reverse("places:staff_home", args=[world.a.place.slug])).content
    assert url("rules", world.a.place).encode() not in html

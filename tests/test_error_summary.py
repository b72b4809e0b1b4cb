"""Every staff form posted with bad input comes back with the error summary (QUALITY.md, "Bad
input"; WCAG 2.2 AA 3.3.1): "Error:" first in the page's title, a summary at the top focused on
load, each error a link to an element of the page that exists (its field), the error also next
to its field, and what was typed kept."""

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from lxml import html

from locus.programmes.forms import NARRATIVE_MAX_LENGTH
from locus.reporting.tests.conftest import followed as followed  # the follow-up's fixture
from tests.test_isolation import (
    _annotation,
    _dir_organisation,
    _dir_service,
    _endpoint,
    _programme,
    _programme_indicator,
    _programme_period,
    _programme_survey,
    _rule,
)

LONG = "x" * 400  # past every short text field's limit


@dataclass
class FormCase:
    """One form: posted by `role` at `name` with `data`, every field of `fields` is refused;
    `kept` maps an input's name to the text that must come back in it. `role`: a role of the
    place, None for anyone (a public form), or a function of the place's world giving the user
    (a network's member). `data` may be a function of the world and the address's objects
    (a survey's questions). `method` "get": a download's form, refused on a page of its own."""

    name: str
    role: Any
    data: Any
    fields: tuple
    kept: dict = field(default_factory=dict)
    objects: Any = None
    place: bool = True  # the address has the place's slug (the library's has not)
    focus: bool = True  # the summary takes the focus (the case page focuses the field)
    method: str = "post"

    def kwargs(self, place_world):
        kwargs = self.objects(place_world) if self.objects else {}
        if self.place:
            kwargs["place_slug"] = place_world.place.slug
        return kwargs

    def url(self, place_world):
        return reverse(self.name, kwargs=self.kwargs(place_world))

    def send(self, client, place_world):
        if callable(self.role):
            client.force_login(self.role(place_world))
        elif self.role:
            client.force_login(place_world.users[self.role])
        kwargs = self.kwargs(place_world)
        data = self.data(place_world, kwargs) if callable(self.data) else self.data
        return getattr(client, self.method)(reverse(self.name, kwargs=kwargs), data)


def _case(place_world):
    from locus.cases.tests.factories import team_case

    return {"case_id": team_case(place_world).pk}


def _survey(place_world):
    from locus.programmes.tests.factories import full_programme

    return {"token": full_programme(place_world)["survey"].token}


def _survey_answers(place_world, kwargs):
    """A scale answer past the scale (1 to 5)."""
    from locus.core.tenancy import place_scope
    from locus.programmes.models import Survey

    with place_scope(place_world.place):
        survey = Survey.objects.get(token=kwargs["token"])
        likert = survey.questions.get(kind="likert")
        gender = survey.questions.get(dimension="gender")
    return {f"q{likert.pk}": "7", f"q{gender.pk}": "female"}


def _network(place_world):
    return {"network_slug": place_world.place.network.slug}


def _network_member(place_world):
    from locus.accounts.models import NetworkMembership
    from locus.core.testing.factories import UserFactory

    viewer = UserFactory(email="viewer@network.test")
    NetworkMembership.objects.create(user=viewer, network=place_world.place.network)
    return viewer


def _record(place_world, status="draft"):
    from locus.library.tests.factories import make_record

    record = make_record(organisation=place_world.organisation, status=status)
    return {"record_id": record.pk}


def _record_in_review(place_world):
    return _record(place_world, status="in_review")


FORMS = [
    FormCase(
        "places:settings",
        "admin",
        {"name": "", "report_retention_days": "5", "emergency_number": "112"},
        ("name", "report_retention_days"),
        kept={"report_retention_days": "5"},
    ),
    FormCase("places:areas", "admin", {"name_property": "ward_name"}, ("file",)),
    FormCase("indicators:import", "analyst", {"csrfmiddlewaretoken": "x"}, ("file",)),
    FormCase(
        "accounts:members",
        "admin",
        {"email": "not an address", "role": "member"},
        ("email",),
        kept={"email": "not an address"},
    ),
    FormCase("accounts:tokens", "caseworker", {"name": ""}, ("name",)),
    FormCase(
        "outbox:endpoint_new",
        "admin",
        {"url": "not a url", "description": "Kept description"},
        ("url",),
        kept={"url": "not a url", "description": "Kept description"},
    ),
    FormCase(
        "outbox:endpoint",
        "admin",
        {"url": "ftp://nowhere", "description": "Kept"},
        ("url",),
        kept={"url": "ftp://nowhere"},
        objects=_endpoint,
    ),
    FormCase(
        "insights:annotations",
        "analyst",
        {"starts_on": "2026-02-10", "ends_on": "not a date", "text": "Kept event"},
        ("ends_on",),
        kept={"text": "Kept event"},
    ),
    FormCase(
        "insights:annotation_edit",
        "analyst",
        {"starts_on": "", "ends_on": "2026-02-27", "text": "Kept event"},
        ("starts_on",),
        kept={"text": "Kept event"},
        objects=_annotation,
    ),
    FormCase(
        "directory:organisation_new",
        "coordinator",
        {"name": "", "type": "charity", "description": "Kept description"},
        ("name",),
        kept={"description": "Kept description"},
    ),
    FormCase(
        "directory:organisation",
        "admin",
        {"name": "", "website": "not a site"},
        ("name",),
        objects=_dir_organisation,
    ),
    FormCase(
        "directory:service_new",
        "coordinator",
        {"name": "Kept service", "service_type": "no-such-type"},
        ("service_type",),
        kept={"name": "Kept service"},
        objects=_dir_organisation,
    ),
    FormCase(
        "directory:service_edit",
        "admin",
        {"name": "", "service_type": "helpline"},
        ("name",),
        objects=_dir_service,
    ),
    FormCase(
        "directory:partnership_new",
        "editor",
        {"kind": "", "description": "Kept"},
        ("kind", "target"),
        kept={"description": "Kept"},
        objects=_dir_organisation,
    ),
    FormCase("directory:settings", "admin", {"check_every_days": "-3"}, ("check_every_days",)),
    FormCase("directory:import", "coordinator", {"mode": "all"}, ("file",)),
    FormCase(
        "cases:rule_new",
        "coordinator",
        {"action": "save", "name": "", "stop": "on"},
        ("name",),
    ),
    FormCase(
        "cases:rule_edit",
        "coordinator",
        {"action": "save", "name": LONG},
        ("name",),
        kept={"name": LONG},
        objects=_rule,
    ),
    FormCase(
        "cases:targets",
        "admin",
        {"acknowledge_target_hours": "-1", "close_target_days": "30"},
        ("acknowledge_target_hours",),
        kept={"acknowledge_target_hours": "-1", "close_target_days": "30"},
    ),
    FormCase(
        "cases:detail",
        "caseworker",
        {"action": "note", "body": ""},
        ("body",),
        objects=_case,
        focus=False,
    ),
    FormCase(
        "programmes:new",
        "editor",
        {"title": "Kept title", "start_date": "2026-05-01", "end_date": "not a date"},
        ("end_date",),
        kept={"title": "Kept title"},
    ),
    FormCase(
        "programmes:edit",
        "editor",
        {"title": "", "summary": "Kept summary"},
        ("title",),
        objects=_programme,
    ),
    FormCase(
        "programmes:indicator_new",
        "editor",
        {"level": "output", "title": "Kept indicator", "target": "lots"},
        ("target",),
        kept={"title": "Kept indicator"},
        objects=_programme,
    ),
    FormCase(
        "programmes:indicator_edit",
        "editor",
        {"level": "nonsense", "title": "Kept indicator"},
        ("level",),
        kept={"title": "Kept indicator"},
        objects=_programme_indicator,
    ),
    FormCase(
        "programmes:period_new",
        "editor",
        {"start": "2026-06-01", "end": ""},
        ("end",),
        objects=_programme,
    ),
    FormCase(
        "programmes:results",
        "editor",
        {"narrative": "x" * (NARRATIVE_MAX_LENGTH + 1)},
        ("narrative",),
        objects=_programme_period,
    ),
    FormCase(
        "programmes:survey",
        "editor",
        {"action": "add_question", "text": "", "kind": "scale"},
        ("text",),
        objects=_programme_survey,
    ),
    FormCase(
        "alerts:subscription",
        "caseworker",
        {"areas": "999999", "is_active": "on"},
        ("areas",),
    ),
    FormCase(
        "library:contribute",
        "member",
        {"title": "", "summary": "Kept summary", "type": "report"},
        ("title",),
        kept={"summary": "Kept summary"},
        place=False,
    ),
    FormCase(
        "library:draft_edit",
        "member",
        {"title": "Kept title", "type": "no-such-type"},
        ("type",),
        kept={"title": "Kept title"},
        objects=_record,
        place=False,
    ),
    FormCase(
        "library:file_add",
        "admin",
        {"csrfmiddlewaretoken": "x"},
        ("file",),
        objects=_record,
        place=False,
    ),
    FormCase(
        "library:review",
        "editor",
        {"decision": "", "comment": "Kept comment"},
        ("decision",),
        kept={"comment": "Kept comment"},
        objects=_record_in_review,
        place=False,
    ),
    FormCase(
        "programmes:survey_new",
        "editor",
        {"title": "", "phase": "before", "intro": "Kept intro"},
        ("title",),
        kept={"intro": "Kept intro"},
        objects=_programme_indicator,
    ),
    FormCase(
        "programmes:survey_public",
        None,
        _survey_answers,
        ("q",),
        objects=_survey,
    ),
    FormCase(
        "insights_data:network_export",
        _network_member,
        {"scheme": "no-such-scheme", "month": "1999-01"},
        ("scheme", "month"),
        objects=_network,
        place=False,
        method="get",
    ),
]


def _parse(response):
    return html.fromstring(response.content.decode())


def assert_error_summary(response, fields, kept=None, focus=True):
    """The page shown again: "Error:" in its title, the summary in <main> (focused on load, or
    not when `focus` is False), each link leading to an input of the page, one for each of
    `fields` (a name, or the end of a prefixed name "what-incident_type", or its start "q"
    for numbered questions), each such input described by its error next to it, and `kept`
    ({name: text}) typed back in. Returns the parsed page."""
    page = _parse(response)
    assert page.findtext(".//title").startswith("Error: "), page.findtext(".//title")
    summaries = page.find_class("error-summary")
    assert len(summaries) == 1
    summary = summaries[0]
    assert summary.get("tabindex") == "-1"
    assert (summary.get("autofocus") is not None) is focus
    if focus:  # nothing else takes the focus on load when the summary does
        assert len(page.xpath("//*[@autofocus]")) == 1
    assert summary.xpath("ancestor::main"), "the summary is inside <main>"
    links = summary.xpath(".//li/a/@href")
    assert links
    ids = set(page.xpath("//@id"))
    for href in links:
        assert href.startswith("#") and href[1:] in ids, (href, "no element with this id")
        target = page.get_element_by_id(href[1:])
        assert target.tag in ("input", "select", "textarea"), (href, target.tag)
    linked = {page.get_element_by_id(href[1:]).get("name") for href in links}
    for name in fields:
        assert any(
            n == name or n.endswith("-" + name) or (name == "q" and n[1:].isdigit())
            for n in linked
            if n
        ), (name, linked)
    # Each error is also next to its field, and the field says so (aria-describedby or the
    # group's fieldset).
    assert page.find_class("errorlist"), "no error next to a field"
    for href in links:
        target = page.get_element_by_id(href[1:])
        described = " ".join(
            [target.get("aria-describedby") or ""]
            + target.xpath("ancestor::fieldset[1]/@aria-describedby")
        )
        errors = [i for i in described.split() if i.endswith("_error")]
        assert errors, (href, "not tied to its error")
        assert all(page.get_element_by_id(i).get("class") == "errorlist" for i in errors)
    for name, typed in (kept or {}).items():
        values = page.xpath(f"//input[@name='{name}']/@value | //textarea[@name='{name}']/text()")
        # A <textarea> starts with a line break, which the browser drops.
        assert typed in [value.removeprefix("\n") for value in values], (name, values)
    return page


@pytest.mark.parametrize("case", FORMS, ids=lambda case: f"{case.name}")
def test_a_refused_form_has_the_error_summary(case, world, client):
    response = case.send(client, world.a)
    assert response.status_code in (400, 422), (response.status_code, response.get("Location"))
    assert_error_summary(response, case.fields, case.kept, case.focus)


def test_the_sign_in_page_refused_has_the_summary_with_the_forms_own_error(world, client):
    """A wrong password is an error of the form as a whole: listed without a link (it is above
    the form), still focused and named in the title."""
    response = client.post(
        reverse("account_login"),
        {"login": world.a.users["admin"].email, "password": "not-the-password"},
    )
    page = _parse(response)
    assert page.findtext(".//title").startswith("Error: ")
    (summary,) = page.find_class("error-summary")
    assert summary.get("autofocus") is not None
    items = summary.xpath(".//li")
    assert items and not summary.xpath(".//a")
    assert items[0].text_content().strip() in response.content.decode().split("form-errors")[-1]
    # What was typed is kept (the e-mail address; never the password).
    assert page.xpath("//input[@name='login']/@value") == [world.a.users["admin"].email]


def test_the_invitation_page_refused_has_the_summary(world, client):
    from locus.accounts.services import invitation_create
    from locus.core.tenancy import place_scope

    with place_scope(world.a.place):
        _invitation, link = invitation_create(
            actor_membership=world.a.memberships["admin"],
            email="new.person@example.org",
            role="member",
            place=world.a.place,
            accept_url_builder=lambda secret: f"http://testserver/invitations/{secret}/",
        )
    response = client.post(
        link.removeprefix("http://testserver"),
        {"name": "Typed Name", "password1": "a-long-passphrase-1", "password2": "other"},
    )
    assert response.status_code == 422
    page = _parse(response)
    assert page.findtext(".//title").startswith("Error: ")
    (summary,) = page.find_class("error-summary")
    assert summary.xpath(".//a/@href") == ["#id_password2"]


def test_a_filter_form_on_a_list_page_has_no_summary(world, client):
    """A filter's bad value (in the address) is shown next to its field and the other filters
    apply (docs/architecture.md, "Errors"): no summary takes the focus from the list."""
    client.force_login(world.a.users["coordinator"])
    response = client.get(reverse("insights:dashboard", args=["alpha"]), {"start": "soon"})
    assert response.status_code == 200
    page = _parse(response)
    assert page.find_class("errorlist")
    assert not page.find_class("error-summary")
    assert not page.findtext(".//title").startswith("Error")


def test_a_page_shown_without_errors_has_no_summary(world, client):
    client.force_login(world.a.users["admin"])
    page = _parse(client.get(reverse("places:settings", args=["alpha"])))
    assert not page.find_class("error-summary")
    assert not page.xpath("//*[@autofocus]")


@pytest.mark.parametrize(
    ("name", "query", "target"),
    [
        ("insights_data:exports", {"scheme": "odihr", "start": "soon", "end": ""}, "#id_start"),
        ("insights_data:export_records", {"start": "2026-03-01", "end": "x"}, "#records_end"),
    ],
)
def test_a_refused_download_form_has_the_summary(world, client, name, query, target):
    """A download's form is sent with GET and, refused, shown again on a page: the same
    summary as a posted form (`summarise_errors` on the form)."""
    client.force_login(world.a.users["coordinator"])
    response = client.get(reverse(name, args=["alpha"]), query)
    assert response.status_code == 422
    page = _parse(response)
    assert page.findtext(".//title").startswith("Error: ")
    (summary,) = page.find_class("error-summary")
    assert summary.get("autofocus") is not None
    links = summary.xpath(".//a/@href")
    assert target in links, links
    for href in links:
        assert page.get_element_by_id(href[1:]).tag in ("input", "select")


# --- the resident pages: the report journey, the follow-up, the erasure --------------------
# The same summary as staff forms (reporting/base.html, narrower), the journey's under its
# reassurance that nothing typed is lost.


def _journey_page(client, place, page=None, answers=None, action="next", files=None):
    from locus.reporting.tests.test_journey import post, report_url

    if page is None:
        page = client.get(report_url(place))
    return post(client, place, page, answers, action=action, files=files)


def test_a_refused_step_of_the_report_journey_has_the_summary(world, client):
    from locus.reporting.tests.test_journey import ACCOUNT, WHAT

    place = world.a.place
    step1 = _journey_page(client, place, answers={"what-occurred_on": "not a date"})
    assert step1.status_code == 422
    page = assert_error_summary(step1, ("incident_type", "occurred_on"))
    (summary,) = page.find_class("error-summary")
    # Its reassurance first, then the errors; the old box of its own is gone.
    assert "everything you entered is kept" in summary.findtext(".//p")
    assert not page.find_class("form-errors")
    assert summary.xpath("ancestor::div[@class='narrow']"), "as narrow as the journey"
    assert page.findtext(".//title").startswith("Error: Step 1 of 6: What happened")
    # A question's label is followed by its error without a colon ("?:").
    links = [link.text_content() for link in summary.xpath(".//a")]
    assert links[0] == "What happened? Choose what happened.", links
    assert links[1] == "When did it happen? Enter a valid date.", links

    step2 = _journey_page(client, place, step1, WHAT)
    step3 = _journey_page(client, place, step2, {"where-setting": "street"})
    refused = _journey_page(
        client,
        place,
        step3,
        {"who-account": ACCOUNT},
        files=[SimpleUploadedFile("page.html", b"<html><script>x</script></html>", "text/html")],
    )
    assert refused.status_code == 422
    assert_error_summary(refused, ("bias", "files"), kept={"who-account": ACCOUNT})
    # The quick exit is still there, before the summary.
    content = refused.content.decode()
    assert content.index('class="quick-exit"') < content.index('id="error-summary"')


def test_the_report_journeys_later_steps_and_check_page_refused_have_the_summary(
    world, client, monkeypatch
):
    """The contact step (an address that is not one, kept as typed), and the check page when
    the service refuses the report for no field of a step: the summary says it, no link."""
    from locus.core.errors import ValidationFailed
    from locus.reporting import services
    from locus.reporting.tests.test_journey import SHARE, WHAT, WHO, YOU, hidden

    place, area = world.a.place, world.a.areas[0]
    page = _journey_page(client, place, answers=WHAT)
    page = _journey_page(client, place, page, {"where-setting": "street", "where-area": area.pk})
    page = _journey_page(client, place, page, WHO)
    page = _journey_page(client, place, page, YOU)
    typed = SHARE | {"share-contact_email": "amal at example"}
    refused = _journey_page(client, place, page, typed)
    assert refused.status_code == 422
    assert_error_summary(
        refused, ("contact_email",), kept={"share-contact_email": "amal at example"}
    )

    check = _journey_page(client, place, refused, SHARE)
    assert b"Step 6 of 6" in check.content

    def refuse(**kwargs):
        raise ValidationFailed("This report could not be sent as it is.")

    monkeypatch.setattr(services, "report_submit", refuse)
    sent = client.post(
        reverse("reporting:report", args=[place.slug]), hidden(check) | {"action": "send"}
    )
    assert sent.status_code == 422
    parsed = _parse(sent)
    assert parsed.findtext(".//title").startswith("Error: Step 6 of 6")
    (summary,) = parsed.find_class("error-summary")
    assert summary.get("autofocus") is not None
    assert "This report could not be sent as it is." in summary.text_content()
    assert not summary.xpath(".//a") and not summary.xpath(".//p")  # no "marked below"
    assert not parsed.find_class("form-errors")


def test_the_report_journey_without_errors_has_no_summary(world, client):
    from locus.reporting.tests.test_journey import WHAT

    page = _journey_page(client, world.a.place, answers=WHAT)
    assert page.status_code == 200
    parsed = _parse(page)
    assert not parsed.find_class("error-summary") and not parsed.xpath("//*[@autofocus]")
    assert not parsed.findtext(".//title").startswith("Error")


def test_the_follow_up_forms_refused_have_the_summary(followed, client):
    from locus.reporting.tests.test_followup_pages import open_report, url

    place = followed.place
    # A reference that is not one: next to its field; a wrong code: the form's own error,
    # listed without a link (it has no field), the reference typed kept.
    malformed = client.post(url(place), {"action": "open", "reference": "", "code": ""})
    assert malformed.status_code == 422
    assert_error_summary(malformed, ("reference", "code"))
    wrong = client.post(
        url(place), {"action": "open", "reference": followed.report.reference, "code": "x" * 20}
    )
    assert wrong.status_code == 422
    page = _parse(wrong)
    assert page.findtext(".//title").startswith("Error: ")
    (summary,) = page.find_class("error-summary")
    assert summary.get("autofocus") is not None
    assert "We found no report with this reference and code" in summary.text_content()
    assert not summary.xpath(".//a")
    assert page.xpath("//input[@name='reference']/@value") == [followed.report.reference]

    open_report(client, followed)
    case = followed.case_of(followed.support)
    refused = client.post(url(place), {"action": f"message-{case.pk}"})
    assert refused.status_code == 422
    assert_error_summary(refused, (f"thread-{case.pk}-body",))
    # An action of no form (no such organisation): the summary says it, without a link.
    nowhere = client.post(url(place), {"action": "message-999999"})
    assert nowhere.status_code == 422
    page = _parse(nowhere)
    assert page.findtext(".//title").startswith("Error: ")
    (summary,) = page.find_class("error-summary")
    assert "Choose one of the organisations" in summary.text_content()

    erase = client.post(url(place, "followup_erase"), {})
    assert erase.status_code == 422
    assert_error_summary(erase, ("confirm",))


# --- pages with no form that say what went wrong -------------------------------------------


def _title(response):
    return _parse(response).findtext(".//title")


def test_a_page_that_says_what_went_wrong_says_error_first_in_its_title(world, client, settings):
    """Not found, not allowed, too many requests, still processing, a link no longer valid, a
    request that could not be read, a server error or a busy database (core.errors.error_page,
    and the two pages rendered without the request's context): "Error:" first, as a form's."""
    from django.db import OperationalError
    from django.test import Client, RequestFactory

    from locus.accounts.services import invitation_create
    from locus.core.idempotency import in_flight_page
    from locus.core.tenancy import place_scope
    from locus.core.views import server_error

    pages = {
        "404": client.get("/no-such-place/"),
        "400": client.post("/alpha/report/", {f"field{i}": "1" for i in range(1100)}),
        "403 csrf": Client(enforce_csrf_checks=True).post("/alpha/report/", {"action": "next"}),
    }
    settings.LOCUS_RATE_LIMITS = {"followup.open": "1/h"}
    opening = {"action": "open", "reference": "K7QD-3MXA", "code": "x" * 20}
    assert client.post("/alpha/follow-up/", opening).status_code == 422
    pages["429"] = client.post("/alpha/follow-up/", opening)
    # A resident kept out for a while still has the quick exit.
    assert 'class="quick-exit"' in pages["429"].content.decode()
    with place_scope(world.a.place):
        invitation, link = invitation_create(
            actor_membership=world.a.memberships["admin"],
            email="late@example.org",
            role="member",
            place=world.a.place,
            accept_url_builder=lambda secret: f"http://testserver/invitations/{secret}/",
        )
    invitation.accepted_at = invitation.expires_at
    invitation.save()
    pages["410"] = client.get(link.removeprefix("http://testserver"))
    client.force_login(world.a.users["member"])
    pages["403"] = client.get(reverse("places:settings", args=["alpha"]))
    request = client.get("/alpha/").wsgi_request
    pages["409"] = in_flight_page(request)
    pages["500"] = server_error(RequestFactory().get("/alpha/"))
    try:
        raise OperationalError("database is locked")
    except OperationalError:
        pages["503"] = server_error(RequestFactory().get("/alpha/"))
    for name, response in pages.items():
        assert str(response.status_code) == name.split()[0], (name, response.status_code)
        assert _title(response).startswith("Error: "), (name, _title(response))
    # In the reader's language.
    client.cookies["django_language"] = "fr"
    assert _title(client.get("/no-such-place/")).startswith("Erreur\u00a0: ")

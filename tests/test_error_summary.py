"""Every staff form posted with bad input comes back with the error summary (QUALITY.md, "Bad
input"; WCAG 2.2 AA 3.3.1): "Error:" first in the page's title, a summary at the top focused on
load, each error a link to an element of the page that exists (its field), the error also next
to its field, and what was typed kept."""

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.urls import reverse
from lxml import html

from locus.programmes.forms import NARRATIVE_MAX_LENGTH
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
    """One staff form: posted by `role` at `name` with `data`, every field of `fields` is
    refused; `kept` maps an input's name to the text that must come back in it."""

    name: str
    role: str
    data: dict
    fields: tuple
    kept: dict = field(default_factory=dict)
    objects: Any = None
    place: bool = True  # the address has the place's slug (the library's has not)
    focus: bool = True  # the summary takes the focus (the case page focuses the field)

    def url(self, place_world):
        kwargs = self.objects(place_world) if self.objects else {}
        if self.place:
            kwargs["place_slug"] = place_world.place.slug
        return reverse(self.name, kwargs=kwargs)


def _case(place_world):
    from locus.cases.tests.factories import team_case

    return {"case_id": team_case(place_world).pk}


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
]


def _parse(response):
    return html.fromstring(response.content.decode())


@pytest.mark.parametrize("case", FORMS, ids=lambda case: f"{case.name}")
def test_a_refused_staff_form_has_the_error_summary(case, world, client):
    a = world.a
    client.force_login(a.users[case.role])
    response = client.post(case.url(a), case.data)
    assert response.status_code in (400, 422), (response.status_code, response.get("Location"))
    page = _parse(response)
    assert page.findtext(".//title").startswith("Error: "), page.findtext(".//title")
    summaries = page.find_class("error-summary")
    assert len(summaries) == 1
    summary = summaries[0]
    assert summary.get("tabindex") == "-1"
    assert (summary.get("autofocus") is not None) is case.focus
    # Nothing else takes the focus on load when the summary does.
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
    for name in case.fields:
        assert any(n == name or n.endswith("-" + name) for n in linked if n), (name, linked)
        # The error is also next to the field.
    assert page.find_class("errorlist"), "no error next to a field"
    for name, typed in case.kept.items():
        values = page.xpath(f"//input[@name='{name}']/@value | //textarea[@name='{name}']/text()")
        # A <textarea> starts with a line break, which the browser drops.
        assert typed in [value.removeprefix("\n") for value in values], (name, values)


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

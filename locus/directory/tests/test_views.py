import pytest
from django.urls import reverse

from locus.core.models import AuditEvent
from locus.core.tenancy import place_scope
from locus.core.testing.markup import unreadable_svg_numbers

from ..models import Partnership, Service
from .factories import listed_organisation, make_service, member_of


def url(name, place_world, **kwargs):
    return reverse(f"directory:{name}", kwargs={"place_slug": place_world.place.slug, **kwargs})


def test_coordinator_edits_any_entry_and_service(world, directory, client):
    a = world.a
    client.force_login(a.users["coordinator"])
    charity = directory["charity"]
    page = client.get(url("organisation", a, organisation_id=charity.pk))
    assert page.status_code == 200 and b"Casework" in page.content
    response = client.post(
        url("organisation", a, organisation_id=charity.pk),
        {
            "name": "Hate Support North (renamed)",
            "description": "",
            "website": "",
            "email": "",
            "phone": "",
        },
    )
    assert response.status_code == 302
    charity.refresh_from_db()
    assert charity.name == "Hate Support North (renamed)"
    service = directory["services"][0]
    data = {
        "name": "Casework plus",
        "service_type": "victim_support",
        "status": "active",
        "target_groups": ["muslim_people", "women"],
        "languages": ["en"],
        "areas": [a.areas[1].pk],
    }
    assert client.post(url("service_edit", a, service_id=service.pk), data).status_code == 302
    service.refresh_from_db()
    assert service.name == "Casework plus" and service.target_groups == ["muslim_people", "women"]
    assert AuditEvent.objects.filter(action="directory_changed", target_id=str(service.pk))


def test_service_form_errors_stay_next_to_the_fields(world, directory, client):
    a = world.a
    client.force_login(a.users["admin"])
    response = client.post(
        url("service_new", a, organisation_id=directory["charity"].pk),
        {"name": "Typed name", "service_type": "", "min_age": "30", "max_age": "3"},
    )
    assert response.status_code == 422
    form = response.context["form"]
    assert "service_type" in form.errors and "areas" in form.errors
    assert b'value="Typed name"' in response.content


def test_editor_edits_only_its_own_organisation(world, directory, client):
    a = world.a
    charity = directory["charity"]
    editor = member_of(charity, "editor", "editor@charity.test")
    client.force_login(editor)
    own = client.get(url("service_new", a, organisation_id=charity.pk))
    assert own.status_code == 200
    other = directory["other"]
    assert client.get(url("service_new", a, organisation_id=other.pk)).status_code == 403
    other_service = directory["services"][1]
    assert client.get(url("service_edit", a, service_id=other_service.pk)).status_code == 403
    assert (
        client.post(
            url("organisation", a, organisation_id=other.pk),
            {"name": "Hijacked"},
        ).status_code
        == 403
    )
    # Reading another organisation's entry is fine; the place-wide views are not.
    assert client.get(url("organisation", a, organisation_id=other.pk)).status_code == 200
    assert client.get(url("coverage", a)).status_code == 403
    response = client.post(
        url("partnership_new", a, organisation_id=charity.pk),
        {"kind": "referral", "target": directory["youth"].pk},
    )
    assert response.status_code == 302
    with place_scope(a.place):
        assert Partnership.objects.filter(source=charity, target=directory["youth"]).exists()


def test_check_marks_everything_checked(world, directory, client):
    a = world.a
    client.force_login(a.users["admin"])
    with place_scope(a.place):
        Service.objects.filter(organisation=directory["charity"]).update(last_checked_on=None)
    response = client.post(url("organisation_check", a, organisation_id=directory["charity"].pk))
    assert response.status_code == 302
    with place_scope(a.place):
        assert not Service.objects.filter(
            organisation=directory["charity"], last_checked_on=None
        ).exists()


def test_stale_records_are_marked(world, directory, client):
    a = world.a
    with place_scope(a.place):
        Service.objects.filter(pk=directory["services"][0].pk).update(last_checked_on=None)
    client.force_login(a.users["admin"])
    page = client.get(url("organisation", a, organisation_id=directory["charity"].pk))
    assert b"Stale: never checked" in page.content
    public = client.get(url("public_service", a, service_id=directory["services"][0].pk))
    assert b"not been checked recently" in public.content


def test_coverage_page_marks_overlaps_gaps_and_lists_providers(world, directory, client):
    a = world.a
    client.force_login(a.users["coordinator"])
    north = directory["north"]
    page = client.get(url("coverage", a), {"area": north.pk, "cell": "victim_support"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "possible overlap" in html and "cell-gap" in html
    assert "Hate Support North" in html and "Second Support" in html
    assert page.context["cell"].count == 2
    filtered = client.get(url("coverage", a), {"language": "ar", "type": "victim_support"})
    assert filtered.status_code == 200
    assert filtered.context["coverage"].cell(north.pk, "victim_support").count == 1
    bad = client.get(url("coverage", a), {"age": "-4"})
    assert bad.status_code == 422
    # A map type that is no longer in the vocabulary (an old link): its error next to the map's
    # select, and the other filters still apply (they used to be dropped, with no message).
    stale = client.get(url("coverage", a), {"language": "ar", "type": "retired_type"})
    assert stale.status_code == 422
    assert stale.context["coverage"].cell(north.pk, "victim_support").count == 1
    html = stale.content.decode()
    assert 'id="map-type_error"' in html and "retired_type is not one of" in html
    assert 'aria-describedby="map-type_error"' in html
    # Not an area id ("²" passes str.isdigit()): no cell, not a 500.
    odd = client.get(url("coverage", a), {"area": "\u00b2", "cell": "victim_support"})
    assert odd.status_code == 200 and odd.context["cell"] is None


def test_pathways_page_uses_the_routing_rules(world, directory, client):
    from locus.cases.services import routing_rule_save

    a = world.a
    with place_scope(a.place):
        routing_rule_save(
            place=a.place,
            actor=None,
            name="Anti-Muslim",
            conditions={"bias": ["anti_muslim"]},
            destinations=[directory["charity"]],
        )
    client.force_login(a.users["coordinator"])
    page = client.get(
        url("pathways", a),
        {
            "sample-incident_type": "abusive_behaviour",
            "sample-bias": "anti_muslim",
            "sample-language": "en",
            "sample-area": directory["north"].pk,
            "sample-consent_support_contact": "on",
        },
    )
    assert page.status_code == 200, page.context["sample_form"].errors
    html = page.content.decode()
    hand_on = page.context["hand_on"]
    assert [item["organisation"] for item in hand_on] == [directory["charity"]]
    assert hand_on[0]["partners"] == [directory["other"]]
    assert "Second Support" in html
    assert client.get(url("pathways", a), {"sample-incident_type": "nope"}).status_code == 422


def test_network_page(world, directory, client):
    client.force_login(world.a.users["admin"])
    page = client.get(url("network", world.a))
    assert page.status_code == 200
    assert page.content.count(b"<line ") == 2
    assert b"Refers people to" in page.content
    client.cookies["django_language"] = "de"  # decimal commas stay out of the drawing
    html = client.get(url("network", world.a)).content.decode()
    assert html.count("<line ") == 2 and html.count("<circle") >= 2
    assert not unreadable_svg_numbers(html)


def test_public_directory_needs_no_login_and_filters(world, directory, client):
    a = world.a
    page = client.get(url("public", a))
    assert page.status_code == 200
    assert len(page.context["services"]) == 4
    page = client.get(url("public", a), {"need": "youth_work", "age": "12"})
    assert [s.name for s in page.context["services"]] == ["Youth work"]
    page = client.get(url("public", a), {"area": world.b.areas[0].pk})
    assert page.status_code == 422  # another place's area is not a choice
    detail = client.get(url("public_service", a, service_id=directory["services"][0].pk))
    assert detail.status_code == 200
    other = make_service(world.b.place, world.b.organisation, whole_place=True)
    assert client.get(url("public_service", a, service_id=other.pk)).status_code == 404


@pytest.mark.parametrize("language", ["fr", "de", "sv"])
def test_public_directory_in_other_languages(world, directory, client, language):
    page = client.get(url("public", world.a), HTTP_ACCEPT_LANGUAGE=language)
    assert page.status_code == 200
    from django.utils.html import escape

    from ..vocabulary import vocabulary

    label = vocabulary().label("service_type", "helpline", language)
    assert escape(label) in page.content.decode()


def test_each_public_filter_says_any_in_its_own_words(world, directory, client):
    """One "Any" for every filter read "Alla" beside the group "Alla" (Everyone) in Swedish."""
    page = client.get(url("public", world.a), HTTP_ACCEPT_LANGUAGE="sv")
    choices = {name: page.context["form"].fields[name].choices for name in ("need", "group")}
    labels = [str(label) for _value, label in choices["group"]]
    assert labels[0] == "Alla målgrupper"
    assert len(set(labels)) == len(labels)
    assert str(choices["need"][0][1]) == "Alla typer av hjälp"


def test_receipt_links_matching_support(world, directory):
    from django.template import Context, Template

    from locus.cases.tests.factories import REPORT, submit

    a = world.a
    report = submit(a.place, {**REPORT, "bias": ["anti_muslim"]}, area=directory["north"])
    template = Template("{% load directory %}{% support_for_report place reference %}")
    with place_scope(a.place):
        html = template.render(Context({"place": a.place, "reference": report.reference}))
    assert "Casework" in html and "Advocacy" in html and "Helpline" in html
    assert "Youth work" not in html
    with place_scope(a.place):
        assert template.render(Context({"place": a.place, "reference": "NOPE"})).strip() == ""


def test_receipt_page_includes_the_support_block(world, directory, client):
    """The receipt template's include line renders (the full journey is tested in reporting)."""
    from django.template.loader import get_template

    source = get_template("reporting/receipt.html").template.source
    assert "{% support_for_report place reference %}" in source


def test_list_pages_have_a_query_budget(world, directory, client, django_assert_max_num_queries):
    a = world.a
    client.force_login(a.users["admin"])
    pages = [
        url("index", a),
        url("coverage", a),
        url("network", a),
        url("public", a),
        url("organisation", a, organisation_id=directory["charity"].pk),
    ]
    budgets = {}
    for page in pages:
        with django_assert_max_num_queries(40) as captured:
            assert client.get(page).status_code == 200
        budgets[page] = len(captured.captured_queries)
    for index in range(8):  # more rows must not mean more queries
        organisation = listed_organisation(a.place, f"Extra {index}")
        make_service(a.place, organisation, areas=a.areas, name=f"Extra {index}")
        make_service(a.place, directory["charity"], whole_place=True, name=f"Own {index}")
    with place_scope(a.place):
        from ..services import partnership_write

        for index, organisation in enumerate(list(a.place.listings.all())[:4]):
            if organisation.organisation_id != directory["youth"].pk:
                partnership_write(
                    place=a.place,
                    actor=None,
                    source=directory["youth"],
                    target=organisation.organisation,
                    kind="delivery",
                    description=str(index),
                )
    for page, count in budgets.items():
        with django_assert_max_num_queries(count):
            assert client.get(page).status_code == 200


def test_import_upload_starts_a_job(world, client, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from .test_hsds import EXAMPLES

    a = world.a
    client.force_login(a.users["admin"])
    upload = SimpleUploadedFile(
        "service_full.json", (EXAMPLES / "service_full.json").read_bytes(), "application/json"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("import", a), {"file": upload, "mode": "nothing"})
    assert response.status_code == 302 and "/staff/jobs/" in response["Location"]
    with place_scope(a.place):
        assert Service.objects.filter(place=a.place, name="Community Counselling").exists()
    bad = SimpleUploadedFile("broken.json", b"{nope", "application/json")
    response = client.post(url("import", a), {"file": bad, "mode": "good_rows"})
    assert response.status_code == 422
    assert "not valid JSON" in response.content.decode()


def test_export_download_and_settings(world, directory, client):
    import json

    a = world.a
    client.force_login(a.users["admin"])
    response = client.get(url("export", a))
    assert response.status_code == 200
    assert len(json.loads(response.content)["services"]) == 4
    package = client.get(url("export", a), {"format": "csv"})
    assert package["Content-Type"] == "application/zip"
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(package.content)) as archive:
        assert {"organizations.csv", "services.csv"} <= set(archive.namelist())
    response = client.post(url("settings", a), {"check_every_days": "0"})
    assert response.status_code == 422
    response = client.post(url("settings", a), {"check_every_days": "90"})
    assert response.status_code == 302
    assert b"90 days" in client.get(url("index", a)).content


def test_coverage_legend_classes_match_the_map_script():
    import math

    from ..views import coverage_legend

    for top in range(0, 12):
        classes = coverage_legend(top)
        for count in range(1, top + 1):
            script = min(3, max(1, math.ceil(3 * count / top)))  # coverage-map.js
            (number,) = [n for n, low, high in classes if n and low <= count <= high]
            assert number == script

import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from locus.core.tenancy import place_scope
from locus.core.testing.factories import MembershipFactory, OrganisationFactory, UserFactory
from locus.core.testing.markup import unreadable_svg_numbers
from locus.core.testing.world import enable_totp
from locus.directory.services import organisation_list_in_place
from locus.programmes.models import EvidenceFile, Programme, SurveyResponse

from .factories import full_programme, programme

pytestmark = pytest.mark.django_db


def _cso_editor(place_world):
    """An editor of a charity listed in the place (not the city's team)."""
    charity = OrganisationFactory(name="Small Charity")
    with place_scope(place_world.place):
        organisation_list_in_place(organisation=charity, place=place_world.place)
    user = UserFactory(email="editor@charity.test")
    enable_totp(user)
    MembershipFactory(user=user, organisation=charity, role="editor")
    return user, charity


def test_new_programme_errors_keep_what_was_typed(world, client):
    client.force_login(world.a.users["editor"])
    response = client.post(
        "/alpha/programmes/new/",
        {
            "title": "Youth voices",
            "start_date": "2026-06-01",
            "end_date": "2026-01-01",
            "intervention": "education",
            "currency": "GBP",
            "status": "active",
            "areas": [world.a.areas[0].pk],
        },
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert 'value="Youth voices"' in body
    assert "The end cannot be before the start." in body


def test_an_area_of_another_place_is_refused_in_the_form(world, client):
    client.force_login(world.a.users["editor"])
    response = client.post(
        "/alpha/programmes/new/",
        {
            "title": "X",
            "start_date": "2026-01-01",
            "end_date": "2026-02-01",
            "intervention": "education",
            "currency": "GBP",
            "status": "active",
            "areas": [world.b.areas[0].pk],
        },
    )
    assert response.status_code == 422
    with place_scope(world.a.place):
        assert not Programme.objects.exists()


def test_theory_of_change_is_drawn_with_a_text_version(world, client, data):
    client.force_login(world.a.users["editor"])
    p = data["programme"]
    response = client.post(
        f"/alpha/programmes/{p.pk}/theory-of-change/",
        {"problem": "Isolation", "activities": "Clubs\nTrips", "impact": "Belonging"},
    )
    assert response.status_code == 302
    body = client.get(f"/alpha/programmes/{p.pk}/").content.decode()
    assert 'role="img"' in body and '<title id="toc-title">' in body
    assert "<li>Trips</li>" in body  # the text version
    assert 'style="' not in body  # CSP: no inline styles


def test_results_page_saves_values_and_keeps_bad_input(world, client, data):
    client.force_login(world.a.users["editor"])
    p, q, output = data["programme"], data["period"], data["output"]
    url = f"/alpha/programmes/{p.pk}/periods/{q.pk}/"
    response = client.post(
        url,
        {"narrative": "Long story", f"value_{output.pk}": "abc", f"b_{output.pk}_gender_male": "3"},
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "Long story" in body and 'value="abc"' in body
    response = client.post(
        url,
        {
            "narrative": "Long story",
            f"value_{output.pk}": "44",
            f"b_{output.pk}_gender_male": "20",
            "submit": "on",
        },
    )
    assert response.status_code == 302
    with place_scope(world.a.place):
        result = output.results.get(period=q)
        assert result.value == 44 and result.disaggregation == {"gender": {"male": 20.0}}


def test_the_reported_box_shows_the_periods_state_and_unticking_reopens(world, client, data):
    """After a period was reported, its results page showed "mark as reported" unticked, so
    a later save looked as if it had taken the report back (and ticking it again moved the
    reported date): the box now shows the state, keeps the first date, and unticks to reopen."""
    client.force_login(world.a.users["editor"])
    p, q, output = data["programme"], data["period"], data["output"]
    url = f"/alpha/programmes/{p.pk}/periods/{q.pk}/"

    def ticked():
        box = re.search(
            r'<input type="checkbox" name="submit"[^>]*>', client.get(url).content.decode()
        )
        return " checked" in box.group(0)

    assert not ticked()
    posted = {"narrative": "Story", f"value_{output.pk}": "44", "submit": "on"}
    assert client.post(url, posted).status_code == 302
    q.refresh_from_db()
    first = q.submitted_at
    assert first is not None
    assert ticked()
    assert "Untick the box to reopen it for changes." in client.get(url).content.decode()
    assert client.post(url, posted).status_code == 302
    q.refresh_from_db()
    assert q.submitted_at == first
    del posted["submit"]
    assert client.post(url, posted).status_code == 302
    q.refresh_from_db()
    assert q.submitted_at is None and q.submitted_by is None
    assert not ticked()


def test_evidence_upload_refuses_html_next_to_the_field(world, client, data):
    client.force_login(world.a.users["editor"])
    p, q = data["programme"], data["period"]
    url = f"/alpha/programmes/{p.pk}/periods/{q.pk}/"
    bad = SimpleUploadedFile("x.pdf", b"<!DOCTYPE html><html><script></script>", "application/pdf")
    response = client.post(url, {"file": bad})
    assert response.status_code == 422
    assert "errorlist" in response.content.decode()
    good = SimpleUploadedFile("sheet.txt", b"Attendance 12", "text/plain")
    assert client.post(url, {"file": good}).status_code == 302
    with place_scope(world.a.place):
        evidence = EvidenceFile.objects.get()
    download = client.get(f"{url}files/{evidence.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"Attendance 12"


def test_an_evidence_download_is_audited_and_a_missing_file_is_a_404(world, client, data):
    """Attendance sheets and photos name and show people: each download writes an audit event
    (ids only). A row whose stored file is missing answers 404, not a server error, and
    audits nothing."""
    from locus.core.choices import AuditAction
    from locus.core.models import AuditEvent

    editor = world.a.users["editor"]
    client.force_login(editor)
    p, q = data["programme"], data["period"]
    url = f"/alpha/programmes/{p.pk}/periods/{q.pk}/"
    sheet = SimpleUploadedFile("sheet.txt", b"Attendance: Ann, Bo", "text/plain")
    assert client.post(url, {"file": sheet}).status_code == 302
    with place_scope(world.a.place):
        evidence = EvidenceFile.objects.get()
    downloads = AuditEvent.objects.filter(action=AuditAction.EVIDENCE_DOWNLOADED)

    response = client.get(f"{url}files/{evidence.pk}/")

    assert response.status_code == 200 and b"Ann" in b"".join(response.streaming_content)
    event = downloads.get()
    assert (event.actor, event.place, event.target_id) == (editor, world.a.place, str(evidence.pk))
    assert event.target_type == "programmes.evidencefile"
    assert event.data == {"programme": p.pk, "period": q.pk, "file": evidence.pk}

    evidence.file.storage.delete(evidence.file.name)
    assert client.get(f"{url}files/{evidence.pk}/").status_code == 404
    assert downloads.count() == 1


def test_upload_without_a_file_says_so_next_to_the_field(world, client, data):
    """The upload form is sent without a file (it has `novalidate`): a message next to the
    field, not a server error."""
    client.force_login(world.a.users["editor"])
    p, q = data["programme"], data["period"]
    response = client.post(f"/alpha/programmes/{p.pk}/periods/{q.pk}/", {})
    assert response.status_code == 422
    assert response.context["evidence_form"].errors == {"file": ["Choose a file."]}
    assert 'id="id_file_error"' in response.content.decode()
    with place_scope(world.a.place):
        assert not EvidenceFile.objects.exists()


def test_public_survey_is_anonymous_and_works_on_a_shared_device(world, client, data):
    survey = data["survey"]
    url = f"/alpha/survey/{survey.token}/"
    page = client.get(url)
    assert page.status_code == 200
    with place_scope(world.a.place):
        likert = survey.questions.get(kind="likert")
        gender = survey.questions.get(dimension="gender")
    response = client.post(
        url + "?device=shared", {f"q{likert.pk}": "4", f"q{gender.pk}": "female"}
    )
    assert response.status_code == 302 and "device=shared" in response["Location"]
    thanks = client.get(response["Location"])
    assert "Next person" in thanks.content.decode()
    response = client.post(url, {f"q{likert.pk}": "7"})
    assert response.status_code == 422
    with place_scope(world.a.place):
        assert SurveyResponse.objects.get().answers == {str(likert.pk): 4, str(gender.pk): "female"}
    # Another place's survey is not found through this place.
    assert client.get(f"/beta/survey/{survey.token}/").status_code == 404


def test_a_survey_address_whose_token_is_not_one_is_404(world, client, data):
    """A NUL in the address is never compared with the database (PostgreSQL: a 500)."""
    for token in ("%00", "a%00b", "x" * 65, "a.b"):
        assert client.get(f"/alpha/survey/{token}/").status_code == 404, token
        assert client.post(f"/alpha/survey/{token}/", {}).status_code == 404, token
        assert client.get(f"/alpha/survey/{token}/thanks/").status_code == 404, token


@override_settings(LOCUS_RATE_LIMITS={"programmes.survey": "2/h"})
def test_public_survey_is_rate_limited(world, client, data):
    from django.core.cache import cache

    cache.clear()
    survey = data["survey"]
    with place_scope(world.a.place):
        likert = survey.questions.get(kind="likert")
    url = f"/alpha/survey/{survey.token}/"
    for _n in range(2):
        assert client.post(url, {f"q{likert.pk}": "4"}).status_code == 302
    limited = client.post(url, {f"q{likert.pk}": "4"})
    assert limited.status_code == 429 and limited["Retry-After"]


def test_closed_survey_takes_no_answers(world, client, data):
    survey = data["survey"]
    survey.is_open = False
    with place_scope(world.a.place):
        survey.save()
        likert = survey.questions.get(kind="likert")
    response = client.post(f"/alpha/survey/{survey.token}/", {f"q{likert.pk}": "4"})
    assert response.status_code == 200
    assert "This survey is closed" in response.content.decode()


def test_another_organisations_programme_is_not_found(world, client, data):
    user, _charity = _cso_editor(world.a)
    client.force_login(user)
    p = data["programme"]
    assert client.get(f"/alpha/programmes/{p.pk}/").status_code == 404
    assert (
        client.get(f"/alpha/programmes/{p.pk}/periods/{data['period'].pk}/report/").status_code
        == 404
    )
    assert client.get("/alpha/programmes/portfolio/").status_code == 403


def test_the_portfolio_team_reads_a_charitys_report(world, client):
    user, charity = _cso_editor(world.a)
    p = programme(world.a, organisation=charity, title="Charity programme")
    from .factories import period

    q = period(p)
    client.force_login(world.a.users["analyst"])
    body = client.get("/alpha/programmes/portfolio/").content.decode()
    assert "Charity programme" in body and "/alpha/insights/" in body
    # Only links the reader may follow: the directory's coverage is for its managers.
    assert "/alpha/directory/coverage/" not in body
    assert client.get("/alpha/directory/coverage/").status_code == 403
    client.force_login(world.a.users["coordinator"])
    body = client.get("/alpha/programmes/portfolio/").content.decode()
    assert "/alpha/insights/" in body and "/alpha/directory/coverage/" in body
    client.force_login(world.a.users["analyst"])
    assert client.get(f"/alpha/programmes/{p.pk}/periods/{q.pk}/report/").status_code == 200
    # Read only: the analyst cannot edit it.
    assert client.get(f"/alpha/programmes/{p.pk}/edit/").status_code == 403


def test_pdf_report_in_each_language(world, client, data):
    client.force_login(world.a.users["editor"])
    p, q = data["programme"], data["period"]
    for language in ("en", "sv"):
        response = client.get(f"/alpha/programmes/{p.pk}/periods/{q.pk}/report.pdf?lang={language}")
        assert response.status_code == 200 and response.content.startswith(b"%PDF")
        assert f"-{language}.pdf" in response["Content-Disposition"]


def test_pdf_fetcher_refuses_remote_urls():
    from locus.programmes.pdf import RemoteFetchRefused, _fetcher_class

    fetcher = _fetcher_class()(allowed_protocols=["data"])
    for url in ("http://127.0.0.1:1/x.png", "https://example.org/font.woff", "file:///etc/passwd"):
        with pytest.raises((RemoteFetchRefused, ValueError)):
            fetcher.fetch(url)


def test_publish_from_the_page(world, client, data):
    client.force_login(world.a.users["editor"])
    p = data["programme"]
    response = client.post(f"/alpha/programmes/{p.pk}/publish/")
    assert response.status_code == 302
    with place_scope(world.a.place):
        p.refresh_from_db()
    assert p.library_record.status == "in_review"
    body = client.get(f"/alpha/programmes/{p.pk}/").content.decode()
    assert p.library_record.title in body


def test_survey_page_computes_the_value(world, client, data):
    client.force_login(world.a.users["editor"])
    p, survey = data["programme"], data["survey"]
    with place_scope(world.a.place):
        likert = survey.questions.get(kind="likert")
        from locus.programmes.services import survey_submit

        for _n in range(5):
            survey_submit(survey=survey, answers={str(likert.pk): "5"})
    url = f"/alpha/programmes/{p.pk}/surveys/{survey.pk}/"
    assert "100" in client.get(url).content.decode()
    assert client.post(url, {"action": "compute"}).status_code == 302
    with place_scope(world.a.place):
        assert data["outcome"].results.get(period=data["period"]).value == 100


# --- query budgets ---------------------------------------------------------------------------


def _many(world, count):
    for n in range(count):
        full_programme(world.a) if n == 0 else programme(world.a, title=f"P{n}")


@pytest.mark.parametrize("count", [1, 6])
def test_list_pages_have_a_fixed_query_budget(world, client, count, django_assert_max_num_queries):
    _many(world, count)
    client.force_login(world.a.users["coordinator"])
    with django_assert_max_num_queries(30):
        assert client.get("/alpha/programmes/").status_code == 200
    with django_assert_max_num_queries(30):
        assert client.get("/alpha/programmes/portfolio/").status_code == 200


def test_list_queries_do_not_grow_with_rows(world, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(world.a.users["coordinator"])
    client.get("/alpha/programmes/")  # warm: the session's first request loads more
    counts = []
    for extra in (1, 5):
        _many(world, extra)
        for url in ("/alpha/programmes/", "/alpha/programmes/portfolio/"):
            with CaptureQueriesContext(connection) as queries:
                client.get(url)
            counts.append((url, len(queries)))
    assert counts[0][1] == counts[2][1] and counts[1][1] == counts[3][1], counts


def test_api_list_and_detail(world, client, data):
    from locus.accounts.services import token_create

    _token, secret = token_create(membership=world.a.memberships["editor"], name="t")
    headers = {"Authorization": f"Bearer {secret}"}
    listing = client.get("/api/v1/places/alpha/programmes", headers=headers).json()
    assert [p["title"] for p in listing] == ["Youth bridges"]
    p = data["programme"]
    detail = client.get(f"/api/v1/places/alpha/programmes/{p.pk}", headers=headers).json()
    assert detail["theory_of_change"]["activities"] == ["Sessions", "Volunteering"]
    assert len(detail["indicators"]) == 2
    bad = client.post(
        f"/api/v1/places/alpha/programmes/{p.pk}/periods/{data['period'].pk}/results",
        {
            "results": [
                {
                    "indicator": data["output"].pk,
                    "value": "5",
                    "disaggregation": {"gender": {"robot": 1}},
                }
            ]
        },
        content_type="application/json",
        headers=headers,
    )
    assert bad.status_code == 422
    assert "results.0.disaggregation" in bad.json()["fields"]
    results_url = f"/api/v1/places/alpha/programmes/{p.pk}/periods/{data['period'].pk}/results"
    for body, field in (
        ({"results": [], "narrative": "Went\x00well"}, "narrative"),
        ({"results": [{"indicator": data["output"].pk, "comment": "a\x00b"}]}, "results.0.comment"),
    ):
        nul = client.post(results_url, body, content_type="application/json", headers=headers)
        assert nul.status_code == 422 and list(nul.json()["fields"]) == [field], nul.json()
    ok = client.post(
        f"/api/v1/places/alpha/programmes/{p.pk}/periods/{data['period'].pk}/results",
        {"results": [{"indicator": data["output"].pk, "value": "61"}], "submit": True},
        content_type="application/json",
        headers=headers,
    )
    assert ok.status_code == 200
    values = {i["id"]: i["results"] for i in ok.json()["indicators"]}
    assert (
        values[data["output"].pk][0]["value"] == "61.00"
        or float(values[data["output"].pk][0]["value"]) == 61
    )


def test_api_list_queries_do_not_grow_with_rows(world, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from locus.accounts.services import token_create

    _token, secret = token_create(membership=world.a.memberships["coordinator"], name="t")
    headers = {"Authorization": f"Bearer {secret}"}
    counts = []
    for extra in (1, 5):
        _many(world, extra)
        for url in ("/api/v1/places/alpha/programmes", "/api/v1/places/alpha/programmes/portfolio"):
            client.get(url, headers=headers)  # warm
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url, headers=headers).status_code == 200
            counts.append(len(queries))
    assert counts[0] == counts[2] and counts[1] == counts[3], counts


def test_api_create_programme(world, client):
    from locus.accounts.services import token_create

    _token, secret = token_create(membership=world.a.memberships["editor"], name="t")
    headers = {"Authorization": f"Bearer {secret}"}
    body = {
        "title": "From the API",
        "start_date": "2026-01-01",
        "end_date": "2026-06-30",
        "intervention": "mentoring",
        "target_groups": ["young_people"],
        "areas": [world.a.areas[0].pk],
        "funders": ["A Trust"],
        "budget": "1200.50",
    }
    created = client.post(
        "/api/v1/places/alpha/programmes", body, content_type="application/json", headers=headers
    )
    assert created.status_code == 201, created.content
    assert created.json()["areas"][0]["id"] == world.a.areas[0].pk
    assert created.json()["funders"] == ["A Trust"]
    for bad, field in (
        ({**body, "areas": [world.b.areas[0].pk]}, "areas"),
        ({**body, "end_date": "2025-01-01"}, "end_date"),
        ({**body, "intervention": "nope"}, "intervention"),
        # PostgreSQL refuses NUL in text (it was a 500 there): refused first, naming the field.
        ({**body, "title": "Youth\x00voices"}, "title"),
        ({**body, "summary": "a\x00b"}, "summary"),
        ({**body, "funders": ["A\x00Trust"]}, "funders"),
    ):
        response = client.post(
            "/api/v1/places/alpha/programmes", bad, content_type="application/json", headers=headers
        )
        assert response.status_code == 422 and field in response.json()["fields"], response.json()


def test_progress_chart_speaks_the_readers_language():
    """Month names and decimals of the progress chart follow the language (PDF and page)."""
    from types import SimpleNamespace

    from django.utils import translation

    from locus.programmes.charts import progress_svg

    indicator = SimpleNamespace(title="Trust", target=Decimal("80"), baseline=Decimal("40"))
    results = [
        SimpleNamespace(value=Decimal("62.5"), period=SimpleNamespace(start=date(2026, 7, 1))),
        SimpleNamespace(value=None, period=SimpleNamespace(start=date(2026, 10, 1))),
    ]
    with translation.override("en"):
        svg = progress_svg(indicator, results, title_id="c")
    assert ">Jul 2026<" in svg and ">62.5<" in svg and ">target 80<" in svg
    with translation.override("fr"):
        svg = progress_svg(indicator, results, title_id="c")
    assert ">juil. 2026<" in svg and ">oct. 2026<" in svg and ">62,5<" in svg
    assert 'x="' in svg and not unreadable_svg_numbers(svg)


@pytest.mark.parametrize("language", ["en", "fr", "de", "sv"])
def test_theory_of_change_headings_fit_their_column(world, language):
    """A heading wider than its column ("Langfristige Wirkung (Impact)") wraps instead of running
    into the next column or off the drawing."""
    import re

    from django.utils import translation

    from locus.programmes.charts import BOX_W, HEADING_WRAP, toc_columns, toc_svg

    p = programme(world.a, title="Bridges")
    with translation.override(language):
        svg = toc_svg(p)
        headings = [heading for heading, _items in toc_columns(p)]
    drawn = re.findall(r'<text class="toc-heading"[^>]*>(.*?)</text>', svg)
    lines = [re.findall(r"<tspan[^>]*>([^<]*)</tspan>", text) for text in drawn]
    assert all(len(line) <= HEADING_WRAP for group in lines for line in group)
    assert [" ".join(group) for group in lines[-len(headings) :]] == headings
    assert HEADING_WRAP * 8 <= BOX_W  # about 8 px a bold 13 px character
    assert not unreadable_svg_numbers(svg)


def test_a_period_is_named_with_dates_in_the_readers_language(world):
    from django.utils import translation

    from .factories import period

    q = period(programme(world.a))
    with translation.override("en"):
        assert str(q) == "1 Jan 2026 – 31 Mar 2026"
    with translation.override("fr"):
        assert str(q) == "1 jan. 2026 – 31 mars 2026"
    with translation.override("de"):
        assert str(q) == "1. Jan. 2026 – 31. März 2026"


def test_figures_are_grouped_and_carry_their_unit_as_the_chart_writes_them(world, client, data):
    """The pages wrote a budget of 12,500.50 as "12500.50" and a target of 1,200 as "1200" beside
    a chart labelled "1,200", and a percentage's baseline without its "%": a funder reads the
    figures the reader's way, the same on the page, in the report and in its PDF."""
    from locus.programmes.models import Indicator

    p, q = data["programme"], data["period"]
    with place_scope(world.a.place):
        Programme.objects.filter(pk=p.pk).update(budget=Decimal("12500.50"))
        Indicator.objects.filter(pk=data["output"].pk).update(target=Decimal("1200"))
    client.force_login(world.a.users["editor"])
    detail = client.get(f"/alpha/programmes/{p.pk}/").content.decode()
    assert "12,500.50 GBP" in detail
    assert "Target 1,200 ·" in detail
    assert "Baseline 50 % · Target 70 %" in detail  # the outcome, a percentage
    report = client.get(f"/alpha/programmes/{p.pk}/periods/{q.pk}/report/").content.decode()
    assert "<dd>12,500.50 GBP</dd>" in report
    assert "<dd>1,200 — " in report
    assert "<dd>50 % (2025)</dd>" in report
    client.cookies["django_language"] = "fr"
    french = client.get(f"/alpha/programmes/{p.pk}/periods/{q.pk}/report/").content.decode()
    assert "<dd>12\u202f500,50 GBP</dd>" in french


def test_after_publishing_the_programme_links_to_its_library_record(world, client, data):
    """Once sent for review the card only named the record: the organisation could not open it,
    nor find where the library editors' comments come back. It now links to the record (which
    the organisation may read while in review) and to the organisation's library records."""
    p = data["programme"]
    client.force_login(world.a.users["editor"])
    assert client.post(f"/alpha/programmes/{p.pk}/publish/").status_code == 302
    p.refresh_from_db()
    body = client.get(f"/alpha/programmes/{p.pk}/").content.decode()
    assert f'href="/library/{p.library_record_id}/"' in body
    assert 'href="/library/mine/"' in body
    assert client.get(f"/library/{p.library_record_id}/").status_code == 200
    assert client.get("/library/mine/").status_code == 200


def test_the_results_page_shows_figures_as_they_were_typed(world, client, data):
    """A count of 40 people came back in its field as "40.00" (the column's two decimals)."""
    p, q, output = data["programme"], data["period"], data["output"]
    client.force_login(world.a.users["editor"])
    url = f"/alpha/programmes/{p.pk}/periods/{q.pk}/"
    response = client.post(
        url, {f"value_{output.pk}": "40", f"b_{output.pk}_gender_female": "20", "narrative": ""}
    )
    assert response.status_code == 302
    body = client.get(url).content.decode()
    assert f'name="value_{output.pk}" value="40"' in body
    assert f'name="b_{output.pk}_gender_female" value="20"' in body
    outcome = data["outcome"]
    assert client.post(url, {f"value_{outcome.pk}": "62.5", "narrative": ""}).status_code == 302
    assert f'name="value_{outcome.pk}" value="62.5"' in client.get(url).content.decode()


def test_the_portfolio_opens_the_latest_report_with_results(world, client, data):
    """The portfolio linked each programme to its newest period, usually one still open: the
    coordinator opened a report saying "Not reported" for every indicator. It opens the latest
    period reported (else the latest with a value)."""
    from .factories import period

    p, q1 = data["programme"], data["period"]
    q2 = period(p, start=date(2026, 4, 1), end=date(2026, 6, 30))
    client.force_login(world.a.users["coordinator"])
    body = client.get("/alpha/programmes/portfolio/").content.decode()
    assert f"/alpha/programmes/{p.pk}/periods/{q1.pk}/report/" in body
    assert f"/periods/{q2.pk}/report/" not in body


def test_when_the_periods_reach_the_end_date_the_page_says_what_to_do(world, client, data):
    """With every day of the programme in a period the form offered two empty dates, and adding
    a period answered only "This field is required.": the page now says why there is no
    suggestion and what to change."""
    from .factories import period

    p = data["programme"]
    client.force_login(world.a.users["editor"])
    url = f"/alpha/programmes/{p.pk}/"
    assert "already reach the programme" not in client.get(url).content.decode()
    period(p, start=date(2026, 4, 1), end=p.end_date)
    body = client.get(url).content.decode()
    assert "The periods already reach the programme's end date, 31 December 2026." in body


def test_the_indicator_form_shows_its_figures_as_they_were_typed(world, client, data):
    """Editing an indicator gave its target 70 back as "70.00" and its baseline as "50.00"."""
    p, outcome = data["programme"], data["outcome"]
    client.force_login(world.a.users["editor"])
    body = client.get(f"/alpha/programmes/{p.pk}/indicators/{outcome.pk}/").content.decode()
    assert 'name="target" value="70"' in body and 'name="baseline" value="50"' in body


def test_a_survey_without_any_period_says_to_add_one_first(world, client):
    """With no reporting period the new-survey form offered an empty "Period" list and answered
    "This field is required.": a dead end. It now says to add a period and links to the form."""
    from .factories import indicator

    p = programme(world.a)
    outcome = indicator(p)
    client.force_login(world.a.users["editor"])
    body = client.get(f"/alpha/programmes/{p.pk}/indicators/{outcome.pk}/survey/new/")
    html = body.content.decode()
    assert "the programme has none yet: add a period first" in html
    assert f'href="/alpha/programmes/{p.pk}/#periods"' in html
    assert "Create the survey" not in html
    assert 'id="periods"' in client.get(f"/alpha/programmes/{p.pk}/").content.decode()


def test_age_bands_and_genders_are_listed_in_their_natural_order(world, client, data):
    """A survey's breakdown came sorted by code and PostgreSQL's jsonb sorts keys by length,
    so pages and exports listed "18–24" before "Under 18" (and "Men and boys" before "Women
    and girls"): the survey page, the report, the IATI file and the API now follow the
    choices' order."""
    from locus.accounts.services import token_create
    from locus.programmes import iati, services

    client.force_login(world.a.users["editor"])
    p, q, outcome, survey = data["programme"], data["period"], data["outcome"], data["survey"]
    with place_scope(world.a.place):
        questions = {x.dimension: x.pk for x in survey.questions.all()}
        likert = survey.questions.get(kind="likert").pk
        for age, gender in [("18_24", "male")] * 5 + [("under_18", "female")] * 5:
            answers = {str(likert): "4", str(questions["age"]): age}
            answers[str(questions["gender"])] = gender
            services.survey_submit(survey=survey, answers=answers)
    page = client.get(f"/alpha/programmes/{p.pk}/surveys/{survey.pk}/").content.decode()
    assert page.index("Under 18") < page.index("18–24")
    assert page.index("Women and girls") < page.index("Men and boys")
    assert page.index("By gender") < page.index("By age band")
    with place_scope(world.a.place):
        services.survey_compute(survey=survey, actor=None)
        outcome.results.filter(period=q).update(
            disaggregation={"age": {"18_24": 80.0, "under_18": 90.0}}
        )
        content = iati.export_place(world.a.place).decode()
    report = client.get(f"/alpha/programmes/{p.pk}/periods/{q.pk}/report/").content.decode()
    assert report.index("Under 18") < report.index("18–24")
    # One <actual> per group, in the choices' order: the group's figure, the group as dimension.
    assert content.index('name="age" value="under_18"') < content.index('name="age" value="18_24"')
    assert '<actual value="90">' in content and '<actual value="80">' in content
    _token, secret = token_create(membership=world.a.memberships["editor"], name="t")
    detail = client.get(
        f"/api/v1/places/alpha/programmes/{p.pk}", headers={"Authorization": f"Bearer {secret}"}
    ).json()
    results = next(i for i in detail["indicators"] if i["id"] == outcome.pk)["results"]
    assert list(results[0]["disaggregation"]["age"]) == ["under_18", "18_24"]


def test_ordered_breakdown_orders_dimensions_groups_and_areas():
    from locus.programmes.choices import ordered_breakdown

    stored = {
        "area": {"7": 1, "3": 2},
        "age": {"65_plus": 1, "18_24": 2, "under_18": 3, "odd": 4},
        "gender": {"not_stated": 1, "male": 2, "female": 3},
    }
    assert ordered_breakdown(stored, [3, 7]) == [
        ("gender", [("female", 3), ("male", 2), ("not_stated", 1)]),
        ("age", [("under_18", 3), ("18_24", 2), ("65_plus", 1), ("odd", 4)]),
        ("area", [("3", 2), ("7", 1)]),
    ]
    assert ordered_breakdown(None) == []


@pytest.mark.parametrize(
    ("language", "funders"), [("fr", "Organismes financeurs"), ("de", "Geldgebende")]
)
def test_funders_are_named_as_the_library_vocabulary_names_them(language, funders):
    """The programme's funders field says what the library's target group says (2026.2), not
    the generic masculine (Financeurs, Geldgeber)."""
    from django.utils import translation

    from locus.library.vocabulary import vocabulary
    from locus.programmes.forms import ProgrammeForm

    with translation.override(language):
        assert str(ProgrammeForm.base_fields["funders"].label) == funders
    assert vocabulary().label("target_group", "funders", language) == funders

import pytest

from locus.programmes.tests.factories import full_programme

pytestmark = pytest.mark.django_db


def test_pages_render(world, client):
    data = full_programme(world.a)
    p, period, survey = data["programme"], data["period"], data["survey"]
    client.force_login(world.a.users["editor"])
    base = f"/alpha/programmes/{p.pk}/"
    for url in [
        "/alpha/programmes/",
        "/alpha/programmes/new/",
        base,
        base + "edit/",
        base + "theory-of-change/",
        base + "indicators/new/",
        base + f"indicators/{data['outcome'].pk}/",
        base + f"indicators/{data['outcome'].pk}/survey/new/",
        base + f"periods/{period.pk}/",
        base + f"periods/{period.pk}/report/",
        base + f"surveys/{survey.pk}/",
        f"/alpha/survey/{survey.token}/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    client.force_login(world.a.users["coordinator"])
    assert client.get("/alpha/programmes/portfolio/").status_code == 200
    response = client.get(base + "iati.xml")
    assert response.status_code == 200
    response = client.get(base + f"periods/{period.pk}/report.pdf?lang=fr")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")

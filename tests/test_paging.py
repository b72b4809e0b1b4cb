"""Every paged HTML list answers a page number that is not one (a hand-edited or stale link)
with a page, not an error: the first page for "abc" or "0", the last for one past the end —
Django's Paginator.get_page, and the library's search the same way. The JSON API keeps its
422 naming `page` (docs/api.md)."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("page", ["abc", "0", "-1", "99999", "1e3"])
@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("admin", "/alpha/staff/cases/"),
        ("admin", "/alpha/insights/alerts/"),
        (None, "/alpha/library/"),
        (None, "/library/"),
    ],
)
def test_a_bad_page_number_shows_a_page(world, client, role, url, page):
    if role:
        client.force_login(world.a.users[role])
    response = client.get(url, {"page": page})
    assert response.status_code == 200, (url, page)


def test_the_api_still_names_the_page(client, db):
    response = client.get("/api/v1/library/records", {"page": "abc"})
    assert response.status_code == 422
    assert "page" in response.json()["fields"]

"""Adding a file to a library record as an editor would, in Chromium, with axe on every page:
the record page with its files panel, the upload page with an error next to the field, and
the record page once the text has been read."""

# ruff: noqa: F811 - pytest fixtures imported from tests/browser/conftest.py

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (  # noqa: F401
    TIMEOUT_MS,
    axe,
    browser,
    check_axe,
    page,
    sign_in,
    submit,
)

from . import pdf_samples
from .factories import make_record

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def world(transactional_db):
    """The two-place world, committed, so that the live server's thread sees it."""
    from locus.core.testing.world import build_world

    return build_world()


def test_editor_adds_a_pdf_and_the_public_downloads_it(
    page,
    check_axe,
    sign_in,
    world,
    settings,
    tmp_path,  # noqa: F811
):
    settings.MEDIA_ROOT = tmp_path
    record = make_record(title="Mentoring evaluation with files", summary="Pre/post study.")
    page.set_default_navigation_timeout(60_000)  # the first pages of a busy machine
    sign_in(page, world.a.users["editor"])
    page.goto(f"/library/{record.pk}/")
    files_panel = page.get_by_role("region", name="Files")
    expect(files_panel).to_contain_text("No files yet.")
    check_axe(page)

    files_panel.get_by_role("link", name="Add a file").click()
    expect(page.get_by_role("heading", level=1, name="Add a file")).to_be_visible()
    check_axe(page)
    # An HTML page is refused, next to the field.
    html = tmp_path / "page.html"
    html.write_text("<!doctype html><html><body>hi</body></html>")
    page.get_by_label("Document").set_input_files(str(html))
    submit(page.get_by_role("button", name="Upload"))
    expect(page.locator("#id_file_error")).to_contain_text("Web pages (HTML)")
    check_axe(page)

    pdf = tmp_path / "evaluation.pdf"
    pdf.write_bytes(pdf_samples.text_pdf(["Zygomorphic outcomes of the mentoring programme"]))
    page.get_by_label("Document").set_input_files(str(pdf))
    submit(page.get_by_role("button", name="Upload"))
    expect(page).to_have_url(re.compile(rf"/library/{record.pk}/"))
    panel = page.get_by_role("region", name="Files")
    expect(panel.get_by_role("link", name="evaluation.pdf")).to_be_visible()
    page.reload()
    expect(page.get_by_role("region", name="Files")).to_contain_text("Text extracted")
    check_axe(page)

    page.goto("/library/?q=zygomorphic")
    expect(page.get_by_role("link", name="Mentoring evaluation with files")).to_be_visible()
    check_axe(page)

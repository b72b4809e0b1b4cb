"""The progress report as a PDF (WeasyPrint), in the language asked for.

Rendered from the same context as the web page, with its CSS read from this app's static folder
and put inline, charts as inline SVG and the machine's own fonts (fontconfig). Nothing is fetched:
the URL fetcher refuses every URL but `data:` ones, so a link or image in a programme's text can
never make the server call out (no SSRF, no tracking pixel in a report).
"""

from pathlib import Path

from django.template.loader import render_to_string
from django.utils import translation

CSS_FILE = Path(__file__).resolve().parent / "static" / "programmes" / "report-print.css"


class RemoteFetchRefused(ValueError):
    pass


def _fetcher_class():
    from weasyprint.urls import URLFetcher

    class LocalOnlyFetcher(URLFetcher):
        """Refuses anything but inline `data:` URLs."""

        def fetch(self, url, headers=None):
            if not str(url).startswith("data:"):
                raise RemoteFetchRefused(f"not fetched: {str(url)[:80]}")
            return super().fetch(url, headers)

    return LocalOnlyFetcher


def refuse_remote(url):
    """The rule the fetcher applies, for tests: True when `url` would be refused."""
    return not str(url).startswith("data:")


def report_pdf(context, *, language):
    """The PDF bytes of the progress report in `language` (en, fr, de, sv)."""
    from weasyprint import HTML

    with translation.override(language):
        html = render_to_string(
            "programmes/report_pdf.html",
            {**context, "print_css": CSS_FILE.read_text(encoding="utf-8"), "language": language},
        )
    return HTML(
        string=html,
        base_url="about:blank",
        url_fetcher=_fetcher_class()(allowed_protocols=["data"]),
    ).write_pdf()

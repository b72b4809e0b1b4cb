"""The one way the API pages a list (docs/api.md, "Lists and pages").

A paged list takes `page` (from 1) and `page_size` (a default and a maximum per list, both in
the OpenAPI document) and answers `{"count", "page", "pages", "page_size", "results"}` — plus
whatever a list adds of its own (facets, counts per status). `pages` is at least 1: an empty
list has one empty page. A `page` past the last, or a `page_size` over the maximum, is a 422
naming the parameter, never a silently different page.

    class AlarmPage(PageOut):
        results: list[AlarmOut]

    class AlarmQuery(PageQuery): ...            # the list's filters besides

    return paginate(alarms, query, item=lambda alarm: _alarm_out(alarm))
"""

from django.core.paginator import Paginator
from django.utils.translation import gettext as _
from ninja import Field, Schema

from locus.core.errors import ValidationFailed

from .schemas import DB_ID_MAX

PAGE_SIZE = 50
PAGE_SIZE_MAX = 200


def page_size_field(default=PAGE_SIZE, maximum=PAGE_SIZE_MAX):
    return Field(
        default,
        ge=1,
        le=maximum,
        description=f"Items per page: {default} unless given, at most {maximum}.",
    )


class PageQuery(Schema):
    """`page` and `page_size`; a list's query schema adds its filters (and may narrow
    `page_size` with `page_size_field`)."""

    page: int = Field(
        1, ge=1, le=DB_ID_MAX, description="The page, from 1. Past the last page: 422."
    )
    page_size: int = page_size_field()


class PageOut(Schema):
    """The envelope of a paged list; each list adds `results: list[…]`."""

    count: int = Field(..., description="Items under the filters, on all pages.")
    page: int = Field(..., description="This page, from 1.")
    pages: int = Field(..., description="How many pages there are; at least 1.")
    page_size: int = Field(..., description="Items per page (the last page may hold fewer).")


def check_page(page, pages):
    """422 naming `page` when it is past the last page."""
    if page > pages:
        raise ValidationFailed(
            _("There is no such page."),
            fields={"page": [_("The last page is %(pages)s.") % {"pages": pages}]},
        )


def paginate(rows, query, *, item=None):
    """The envelope for `query.page` of `rows` (a queryset or a list), each row through
    `item` when given. Raises ValidationFailed for a page past the last."""
    paginator = Paginator(rows, query.page_size)
    pages = max(paginator.num_pages, 1)
    check_page(query.page, pages)
    page = paginator.page(query.page)
    return {
        "count": paginator.count,
        "page": query.page,
        "pages": pages,
        "page_size": query.page_size,
        "results": [item(row) for row in page] if item else list(page),
    }

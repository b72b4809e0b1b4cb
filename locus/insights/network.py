"""Network roll-ups: the same protected tables as the open data, with the network's places as
rows (docs/insights.md, "Open data, network roll-ups and exports").

Aggregates only: each place's incidents are counted inside that place's own scope (one
`place_scope` per place, no `unscoped()`), and only protected tables leave this module. The
threshold is the strictest of the network's places, and the months published are those every
place's publication delay allows.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.http import Http404
from django.utils.translation import gettext

from locus.core.tenancy import place_scope
from locus.reporting.taxonomy import taxonomy

from . import disclosure, exports
from .open_data import (
    OpenData,
    Row,
    is_hate,
    place_counts,
    protect_months,
    public_categories,
    published_months,
    today_for,
)


def access_network(*, user, network_slug):
    """The network this user is a member of, or 404 (the same answer for "missing" and "not
    yours")."""
    from locus.accounts.selectors import network_memberships

    membership = network_memberships(user=user).filter(network__slug=network_slug).first()
    if membership is None:
        raise Http404
    return membership.network


def network_places(network):
    return list(network.places.filter(is_active=True).order_by("name"))


def network_threshold(places) -> int:
    return max((p.suppression_threshold for p in places), default=10)


def network_latest_month(places) -> date | None:
    if not places:
        return None
    return min(
        disclosure.latest_publishable_month(
            today=today_for(place), delay_days=place.publication_delay_days
        )
        for place in places
    )


def network_open_data(*, network, language: str = "en") -> OpenData:
    """Hate incidents by place × month × public category, protected like the open data."""
    t = taxonomy()
    places = network_places(network)
    counts: dict = {}
    first = None
    for place in places:
        with place_scope(place):
            place_rows, place_first = place_counts(place=place, t=t)
        for (_area, month, category), n in place_rows.items():
            key = (str(place.pk), month, category)
            counts[key] = counts.get(key, 0) + n
        if place_first and (first is None or place_first < first):
            first = place_first
    latest = network_latest_month(places)
    months = published_months(first, latest)
    rows = [Row(key=str(p.pk), label=p.name, code=p.slug) for p in places]
    columns = public_categories(language, t)
    threshold = network_threshold(places)
    return OpenData(
        title=network.label(language),
        total_label=gettext("All places"),
        threshold=threshold,
        delay_days=max((p.publication_delay_days for p in places), default=0),
        latest_month=latest,
        rows=rows,
        columns=columns,
        months=protect_months(
            counts,
            rows=[r.key for r in rows],
            columns=[c for c, _l in columns],
            months=months,
            threshold=threshold,
            cache_prefix=f"opendata:network:{network.pk}",
        ),
    )


def network_scheme_table(*, network, scheme: str, month: date, language: str = "en"):
    """One month of a scheme for the network: place × the scheme's leaf categories (each
    incident once in each leaf it maps to), protected at the strictest threshold. Returns
    (OpenData with one month, or None when the month is not yet publishable)."""
    t = taxonomy()
    t.scheme(scheme)
    places = network_places(network)
    latest = network_latest_month(places)
    month = month.replace(day=1)
    if latest is None or month > latest:
        return None
    last_day = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    columns = None
    counts: dict = {}
    for place in places:
        with place_scope(place):
            incidents = [
                i
                for i in exports.hate_incidents(place=place, start=month, end=last_day)
                if is_hate(i, t)
            ]
        columns, hits = exports.leaf_hits(incidents, scheme=scheme)
        for cells in hits.values():
            for column in cells:
                key = (str(place.pk), month, column)
                counts[key] = counts.get(key, 0) + 1
    if columns is None:
        columns, _hits = exports.leaf_hits([], scheme=scheme)
    threshold = network_threshold(places)
    rows = [Row(key=str(p.pk), label=p.name, code=p.slug) for p in places]
    labelled = [(c, exports.leaf_label(scheme, c, language)) for c in columns]
    return OpenData(
        title=gettext("%(network)s: %(scheme)s")
        % {"network": network.label(language), "scheme": t.scheme(scheme).label(language)},
        total_label=gettext("All places"),
        threshold=threshold,
        delay_days=0,
        latest_month=latest,
        rows=rows,
        columns=labelled,
        months=protect_months(
            counts,
            rows=[r.key for r in rows],
            columns=columns,
            months=[month],
            threshold=threshold,
            cache_prefix=f"opendata:network:{network.pk}:{scheme}",
        ),
    )

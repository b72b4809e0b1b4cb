"""Reads of the directory: organisations, services, partnerships, staleness, coverage (area ×
type of service), the partnership network and the public search. Each takes the place."""

import math
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from .models import DirectorySettings, Organisation, OrganisationListing, Partnership, Service
from .vocabulary import vocabulary


def organisation_list(*, place):
    """Organisations with an active listing in the place."""
    return Organisation.objects.filter(listings__place=place, listings__is_active=True).order_by(
        "name"
    )


def access_organisation(*, place, organisation_id):
    """The organisation listed in this place, or None (same for missing and not listed here)."""
    return organisation_list(place=place).filter(pk=organisation_id).first()


def listing_exists(*, place, organisation):
    return OrganisationListing.objects.filter(
        place=place, organisation=organisation, is_active=True
    ).exists()


# --- staleness -----------------------------------------------------------------------------


def check_days(place) -> int:
    from .services import directory_check_days

    return directory_check_days(place)


def directory_settings(place):
    return DirectorySettings.objects.filter(place=place).first()


def is_stale(last_checked_on, *, today, days) -> bool:
    """Never checked, or checked more than `days` days before `today`."""
    return last_checked_on is None or (today - last_checked_on).days > days


def mark_stale(records, *, place, today=None, days=None):
    """Set `.is_stale` on each record (services, listings, partnerships); returns the list."""
    today = today or timezone.localdate()
    days = days if days is not None else check_days(place)
    records = list(records)
    for record in records:
        record.is_stale = is_stale(record.last_checked_on, today=today, days=days)
    return records


def stale_records_by_organisation(*, place, today=None) -> dict[int, int]:
    """{organisation id: number of its stale records (listing + services)} for the place."""
    today = today or timezone.localdate()
    days = check_days(place)
    limit = today - timezone.timedelta(days=days)
    counts: dict[int, int] = defaultdict(int)
    for organisation_id in OrganisationListing.objects.filter(
        Q(last_checked_on__isnull=True) | Q(last_checked_on__lt=limit),
        place=place,
        is_active=True,
    ).values_list("organisation_id", flat=True):
        counts[organisation_id] += 1
    for organisation_id, number in (
        Service.objects.filter(
            Q(last_checked_on__isnull=True) | Q(last_checked_on__lt=limit),
            place=place,
            organisation__listings__place=place,
            organisation__listings__is_active=True,
        )
        .values_list("organisation_id")
        .annotate(n=Count("id"))
    ):
        counts[organisation_id] += number
    return dict(counts)


# --- organisations and services ------------------------------------------------------------


def listing_list(*, place):
    """The place's active listings with their organisation and number of services (2 queries),
    each marked stale or not."""
    listings = (
        OrganisationListing.objects.filter(place=place, is_active=True)
        .select_related("organisation")
        .annotate(
            service_count=Count(
                "organisation__services", filter=Q(organisation__services__place=place)
            )
        )
        .order_by("organisation__name")
    )
    return mark_stale(listings, place=place)


def listing_get(*, place, organisation):
    listing = OrganisationListing.objects.filter(
        place=place, organisation=organisation, is_active=True
    ).first()
    if listing is not None:
        mark_stale([listing], place=place)
    return listing


def _services(place):
    return (
        Service.objects.filter(
            place=place,
            organisation__listings__place=place,
            organisation__listings__is_active=True,
        )
        .select_related("organisation")
        .prefetch_related(Prefetch("areas", to_attr="area_list"))
    )


def service_list(*, place, organisation=None):
    services = _services(place)
    if organisation is not None:
        services = services.filter(organisation=organisation)
    return mark_stale(services.order_by("organisation__name", "name", "id"), place=place)


def access_service(*, place, service_id, organisation_id=None):
    """A service of the place (of `organisation_id` when given), or None."""
    services = Service.objects.filter(place=place, pk=service_id).select_related("organisation")
    if organisation_id is not None:
        services = services.filter(organisation_id=organisation_id)
    service = services.first()
    if service is not None:
        mark_stale([service], place=place)
    return service


def partnership_list(*, place, organisation=None):
    partnerships = Partnership.objects.filter(place=place).select_related("source", "target")
    if organisation is not None:
        partnerships = partnerships.filter(Q(source=organisation) | Q(target=organisation))
    return mark_stale(partnerships, place=place)


def access_partnership(*, place, partnership_id):
    return (
        Partnership.objects.filter(place=place, pk=partnership_id)
        .select_related("source", "target")
        .first()
    )


def _matches(service, *, target_group=None, language=None, age=None):
    if target_group and not (
        target_group in service.target_groups or "everyone" in service.target_groups
    ):
        return False
    if language and language not in service.languages:
        return False
    if age is not None:
        if service.min_age is not None and age < service.min_age:
            return False
        if service.max_age is not None and age > service.max_age:
            return False
    return True


def service_search(
    *, place, service_type=None, area=None, language=None, target_group=None, age=None
):
    """Active services of the place matching every given filter (public directory): a service
    serves an area when it names it or serves the whole place. Constant number of queries."""
    services = _services(place).filter(status="active")
    if service_type:
        services = services.filter(service_type=service_type)
    if area is not None:
        services = services.filter(Q(whole_place=True) | Q(areas=area)).distinct()
    found = [
        s
        for s in services.order_by("name", "id")
        if _matches(s, target_group=target_group, language=language, age=age)
    ]
    return mark_stale(found, place=place)


def services_for_report(*, place, bias=(), area_id=None, limit=6):
    """Support services matching a report: a support type of service (victim support,
    counselling…), for a group the report's bias codes name (or everyone), serving its area
    (any area when the report names none). Services for the specific group come first."""
    from locus.reporting.taxonomy import taxonomy

    words = vocabulary()
    report_words = taxonomy()
    codes = {code for code in (bias or ()) if isinstance(code, str)}
    for code in list(codes):
        if report_words.has("bias", code):
            parent = report_words.get("bias", code).parent
            if parent:
                codes.add(parent)
    groups = set(words.groups_for_bias(codes))
    services = _services(place).filter(status="active", service_type__in=words.support_types())
    if area_id:
        services = services.filter(Q(whole_place=True) | Q(areas=area_id)).distinct()
    ranked = []
    for service in services.order_by("name", "id"):
        mine = groups.intersection(service.target_groups)
        if not mine:
            continue
        specific = bool(mine - {"everyone"})
        ranked.append((0 if specific else 1, service.name, service))
    ranked.sort(key=lambda item: item[:2])
    return [service for *_ignored, service in ranked[:limit]]


# --- coverage ------------------------------------------------------------------------------


@dataclass
class Cell:
    area: object
    service_type: str
    providers: dict = field(default_factory=dict)  # organisation id -> organisation
    services: list = field(default_factory=list)
    overlap_groups: list = field(default_factory=list)  # group codes with 2+ providers

    @property
    def count(self):
        return len(self.providers)

    @property
    def is_gap(self):
        return not self.providers

    @property
    def is_overlap(self):
        return bool(self.overlap_groups)


@dataclass
class Coverage:
    areas: list
    types: list  # [(code, label)]
    rows: list  # [(area, [Cell per type])]
    totals: dict  # type code -> number of areas with no provider (gaps)
    overlaps: int
    gaps: int

    def cell(self, area_id, service_type):
        for area, cells in self.rows:
            if area.pk == area_id:
                for cell in cells:
                    if cell.service_type == service_type:
                        return cell
        return None

    def counts_for(self, service_type):
        """{area id: providers} for one type of service (the map)."""
        return {
            area.pk: cell.count
            for area, cells in self.rows
            for cell in cells
            if cell.service_type == service_type
        }


def coverage(*, place, language_code="en", target_group=None, language=None, age=None):
    """Area × type of service for the place's active services (see `coverage_of`). Three
    queries whatever the size."""
    from locus.places.selectors import area_list

    return coverage_of(
        areas=list(area_list(place=place)),
        types=vocabulary().choices("service_type", language_code),
        services=list(_services(place).filter(status="active")),
        target_group=target_group,
        language=language,
        age=age,
    )


def coverage_of(*, areas, types, services, target_group=None, language=None, age=None):
    """The providers (organisations) of the services matching the filters in each cell; a cell
    where two or more organisations serve the same target group is a possible overlap (a
    service for no group counts as one for everyone), an empty cell a gap. Pure: no query."""
    grid = {(a.pk, code): Cell(area=a, service_type=code) for a in areas for code, _ in types}
    groups_by_cell: dict = defaultdict(lambda: defaultdict(set))
    for service in services:
        if not _matches(service, target_group=target_group, language=language, age=age):
            continue
        served = areas if service.whole_place else service.area_list
        for area in served:
            cell = grid.get((area.pk, service.service_type))
            if cell is None:
                continue
            cell.providers[service.organisation_id] = service.organisation
            cell.services.append(service)
            for group in service.target_groups or ["everyone"]:
                if target_group and group not in (target_group, "everyone"):
                    continue
                groups_by_cell[(area.pk, service.service_type)][group].add(service.organisation_id)
    overlaps = gaps = 0
    for key, cell in grid.items():
        cell.overlap_groups = sorted(
            g for g, orgs in groups_by_cell.get(key, {}).items() if len(orgs) > 1
        )
        overlaps += cell.is_overlap
        gaps += cell.is_gap
    rows = [(a, [grid[(a.pk, code)] for code, _ in types]) for a in areas]
    totals = {code: sum(1 for a in areas if grid[(a.pk, code)].is_gap) for code, _ in types}
    return Coverage(
        areas=areas, types=types, rows=rows, totals=totals, overlaps=overlaps, gaps=gaps
    )


# --- partnership network -------------------------------------------------------------------

KIND_COLOURS = {
    "funding": "#8a4b00",
    "referral": "#0b6e4f",
    "delivery": "#1f4e99",
    "data_sharing": "#7a1f7a",
}


@dataclass
class Graph:
    size: int
    nodes: list  # dicts: organisation, x, y, label_x, label_y, anchor
    edges: list  # dicts: partnership, x1, y1, x2, y2, colour
    kinds: list  # (code, label, colour)


def partnership_graph(*, place, size=900):
    """The place's partnerships as a circle of organisations (those in a partnership) with a
    directed edge per partnership, laid out on the server (no JavaScript)."""
    from .choices import PartnershipKind

    partnerships = list(partnership_list(place=place))
    organisations = {}
    for p in partnerships:
        organisations[p.source_id] = p.source
        organisations[p.target_id] = p.target
    ordered = sorted(organisations.values(), key=lambda o: o.name)
    centre, radius = size / 2, size / 2 - 200
    positions, nodes = {}, []
    for index, organisation in enumerate(ordered):
        angle = 2 * math.pi * index / max(len(ordered), 1) - math.pi / 2
        x, y = centre + radius * math.cos(angle), centre + radius * math.sin(angle)
        positions[organisation.pk] = (x, y)
        lx, ly = centre + (radius + 12) * math.cos(angle), centre + (radius + 12) * math.sin(angle)
        nodes.append(
            {
                "organisation": organisation,
                "x": round(x, 1),
                "y": round(y, 1),
                "label_x": round(lx, 1),
                "label_y": round(ly + 4, 1),
                "anchor": "start"
                if math.cos(angle) > 0.1
                else "end"
                if math.cos(angle) < -0.1
                else "middle",
                "short": organisation.name
                if len(organisation.name) <= 24
                else organisation.name[:23] + "…",
            }
        )
    edges = []
    for p in partnerships:
        (x1, y1), (x2, y2) = positions[p.source_id], positions[p.target_id]
        length = math.hypot(x2 - x1, y2 - y1) or 1
        # Stop short of the target's dot so that the arrow head stays visible.
        x2s, y2s = x2 - (x2 - x1) * 9 / length, y2 - (y2 - y1) * 9 / length
        edges.append(
            {
                "partnership": p,
                "x1": round(x1, 1),
                "y1": round(y1, 1),
                "x2": round(x2s, 1),
                "y2": round(y2s, 1),
                "kind": p.kind,
                "colour": KIND_COLOURS.get(p.kind, "#444"),
            }
        )
    kinds = [(code, label, KIND_COLOURS[code]) for code, label in PartnershipKind.choices]
    return Graph(size=size, nodes=nodes, edges=edges, kinds=kinds)


def organisation_referral_partners(*, place, organisation_ids):
    """{organisation id: [organisations it refers people to]} from referral partnerships."""
    result: dict = defaultdict(list)
    for p in Partnership.objects.filter(
        place=place, kind="referral", source_id__in=organisation_ids
    ).select_related("target"):
        result[p.source_id].append(p.target)
    return dict(result)

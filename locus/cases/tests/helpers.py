"""Unsaved reports and organisations for the pure engine and policy tests (no database)."""

from itertools import count

from locus.cases.routing import Directory, RuleSpec
from locus.directory.models import Organisation
from locus.reporting.models import Report
from locus.reporting.taxonomy import CURRENT_VERSION

_ids = count(1000)


def report(**fields):
    values = {
        "place_id": 1,
        "reference": "TEST-0001",
        "taxonomy_version": CURRENT_VERSION,
        "language": "en",
        "incident_type": "abusive_behaviour",
        "bias": [],
        "setting": "",
        "platform": "",
        "content_url": "",
        "area_id": None,
        "consent_police_anonymised": False,
        "consent_police_with_contact": False,
        "consent_support_contact": False,
        "contact": None,
    }
    values.update(fields)
    return Report(**values)


def org(type, name=None):
    pk = next(_ids)
    return Organisation(pk=pk, name=name or f"{type} {pk}", type=type)


def rule(id, destinations, conditions=None, **fields):
    return RuleSpec(
        id=id,
        name=f"rule {id}",
        position=fields.pop("position", id),
        conditions=conditions or {},
        destinations=tuple(destinations),
        **fields,
    )


def listed(*organisations, teams=()):
    return Directory(
        listed=frozenset(o.pk for o in organisations), place_teams=frozenset(o.pk for o in teams)
    )

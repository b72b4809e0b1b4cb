"""A real OAI-PMH harvester (Sickle, from PyPI) against the live server: it must collect every
published record through resumption tokens, see withdrawn records as deleted, and never see a
draft. Not our own XML read back by our own code."""

import pytest
from sickle import Sickle
from sickle.oaiexceptions import CannotDisseminateFormat, IdDoesNotExist, NoRecordsMatch

from locus.library import oai, services
from locus.library.choices import RecordStatus

from .factories import make_record

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def harvester(live_server, settings):
    settings.LOCUS_OAI_PAGE_SIZE = 7
    return Sickle(f"{live_server.url}/oai", max_retries=0, timeout=30)


def test_sickle_harvests_every_published_record(harvester):
    published = [
        make_record(
            title=f"Evaluation {number}",
            type="evaluation" if number % 2 else "guide",
            countries=["GB"] if number % 3 else ["SE", "NO"],
            authors=[f"Author {number}"],
            summary=f"Summary number {number}",
            year=2000 + number,
        )
        for number in range(23)
    ]
    drafts = [make_record(title=f"Draft {n}", status=RecordStatus.DRAFT) for n in range(3)]
    withdrawn = make_record(title="Withdrawn", type="evaluation")
    services.record_set_status(record=withdrawn, status=RecordStatus.WITHDRAWN)

    identify = harvester.Identify()
    assert identify.protocolVersion == "2.0" and identify.deletedRecord == "transient"
    assert [f.metadataPrefix for f in harvester.ListMetadataFormats()] == ["oai_dc"]

    # 24 items at 7 a page: four pages, followed through three resumption tokens.
    records = list(harvester.ListRecords(metadataPrefix="oai_dc", ignore_deleted=False))
    by_id = {record.header.identifier: record for record in records}
    assert len(records) == len(by_id) == 24
    expected = {oai.oai_identifier(record.pk) for record in published}
    assert {i for i, r in by_id.items() if not r.header.deleted} == expected
    assert by_id[oai.oai_identifier(withdrawn.pk)].header.deleted
    assert not {oai.oai_identifier(draft.pk) for draft in drafts} & set(by_id)
    first = by_id[oai.oai_identifier(published[1].pk)]
    assert first.metadata["title"] == ["Evaluation 1"]
    assert first.metadata["creator"] == ["Author 1"]
    assert first.metadata["date"] == ["2001"]
    assert "type:evaluation" in first.header.setSpecs and "country:GB" in first.header.setSpecs

    # Deleted records left out, as a harvester may ask.
    live = list(harvester.ListRecords(metadataPrefix="oai_dc", ignore_deleted=True))
    assert {record.header.identifier for record in live} == expected

    sets = {s.setSpec for s in harvester.ListSets()}
    assert {"type:evaluation", "type:guide", "country:GB", "country:SE", "country:NO"} <= sets
    norway = list(harvester.ListIdentifiers(metadataPrefix="oai_dc", set="country:NO"))
    assert {h.identifier for h in norway} == {
        oai.oai_identifier(record.pk) for n, record in enumerate(published) if not n % 3
    }
    one = harvester.GetRecord(
        identifier=oai.oai_identifier(published[0].pk), metadataPrefix="oai_dc"
    )
    assert one.metadata["title"] == ["Evaluation 0"]

    with pytest.raises(IdDoesNotExist):
        harvester.GetRecord(identifier=oai.oai_identifier(drafts[0].pk), metadataPrefix="oai_dc")
    with pytest.raises(CannotDisseminateFormat):
        list(harvester.ListRecords(metadataPrefix="mods"))
    with pytest.raises(NoRecordsMatch):
        list(harvester.ListIdentifiers(metadataPrefix="oai_dc", **{"from": "2999-01-01"}))

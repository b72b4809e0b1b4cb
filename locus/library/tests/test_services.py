"""Records are written through the services: validated, versioned on every change, with facet
rows and the search index kept in step in the same transaction."""

import pytest

from locus.core.errors import ValidationFailed
from locus.core.testing.factories import OrganisationFactory, UserFactory
from locus.library import services
from locus.library.choices import LinkKind, RecordStatus, ResourceType, VersionSource
from locus.library.models import Record, RecordFacet, RecordVersion
from locus.library.selectors import SearchParams, record_search

from .factories import make_record

pytestmark = pytest.mark.django_db


def titles(q, **params):
    return [
        hit.record.title for hit in record_search(SearchParams(q=q, **params), language="en").hits
    ]


def test_create_validates_every_field_and_names_each_one():
    with pytest.raises(ValidationFailed) as raised:
        services.record_create(
            data={
                "type": ResourceType.GUIDE,
                "title": "  ",
                "year": 1850,
                "languages": ["english"],
                "topics": ["gender", "not_a_topic"],
                "url": "ftp://example.org/file",
                "training_format": "online",
                "evidence_level": "anecdote",
                "is_ongoing": True,
            }
        )
    fields = raised.value.fields
    assert set(fields) == {
        "title",
        "year",
        "languages",
        "topics",
        "url",
        "training_format",
        "evidence_level",
    }
    assert "not_a_topic" in fields["topics"][0]
    assert not Record.objects.exists()


def test_an_ongoing_resource_needs_the_year_it_started():
    with pytest.raises(ValidationFailed) as raised:
        make_record(is_ongoing=True)
    assert list(raised.value.fields) == ["year"]


def test_text_is_cleaned_of_control_characters_and_highlight_markers():
    record = make_record(
        title="Guide\x00 to\ue000 prevention\x07", summary="Line one\nline two\x1b"
    )
    assert record.title == "Guide to prevention"
    assert record.summary == "Line one\nline two"


def test_create_stores_version_one_with_who_and_what():
    editor = UserFactory()
    record = services.record_create(
        data={"type": "guide", "title": "First", "topics": ["gender"], "languages": ["sv"]},
        actor=editor,
        comment="Typed in",
    )
    version = record.versions.get()
    assert (version.number, version.actor, version.source) == (1, editor, VersionSource.EDITOR)
    assert version.comment == "Typed in"
    assert {"type", "title", "topics", "languages"} <= set(version.changed_fields)
    assert version.snapshot["title"] == "First"
    assert record.status == RecordStatus.DRAFT
    assert record.search_config == "swedish"
    assert record.created_by == editor


def test_update_stores_a_version_with_only_the_changed_fields():
    record = make_record(title="Old title", private_notes="checked [V]")
    record, changed = services.record_update(
        record=record, data={"title": "New title", "summary": "", "private_notes": "checked [V]"}
    )
    assert changed == ["title"]
    latest = record.versions.order_by("-number").first()
    assert latest.number == 2
    assert latest.changed_fields == ["title"]
    assert latest.snapshot["title"] == "New title"


def test_an_update_that_changes_nothing_stores_nothing():
    record = make_record(topics=["gender"])
    record, changed = services.record_update(record=record, data={"topics": ["gender"]})
    assert changed == []
    assert record.versions.count() == 1


def test_update_refuses_bad_values_and_keeps_the_record():
    record = make_record(type=ResourceType.TRAINING, training_format="online")
    with pytest.raises(ValidationFailed) as raised:
        services.record_update(record=record, data={"type": ResourceType.GUIDE})
    assert "training_format" in raised.value.fields
    record.refresh_from_db()
    assert record.type == ResourceType.TRAINING
    assert record.versions.count() == 1


def test_facet_rows_follow_the_record():
    record = make_record(topics=["gender"], countries=["SE"], year=2021, languages=["sv", "en"])
    facets = set(RecordFacet.objects.filter(record=record).values_list("facet", "value"))
    assert facets == {
        ("type", "guide"),
        ("evidence_level", "not_rated"),
        ("language", "sv"),
        ("language", "en"),
        ("topic", "gender"),
        ("country", "SE"),
        ("year", "2021"),
    }
    services.record_update(record=record, data={"topics": ["polarisation"], "year": None})
    facets = set(RecordFacet.objects.filter(record=record).values_list("facet", "value"))
    assert ("topic", "polarisation") in facets
    assert ("topic", "gender") not in facets
    assert not any(facet == "year" for facet, _value in facets)


def test_the_search_index_follows_every_change():
    record = make_record(title="Mentoring young people")
    assert titles("mentoring") == ["Mentoring young people"]
    services.record_update(record=record, data={"title": "Coaching young people"})
    assert titles("mentoring") == []
    assert titles("coaching") == ["Coaching young people"]
    services.record_delete(record=Record.objects.get(pk=record.pk))
    assert titles("coaching") == []


def test_publishing_sets_the_publication_time_once():
    record = make_record(status=RecordStatus.DRAFT)
    assert record.published_at is None
    record = services.record_set_status(record=record, status=RecordStatus.PUBLISHED)
    first = record.published_at
    assert first is not None
    record = services.record_set_status(record=record, status=RecordStatus.WITHDRAWN)
    record = services.record_set_status(record=record, status=RecordStatus.PUBLISHED)
    assert record.published_at == first
    assert record.versions.count() == 4


def test_links_are_versioned_and_never_point_to_themselves():
    guide = make_record(title="Guide")
    companion = make_record(title="Companion")
    assert services.record_set_links(record=guide, links=[(LinkKind.COMPANION, companion)])
    assert not services.record_set_links(record=guide, links=[(LinkKind.COMPANION, companion)])
    version = guide.versions.order_by("-number").first()
    assert version.changed_fields == ["links"]
    assert version.snapshot["links"] == [["companion", companion.pk]]
    with pytest.raises(ValidationFailed):
        services.record_set_links(record=guide, links=[(LinkKind.RELATED, guide)])
    with pytest.raises(ValidationFailed):
        services.record_set_links(record=guide, links=[("cites", companion)])
    assert services.record_set_links(record=guide, links=[])
    assert not guide.links_out.exists()
    assert RecordVersion.objects.filter(record=guide).count() == 3


def test_contributing_organisation_must_be_an_organisation():
    organisation = OrganisationFactory()
    record = make_record(organisation=organisation)
    assert record.organisation == organisation
    with pytest.raises(ValidationFailed) as raised:
        make_record(organisation="Strong Cities Network")
    assert list(raised.value.fields) == ["organisation"]


def test_reindex_rebuilds_facets_and_documents():
    record = make_record(title="Resilience in schools", topics=["gender"])
    RecordFacet.objects.all().delete()
    services.backend().remove([record.pk])
    assert titles("resilience") == []
    assert services.search_reindex() == 1
    assert titles("resilience") == ["Resilience in schools"]
    assert RecordFacet.objects.filter(record=record, facet="topic", value="gender").exists()


def test_a_record_saved_on_a_day_gets_the_version_in_force_that_day(monkeypatch):
    """A vocabulary file dated later is loaded but takes effect on its `released` day: its new
    code is refused before, and records saved from that day are stamped with it."""
    from datetime import date

    from .test_vocabulary import later_version, on_day

    later_version(monkeypatch, "2027-01-01")
    data = {"type": "guide", "title": "Clubs", "topics": ["sport"], "languages": ["en"]}
    on_day(monkeypatch, date(2026, 12, 31))
    with pytest.raises(ValidationFailed) as raised:
        services.record_create(data=data)
    assert "topics" in raised.value.fields
    before = services.record_create(data={**data, "topics": ["gender"]})
    assert before.vocabulary_version == "2026.2"
    on_day(monkeypatch, date(2027, 1, 1))
    assert services.record_create(data=data).vocabulary_version == "2027.1"

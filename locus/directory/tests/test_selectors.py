from locus.core.tenancy import place_scope

from .. import selectors


def test_coverage_counts_overlaps_and_gaps(world, directory):
    a = world.a
    north, south = directory["north"], directory["south"]
    with place_scope(a.place):
        result = selectors.coverage(place=a.place)
    victim = result.cell(north.pk, "victim_support")
    assert victim.count == 2
    assert victim.overlap_groups == ["muslim_people"]
    assert result.cell(south.pk, "victim_support").is_gap
    assert result.cell(south.pk, "youth_work").is_gap
    youth = result.cell(north.pk, "youth_work")
    assert youth.count == 1 and not youth.is_overlap
    # The whole-place helpline serves both areas.
    assert result.cell(south.pk, "helpline").count == 1
    assert result.counts_for("helpline") == {north.pk: 1, south.pk: 1}


def test_coverage_filters(world, directory):
    a = world.a
    north = directory["north"]
    with place_scope(a.place):
        arabic = selectors.coverage(place=a.place, language="ar")
        assert arabic.cell(north.pk, "victim_support").count == 1
        adults = selectors.coverage(place=a.place, age=30)
        assert adults.cell(north.pk, "youth_work").is_gap
        young = selectors.coverage(place=a.place, target_group="young_people")
        assert young.cell(north.pk, "youth_work").count == 1
        assert young.cell(north.pk, "victim_support").is_gap
        # "Everyone" services count for any group.
        assert young.cell(north.pk, "helpline").count == 1


def test_services_for_report_match_bias_and_area(world, directory):
    a = world.a
    north, south = directory["north"], directory["south"]
    with place_scope(a.place):
        found = selectors.services_for_report(place=a.place, bias=["anti_muslim"], area_id=north.pk)
        names = [s.name for s in found]
        assert names[:2] == ["Advocacy", "Casework"]  # the specific group first
        assert "Helpline" in names
        assert "Youth work" not in names  # not a support type of service
        south_found = selectors.services_for_report(
            place=a.place, bias=["anti_muslim"], area_id=south.pk
        )
        assert [s.name for s in south_found] == ["Helpline"]
        lgbt = selectors.services_for_report(place=a.place, bias=["sexual_orientation"])
        assert [s.name for s in lgbt] == ["Helpline"]


def test_public_search(world, directory):
    a = world.a
    with place_scope(a.place):
        found = selectors.service_search(
            place=a.place, service_type="victim_support", area=directory["south"]
        )
        assert found == []
        found = selectors.service_search(place=a.place, language="ar")
        assert [s.name for s in found] == ["Casework"]
        found = selectors.service_search(place=a.place, target_group="young_people", age=12)
        assert {s.name for s in found} == {"Youth work", "Helpline"}


def test_partnership_graph(world, directory):
    a = world.a
    with place_scope(a.place):
        graph = selectors.partnership_graph(place=a.place)
    assert len(graph.nodes) == 3
    assert len(graph.edges) == 2
    assert {e["kind"] for e in graph.edges} == {"referral", "funding"}
    for node in graph.nodes:
        assert 0 <= node["x"] <= graph.size and 0 <= node["y"] <= graph.size

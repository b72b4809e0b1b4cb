"""Programme test data in a place world (locus/core/testing/world.py)."""

from datetime import date

from locus.core.tenancy import place_scope
from locus.programmes import services


def programme(place_world, *, organisation=None, title="Youth bridges", **extra):
    with place_scope(place_world.place):
        return services.programme_create(
            place=place_world.place,
            organisation=organisation or place_world.organisation,
            actor=None,
            data={
                "title": title,
                "summary": "Mixed youth sessions.",
                "start_date": date(2026, 1, 1),
                "end_date": date(2026, 12, 31),
                "budget": "10000",
                "currency": "GBP",
                "funders": "A Trust",
                "intervention": "community_engagement",
                "target_groups": ["young_people"],
                "status": "active",
                "areas": list(place_world.areas[:1]),
                **extra,
            },
        )


def indicator(programme, *, level="outcome", measure="percent", **extra):
    with place_scope(programme.place):
        return services.indicator_save(
            programme=programme,
            actor=None,
            data={
                "level": level,
                "title": "Share who agree people get on well",
                "measure": measure,
                "target": "70",
                "baseline": "50",
                "baseline_year": 2025,
                "frequency": "quarterly",
                **extra,
            },
        )


def period(programme, *, start=date(2026, 1, 1), end=date(2026, 3, 31)):
    with place_scope(programme.place):
        return services.period_create(programme=programme, actor=None, start=start, end=end)


def full_programme(place_world):
    """A programme with a theory of change, an output and an outcome indicator, a period with
    results and a survey: what most page tests need."""
    p = programme(place_world)
    with place_scope(p.place):
        services.programme_set_theory_of_change(
            programme=p,
            actor=None,
            data={
                "problem": "Young people rarely meet across groups.",
                "activities": "Sessions\nVolunteering",
                "outputs": "100 people take part",
                "outcomes_short": "Trust grows",
                "outcomes_medium": "Fewer incidents",
                "impact": "A shared neighbourhood",
                "assumptions": "People keep coming",
                "risks": "Incidents polarise",
            },
        )
    output = indicator(
        p,
        level="output",
        measure="number",
        title="People taking part",
        by_gender=True,
        target="100",
        baseline="0",
    )
    outcome = indicator(p)
    q1 = period(p)
    with place_scope(p.place):
        services.results_report(
            period=q1,
            actor=None,
            values={
                output.pk: {"value": "40", "disaggregation": {"gender": {"female": 20}}},
                outcome.pk: {"value": "55"},
            },
            narrative="It went well.",
        )
        survey = services.survey_create(
            indicator=outcome, period=q1, actor=None, title="After the sessions"
        )
    return {"programme": p, "output": output, "outcome": outcome, "period": q1, "survey": survey}

"""The demo programme: a small London charity's youth programme, from its theory of change to
two periods of results (the second from a before-and-after survey with demo answers), so the
report, the PDF, the IATI file and the portfolio show real content. Idempotent."""

import random
from datetime import date
from decimal import Decimal

from django.db import transaction

from locus.core.tenancy import place_scope
from locus.directory.models import Organisation
from locus.places.models import Area, Place

from . import services
from .choices import QuestionDimension, QuestionKind, SurveyPhase
from .models import Programme

DEMO_PLACE = "london"
DEMO_ORGANISATION = "Neighbours Together London"
DEMO_TITLE = "Bridges: young people across Hackney and Tower Hamlets"
# The charity's own demo account (an editor: runs its programmes); password as every demo login.
DEMO_ACCOUNT = ("charity@london.demo", "Programme lead (Neighbours Together London)")

TOC = {
    "problem": (
        "Young people in Hackney and Tower Hamlets grow up side by side but rarely meet across "
        "faith and ethnic lines; hate incidents between groups of young people rose in 2025 and "
        "online recruiters exploit the distance."
    ),
    "activities": (
        "Weekly mixed youth sessions in two youth centres\n"
        "Joint volunteering projects chosen by the young people\n"
        "Workshops on spotting manipulation online\n"
        "Training for youth workers on responding to hateful talk"
    ),
    "outputs": (
        "120 young people take part in at least one session\n"
        "48 sessions held\n"
        "12 youth workers trained"
    ),
    "outcomes_short": (
        "Participants know and trust young people from other backgrounds\n"
        "Participants recognise manipulative content online"
    ),
    "outcomes_medium": (
        "Participants say people from different backgrounds get on well in their area\n"
        "Fewer incidents between groups of young people are reported"
    ),
    "impact": "Young people in both boroughs share their neighbourhood without hate or fear",
    "assumptions": (
        "Young people keep coming when sessions are run by people they trust\n"
        "Schools and youth centres keep offering rooms"
    ),
    "risks": (
        "An incident in the area polarises groups: the team meets partners within a week\n"
        "Staff turnover: two trained volunteers can lead sessions"
    ),
}

# (bank code, level, target, baseline, breakdowns, values per period; None: from the survey).
INDICATORS = [
    ("out_participants", "output", "120", "0", ("gender", "age", "area"), ["48", "71"]),
    ("out_sessions", "output", "48", "0", (), ["11", "14"]),
    ("cls_different_backgrounds", "outcome", "70", "52", (), ["55", None]),
    ("undp_reject_violence", "outcome", "90", "78", (), ["80", "84"]),
]

BREAKDOWNS = {
    0: {
        "gender": {"female": 22, "male": 25, "not_stated": 1},
        "age": {"under_18": 35, "18_24": 13},
    },
    1: {
        "gender": {"female": 34, "male": 35, "other": 2},
        "age": {"under_18": 50, "18_24": 21},
    },
}

NARRATIVES = [
    "We opened the sessions in both youth centres in January. Attendance grew after the "
    "first joint volunteering day (a park clean-up chosen by the young people). Two sessions "
    "were cancelled after a fight outside one centre; we met the police and youth services "
    "the same week and restarted with the groups together.",
    "Sessions ran every week. The young people planned a mural for the Ridley Road market. "
    "We asked the same questions in April and June: more participants now say people from "
    "different backgrounds get on well together in their area. Youth workers from three "
    "partner centres were trained in May.",
]


def _survey_answers(rng, survey, *, agree_rate):
    questions = list(survey.questions.all())
    genders = ["female", "male", "female", "male", "other", "not_stated"]
    ages = ["under_18", "under_18", "under_18", "18_24"]
    answers = {}
    for question in questions:
        if question.dimension == QuestionDimension.GENDER:
            answers[str(question.pk)] = rng.choice(genders)
        elif question.dimension == QuestionDimension.AGE:
            answers[str(question.pk)] = rng.choice(ages)
        elif question.kind == QuestionKind.LIKERT:
            agree = rng.random() < agree_rate
            value = rng.choice([4, 5]) if agree else rng.choice([2, 3, 3])
            answers[str(question.pk)] = 6 - value if question.reverse else value
    return answers


def _demo_account(organisation):
    from locus.accounts.choices import Role
    from locus.accounts.models import User
    from locus.accounts.services import membership_create
    from locus.core.management.commands.demo import DEMO_PASSWORD

    email, name = DEMO_ACCOUNT
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email, DEMO_PASSWORD, name=name)
    user.is_demo = True
    user.save(update_fields=["is_demo"])
    membership_create(user=user, organisation=organisation, role=Role.EDITOR)


@transaction.atomic
def programmes_load_demo():
    """Create the demo programme once; returns it (None when the demo place or organisation is
    missing)."""
    place = Place.objects.filter(slug=DEMO_PLACE).first()
    organisation = Organisation.objects.filter(name=DEMO_ORGANISATION).first()
    if place is None or organisation is None:
        return None
    _demo_account(organisation)
    with place_scope(place):
        existing = Programme.objects.filter(
            place=place, organisation=organisation, title=DEMO_TITLE
        ).first()
        if existing is not None:
            return existing
        areas = list(Area.objects.filter(place=place, name__in=["Hackney", "Tower Hamlets"]))
        programme = services.programme_create(
            place=place,
            organisation=organisation,
            actor=None,
            data={
                "title": DEMO_TITLE,
                "summary": (
                    "Mixed youth sessions, joint volunteering and media-literacy workshops for "
                    "14- to 21-year-olds, so that young people of different faiths and "
                    "backgrounds meet, work together and resist those who try to divide them."
                ),
                "start_date": date(2026, 1, 1),
                "end_date": date(2026, 12, 31),
                "budget": Decimal("48500"),
                "currency": "GBP",
                "funders": "The National Lottery Community Fund\nLondon Borough of Hackney",
                "intervention": "community_engagement",
                "target_groups": ["young_people", "faith_communities"],
                "status": "active",
                "areas": areas,
            },
        )
        services.programme_set_theory_of_change(programme=programme, actor=None, data=TOC)
        periods = [
            services.period_create(
                programme=programme, actor=None, start=date(2026, 1, 1), end=date(2026, 3, 31)
            ),
            services.period_create(
                programme=programme, actor=None, start=date(2026, 4, 1), end=date(2026, 6, 30)
            ),
            services.period_create(
                programme=programme, actor=None, start=date(2026, 7, 1), end=date(2026, 9, 30)
            ),
        ]
        indicators = []
        for code, level, target, baseline, dims, _values in INDICATORS:
            indicators.append(
                services.indicator_save(
                    programme=programme,
                    actor=None,
                    data={
                        "bank_code": code,
                        "level": level,
                        "target": target,
                        "baseline": baseline,
                        "baseline_year": 2025,
                        "unit": "people" if code == "out_participants" else "",
                        "ascending": True,
                        "frequency": "quarterly",
                        "by_gender": "gender" in dims,
                        "by_age": "age" in dims,
                        "by_area": "area" in dims,
                    },
                )
            )
        area_ids = [str(a.pk) for a in sorted(areas, key=lambda a: a.name)]
        for index, period in enumerate(periods[:2]):
            values = {}
            for indicator, spec in zip(indicators, INDICATORS, strict=True):
                value = spec[5][index]
                if value is None:
                    continue
                breakdown = {}
                if indicator.by_gender:
                    breakdown = dict(BREAKDOWNS[index])
                    total = int(value)
                    if area_ids:
                        first = total * 3 // 5
                        breakdown["area"] = {area_ids[0]: first}
                        if len(area_ids) > 1:
                            breakdown["area"][area_ids[1]] = total - first
                values[indicator.pk] = {"value": value, "disaggregation": breakdown}
            services.results_report(
                period=period,
                actor=None,
                values=values,
                narrative=NARRATIVES[index],
                submit=True,
            )
        # The second period's outcome comes from a before-and-after survey.
        outcome = indicators[2]
        rng = random.Random(2026)  # noqa: S311 - demo data
        questions = services.default_questions(outcome) + [
            {
                "text": "I have friends whose background is different from mine.",
                "kind": QuestionKind.LIKERT,
            },
            {
                "text": "It is sometimes right to use violence to defend my group.",
                "kind": QuestionKind.LIKERT,
                "reverse": True,
            },
        ]
        for phase, count, rate, day in (
            (SurveyPhase.PRE, 31, 0.55, date(2026, 4, 14)),
            (SurveyPhase.POST, 34, 0.68, date(2026, 6, 23)),
        ):
            survey = services.survey_create(
                indicator=outcome,
                period=periods[1],
                actor=None,
                title="Bridges: before" if phase == SurveyPhase.PRE else "Bridges: after",
                phase=phase,
                intro="Five short questions about your area. Your answers are anonymous.",
                questions=questions,
            )
            for _n in range(count):
                services.survey_submit(
                    survey=survey, answers=_survey_answers(rng, survey, agree_rate=rate), today=day
                )
            if phase == SurveyPhase.POST:
                services.survey_compute(survey=survey, actor=None)
            survey.is_open = False
            survey.save(update_fields=["is_open"])
        return programme

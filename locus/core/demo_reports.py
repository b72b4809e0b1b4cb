"""Realistic demo reports, routing decisions and cases for `manage.py demo` (issue 3 §9).

London gets about two years of reports ending now, Malmö a lighter few months. Everything is
drawn from random streams seeded with `DEMO_SEED`, the place and the purpose, so the same moment
and scale give the same data; a place that already holds its demo set gets nothing new (the
first demo reference is the marker).

How reports are drawn (`_Drawer`):

- incidents per day: a gamma-Poisson (over-dispersed) count around a rate with a weekly
  pattern (more on Fridays and Saturdays, far fewer on Sundays), a mild annual cycle peaking in
  July (as the Home Office's monthly series do) and a slow rise as the service becomes known;
- bias and incident type in published proportions: Home Office, *Hate crime, England and Wales*
  (2022/23, 2023/24): race about 70 % of recorded hate crime, sexual orientation 14–17 %,
  disability 7–10 %, religion 6–7 % (about two thirds of it anti-Muslim or antisemitic, more
  in London), transgender identity 3 %; public order offences about 55 %, violence about 35 %,
  criminal damage 4 %. About a quarter of third-party reports are about online content;
- areas roughly by population (Census 2021), weighted for footfall (Westminster, the City)
  and for where communities and their places of worship are;
- reports arrive after the incident: most the same day, some weeks later with an approximate
  date, so the latest weeks are provisional, as in real life;
- accounts in the reporter's words, from templates: no real people, e-mail addresses on
  example.org, telephone numbers from the ranges reserved for drama (Ofcom 07700 900xxx,
  PTS 070-174 06 05–99).

The surge (London, `SURGE`): a fictional international trigger event on the Saturday
`TRIGGER_WEEKS_AGO` weeks before the last day — an attack abroad and the conflict that followed.
It is modelled on what London saw after 7 October 2023, when police and community monitors
recorded antisemitic incidents at several times (in the first weeks up to ten times) their
usual level and anti-Muslim incidents at two to three times, easing over about six weeks. Here
antisemitic reports rise about eight-fold in the first week and anti-Muslim ones about
threefold in the second, both back near normal after six to eight weeks.

Mass-reported content (`MASS_URLS`): a dozen public posts reported 10 to 300 times each, in
bursts after they were posted, written in the ways people paste addresses (tracking parameters,
m./www., a trailing slash) that `reporting.services.content_key` folds into one key.

Routing and cases: the place's own active rules through the real engine (`routing.evaluate`;
consent by `policies.share_for`). History is written in bulk exactly as `report_route` leaves
it — one RoutingRun per report, one RoutingDecision per destination, one Case with its
"received" event per sent decision, one (delivered) `report.routed` message per webhook
endpoint of the organisation that existed then, and the report with the organisations — and
the most recent `LIVE_REPORTS` go through `report_route` itself. Cases then follow each
organisation's pace: older ones mostly closed with a realistic spread of outcomes, recent ones
new, acknowledged or in progress, some handed on within the consent, duplicates of mass-reported
posts merged, staff classification (ideology included), assignments to the demo caseworkers,
internal notes and a few message threads with reporters. The audit log is left to what people
and the system really do on this installation: no audit events are invented for the history.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone

from locus.cases.choices import (
    ROUTED_EVENT,
    CaseEventKind,
    CaseOutcome,
    CaseStatus,
    MessageDirection,
    ShareLevel,
    ShareReason,
    Verification,
)
from locus.cases.models import (
    Case,
    CaseEvent,
    CaseMessage,
    CaseNote,
    RoutingDecision,
    RoutingRun,
)
from locus.cases.policies import share_for
from locus.cases.routing import RuleSpec, directory_for, evaluate
from locus.cases.selectors import case_assignees, routing_rule_list
from locus.directory.choices import OrganisationType
from locus.outbox.choices import MessageKind, MessageStatus
from locus.outbox.models import DeliveryAttempt, OutboxMessage
from locus.outbox.selectors import webhook_endpoints_for_event
from locus.places.models import Area
from locus.reporting import references
from locus.reporting.choices import ReportStatus
from locus.reporting.models import ConsentChange, Report
from locus.reporting.services import content_key
from locus.reporting.taxonomy import version_in_force

DEMO_SEED = "locus-demo-2026"
LIVE_REPORTS = 36  # the most recent reports are routed by report_route itself
TRIGGER_WEEKS_AGO = 40
TRIGGER_TEXT = (
    "a fictional attack abroad and the conflict that followed, modelled on what London saw "
    "after 7 October 2023"
)


# --------------------------------------------------------------------------------------------
# Proportions

# Baseline mix of the first bias given (see the module docstring for the sources).
BIAS_LONDON = {
    "racism_xenophobia": 34,
    "anti_black": 12,
    "anti_roma_sinti": 1.5,
    "antisemitism": 7,
    "anti_muslim": 8,
    "anti_christian": 1,
    "other_religion_belief": 1.5,
    "sexual_orientation": 13,
    "gender_identity": 4,
    "gender": 3,
    "disability": 7,
    "social_status": 1,
    "other": 1,
    "not_sure": 3,
}
# Brå, *Hatbrott* (2018, 2020): xenophobic/racist motives about two thirds (Afrophobic,
# antiromani and anti-Sami among them), then Islamophobic, antisemitic and anti-LGBT+ motives.
BIAS_MALMO = {
    "racism_xenophobia": 36,
    "anti_black": 10,
    "anti_roma_sinti": 4,
    "anti_indigenous": 1,
    "antisemitism": 8,
    "anti_muslim": 12,
    "anti_christian": 2,
    "other_religion_belief": 1,
    "sexual_orientation": 11,
    "gender_identity": 3,
    "gender": 3,
    "disability": 4,
    "social_status": 1,
    "other": 1,
    "not_sure": 3,
}
INCIDENT_TYPES = {
    "abusive_behaviour": 38,
    "threat": 10,
    "assault": 11,
    "extreme_violence": 0.4,
    "damage_desecration": 5,
    "literature_propaganda": 4,
    "discrimination": 5,
    "online_content": 19,
    "terrorist_extremist_content": 1.2,
    "disinformation": 2.5,
    "suspicious_activity": 1.5,
}
# What the surge brings: more online content, abuse in the street, graffiti, threats.
SURGE_INCIDENT_TYPES = {
    "abusive_behaviour": 30,
    "online_content": 32,
    "threat": 11,
    "assault": 6,
    "damage_desecration": 9,
    "literature_propaganda": 9,
    "discrimination": 2,
    "suspicious_activity": 1,
}
RELIGION = ("antisemitism", "anti_muslim", "anti_christian", "other_religion_belief")
# Incident type → bias multipliers (damage hits places of worship, discrimination disabled
# people, online content Jewish and trans people more than the baseline says).
BIAS_TILT = {
    "damage_desecration": dict.fromkeys(RELIGION, 2.5),
    "literature_propaganda": {"antisemitism": 2, "anti_muslim": 2, "racism_xenophobia": 1.5},
    "online_content": {"antisemitism": 1.5, "gender_identity": 1.8, "sexual_orientation": 1.2},
    "discrimination": {"disability": 2.5, "gender": 1.5, "racism_xenophobia": 1.3},
    "disinformation": {"anti_muslim": 3, "racism_xenophobia": 2, "antisemitism": 2},
}
# Types that need no bias: (no bias, not sure, a few named ones).
LOOSE_BIAS = {
    "terrorist_extremist_content": {
        "": 45,
        "not_sure": 15,
        "antisemitism": 15,
        "anti_muslim": 15,
        "racism_xenophobia": 10,
    },
    "suspicious_activity": {"": 60, "not_sure": 10, "antisemitism": 15, "anti_muslim": 15},
}
SECOND_BIAS = {
    "anti_muslim": "racism_xenophobia",
    "anti_black": "gender",
    "sexual_orientation": "gender_identity",
    "gender_identity": "sexual_orientation",
    "disability": "sexual_orientation",
    "antisemitism": "racism_xenophobia",
    "anti_roma_sinti": "social_status",
}
SETTINGS = {
    "abusive_behaviour": {
        "street": 35,
        "public_transport": 17,
        "home_neighbourhood": 18,
        "workplace": 8,
        "school_university": 6,
        "online": 6,
        "event_demonstration": 3,
        "place_of_worship": 2,
        "other": 5,
    },
    "threat": {
        "home_neighbourhood": 30,
        "street": 25,
        "online": 15,
        "public_transport": 10,
        "workplace": 8,
        "school_university": 5,
        "other": 7,
    },
    "assault": {
        "street": 45,
        "public_transport": 20,
        "home_neighbourhood": 15,
        "school_university": 5,
        "workplace": 5,
        "event_demonstration": 5,
        "other": 5,
    },
    "extreme_violence": {"street": 60, "home_neighbourhood": 20, "other": 20},
    "damage_desecration": {
        "home_neighbourhood": 35,
        "place_of_worship": 30,
        "street": 20,
        "school_university": 5,
        "other": 10,
    },
    "literature_propaganda": {
        "street": 55,
        "public_transport": 15,
        "school_university": 15,
        "home_neighbourhood": 5,
        "other": 10,
    },
    "discrimination": {
        "workplace": 45,
        "school_university": 15,
        "home_neighbourhood": 10,
        "public_transport": 5,
        "other": 25,
    },
    "suspicious_activity": {
        "street": 40,
        "place_of_worship": 20,
        "home_neighbourhood": 20,
        "event_demonstration": 10,
        "other": 10,
    },
}
PLATFORMS = {
    "x_twitter": 28,
    "facebook": 17,
    "tiktok": 17,
    "instagram": 12,
    "youtube": 8,
    "telegram": 6,
    "reddit": 3,
    "discord": 2,
    "other_website": 3,
}
PRIVATE_PLATFORMS = {
    "whatsapp": 40,
    "instagram": 20,
    "facebook": 15,
    "snapchat": 15,
    "x_twitter": 10,
}
EXTREMIST_PLATFORMS = {
    "telegram": 35,
    "x_twitter": 20,
    "tiktok": 15,
    "youtube": 15,
    "other_website": 15,
}
ONLINE_TYPES = ("online_content", "terrorist_extremist_content", "disinformation")
# Monday … Sunday; normalised in `_Drawer`.
WEEKDAY = (1.00, 1.02, 1.02, 1.04, 1.12, 1.06, 0.74)
# Hours of the day at which people write reports (local time).
HOURS = (1, 0.6, 0.4, 0.3, 0.3, 0.5, 1, 2, 3, 4, 5, 5, 6, 6, 5, 5, 5, 6, 7, 8, 8, 7, 5, 3)

# London boroughs: residents (ONS, Census 2021, rounded); the demo command stores them on the
# areas. Factors on top of the population: footfall, and where communities live and worship.
POPULATION = {
    "london": {
        "Barking and Dagenham": 218_900,
        "Barnet": 389_300,
        "Bexley": 246_500,
        "Brent": 339_800,
        "Bromley": 330_000,
        "Camden": 210_100,
        "City of London": 8_600,
        "Croydon": 390_800,
        "Ealing": 367_100,
        "Enfield": 330_000,
        "Greenwich": 289_100,
        "Hackney": 259_200,
        "Hammersmith and Fulham": 183_200,
        "Haringey": 264_200,
        "Harrow": 261_200,
        "Havering": 262_000,
        "Hillingdon": 305_900,
        "Hounslow": 288_200,
        "Islington": 216_600,
        "Kensington and Chelsea": 143_400,
        "Kingston upon Thames": 168_000,
        "Lambeth": 317_600,
        "Lewisham": 300_600,
        "Merton": 215_200,
        "Newham": 351_100,
        "Redbridge": 310_300,
        "Richmond upon Thames": 195_200,
        "Southwark": 307_700,
        "Sutton": 209_600,
        "Tower Hamlets": 310_300,
        "Waltham Forest": 278_400,
        "Wandsworth": 327_500,
        "Westminster": 204_300,
    },
    # Malmö's five city districts (stadsområden), approximate like their demo boundaries.
    "malmo": {
        "Innerstaden": 76_000,
        "Norr": 69_000,
        "Väster": 68_000,
        "Söder": 78_000,
        "Öster": 74_000,
    },
}
AREA_FACTORS = {
    "london": {
        "*": {
            "Westminster": 2.5,
            "City of London": 6,
            "Camden": 1.6,
            "Kensington and Chelsea": 1.2,
            "Southwark": 1.2,
            "Lambeth": 1.2,
            "Hackney": 1.2,
            "Islington": 1.2,
            "Tower Hamlets": 1.2,
            "Newham": 1.1,
        },
        "antisemitism": {
            "Barnet": 4,
            "Hackney": 4,
            "Camden": 2.5,
            "Westminster": 2.5,
            "Haringey": 2,
            "Redbridge": 1.5,
            "Harrow": 1.5,
            "City of London": 2,
        },
        "anti_muslim": {
            "Tower Hamlets": 3,
            "Newham": 2.5,
            "Redbridge": 2,
            "Waltham Forest": 1.8,
            "Brent": 1.6,
            "Westminster": 1.6,
            "Ealing": 1.4,
            "Hounslow": 1.4,
        },
        "sexual_orientation": {
            "Westminster": 3,
            "Lambeth": 2,
            "Camden": 1.5,
            "Hackney": 1.5,
            "Southwark": 1.3,
            "Tower Hamlets": 1.3,
            "Islington": 1.3,
        },
        "other_religion_belief": {"Ealing": 3, "Hounslow": 3, "Redbridge": 2, "Harrow": 2},
    },
    "malmo": {
        "*": {"Innerstaden": 1.6, "Söder": 1.1},
        "anti_muslim": {"Öster": 1.8, "Söder": 1.4},
        "antisemitism": {"Innerstaden": 2.5},
        "sexual_orientation": {"Innerstaden": 2},
    },
}

# The surge: bias → (rise, rise time in days, decay time in days). The daily rate of that bias
# is multiplied by 1 + rise × (1 − e^(−(t+1)/rise time)) × e^(−t/decay time), t = days since
# the trigger: about ×8 in the first week for antisemitic reports and ×3 in the second for
# anti-Muslim ones, both close to normal after six to eight weeks.
SURGE = {"antisemitism": (13.0, 1.5, 13.0), "anti_muslim": (4.0, 4.0, 18.0)}


@dataclass(frozen=True)
class MassUrl:
    platform: str
    url: str
    incident_type: str
    bias: tuple
    count: int
    when: tuple  # ("trigger", days after) | ("fraction", share of the period) | ("june", 0)
    text: str  # what the reporters say it is


MASS_URLS = {
    "london": (
        MassUrl(
            "x_twitter",
            "https://x.com/demo_newswire88/status/1891000000000000101",
            "online_content",
            ("antisemitism",),
            300,
            ("trigger", 3),
            "a post saying Jews everywhere are to blame for the war and should be hunted down",
        ),
        MassUrl(
            "tiktok",
            "https://www.tiktok.com/@demo.truthclips/video/7340000000000000202",
            "online_content",
            ("anti_muslim",),
            180,
            ("trigger", 9),
            "a video calling Muslims in London 'the enemy within' and filming a local mosque",
        ),
        MassUrl(
            "facebook",
            "https://www.facebook.com/groups/demo.localvoices/posts/3300000000000303",
            "disinformation",
            ("racism_xenophobia",),
            120,
            ("fraction", 0.2),
            "a post falsely claiming that asylum seekers at a local hotel attacked a child and "
            "calling on people to gather outside",
        ),
        MassUrl(
            "youtube",
            "https://www.youtube.com/watch?v=dEmOvid0404",
            "terrorist_extremist_content",
            (),
            90,
            ("fraction", 0.55),
            "a video glorifying a terrorist attack and calling for more",
        ),
        MassUrl(
            "instagram",
            "https://www.instagram.com/p/DeMoPost505/",
            "online_content",
            ("gender_identity",),
            60,
            ("fraction", 0.35),
            "a post sharing a trans woman's photo and urging followers to harass her",
        ),
        MassUrl(
            "telegram",
            "https://t.me/demo_channel_606/1606",
            "terrorist_extremist_content",
            ("anti_muslim",),
            45,
            ("trigger", 16),
            "a channel post praising attacks on mosques and sharing instructions",
        ),
        MassUrl(
            "x_twitter",
            "https://x.com/demo_voice_707/status/1800000000000000707",
            "online_content",
            ("sexual_orientation",),
            35,
            ("june", 0),
            "a post calling Pride marchers groomers and sharing the route of the march",
        ),
        MassUrl(
            "facebook",
            "https://www.facebook.com/demo.streetwatch808/posts/880000000000808",
            "online_content",
            ("anti_roma_sinti",),
            25,
            ("fraction", 0.12),
            "a post calling Roma families on our estate thieves and asking people to drive "
            "them out",
        ),
        MassUrl(
            "reddit",
            "https://www.reddit.com/r/demo_banter/comments/dm0909/the_disabled_thread/",
            "online_content",
            ("disability",),
            20,
            ("fraction", 0.7),
            "a thread mocking disabled people as a burden and sharing photos taken of them",
        ),
        MassUrl(
            "tiktok",
            "https://www.tiktok.com/@demo.schoolpranks/video/7350000000000001010",
            "online_content",
            ("anti_black",),
            15,
            ("fraction", 0.8),
            "a video of pupils making racist jokes about a Black classmate",
        ),
        MassUrl(
            "youtube",
            "https://www.youtube.com/watch?v=dEmOvid1111",
            "online_content",
            ("gender",),
            12,
            ("fraction", 0.9),
            "a video telling men that women who go out alone deserve what happens to them",
        ),
        MassUrl(
            "x_twitter",
            "https://x.com/demo_pundit_1212/status/1850000000000001212",
            "online_content",
            ("other_religion_belief",),
            10,
            ("fraction", 0.45),
            "a post blaming Sikhs and Hindus for crime and calling their temples a threat",
        ),
    ),
    "malmo": (
        MassUrl(
            "facebook",
            "https://www.facebook.com/groups/demo.malmoforum/posts/4400000000000001",
            "disinformation",
            ("anti_muslim",),
            14,
            ("fraction", 0.5),
            "ett inlägg som falskt påstår att muslimer låg bakom bränderna i området",
        ),
        MassUrl(
            "x_twitter",
            "https://x.com/demo_nordvind_22/status/1890000000000002222",
            "online_content",
            ("antisemitism",),
            10,
            ("fraction", 0.8),
            "ett inlägg som sprider antisemitiska konspirationsteorier om judar i Malmö",
        ),
    ),
}


@dataclass(frozen=True)
class Profile:
    language: str
    other_language: str  # some reports are written in it (with the English templates)
    other_language_share: float
    days: int  # how far back the reports go
    daily: float  # reports a day at scale 1, before seasonality
    bias: dict
    surge: bool


PROFILES = {
    "london": Profile("en", "en", 0.0, 730, 11.0, BIAS_LONDON, surge=True),
    "malmo": Profile("sv", "en", 0.15, 120, 2.6, BIAS_MALMO, surge=False),
}


# --------------------------------------------------------------------------------------------
# Words

_EN_BIAS = {
    # bias: (what they did, first person reason, third person reason, graffiti, propaganda,
    #        what an online post does, place of worship)
    "racism_xenophobia": (
        ["shouting that I should go back to my own country", "mocking my accent"],
        ["because of where I'm from", "because I was speaking my language on the phone"],
        ["because they were speaking another language", "because of where he is from"],
        "racist graffiti",
        "far-right slogans and a QR code to a Telegram channel",
        "calling migrants vermin and telling people to 'take the streets back'",
        "community centre",
    ),
    "anti_black": (
        ["making racist remarks about my skin colour", "using a racist slur against me"],
        ["because I'm Black"],
        ["because he is Black", "because of the colour of her skin"],
        "racist graffiti",
        "racist slogans",
        "mocking Black people with racist images",
        "community centre",
    ),
    "anti_roma_sinti": (
        ["calling my family thieves and shouting anti-Gypsy insults"],
        ["because we're Roma"],
        ["because they are Roma"],
        "anti-Gypsy graffiti",
        "slogans against Roma families",
        "calling Roma people thieves and parasites",
        "community centre",
    ),
    "anti_indigenous": (
        ["mocking my clothes and my language"],
        ["because I'm Sami"],
        ["because she is Sami"],
        "hateful graffiti",
        "hateful slogans",
        "mocking Sami people",
        "community centre",
    ),
    "antisemitism": (
        ["shouting antisemitic abuse at me", "saying Jews control everything"],
        ["because I'm Jewish", "because I was wearing a kippah"],
        ["because he was wearing a kippah", "because they were visibly Jewish"],
        "a swastika",
        "antisemitic conspiracy images",
        "saying Jews are behind the war and should be 'dealt with'",
        "synagogue",
    ),
    "anti_muslim": (
        ["calling me a terrorist", "shouting at me to take off my hijab"],
        ["because I wear a hijab", "because I'm Muslim"],
        ["because she was wearing a headscarf", "because he looked Muslim"],
        "'Muslims out'",
        "anti-Muslim slogans",
        "calling Muslims invaders and posting a photo of a local mosque",
        "mosque",
    ),
    "anti_christian": (
        ["mocking the cross I wear and swearing at me"],
        ["because I wear a cross"],
        ["because he was wearing a clerical collar"],
        "anti-Christian graffiti",
        "hateful slogans",
        "mocking Christians and threatening a local church",
        "church",
    ),
    "other_religion_belief": (
        ["mocking my turban and shouting abuse about my religion"],
        ["because I wear a turban", "because of my faith"],
        ["because he wears a turban"],
        "hateful graffiti",
        "slogans attacking Sikhs and Hindus",
        "abusing Sikhs and Hindus",
        "gurdwara",
    ),
    "sexual_orientation": (
        ["using homophobic slurs at me and my partner", "shouting abuse because we held hands"],
        ["because I'm gay", "because I was with my girlfriend"],
        ["because they were a same-sex couple holding hands"],
        "homophobic graffiti",
        "anti-LGBT+ slogans",
        "calling gay people paedophiles",
        "community centre",
    ),
    "gender_identity": (
        ["shouting transphobic abuse and deliberately misgendering me"],
        ["because I'm trans"],
        ["because she is trans"],
        "transphobic graffiti",
        "transphobic slogans",
        "mocking trans people and urging people to harass a trans woman",
        "community centre",
    ),
    "gender": (
        ["shouting sexist and misogynistic abuse at me"],
        ["because I'm a woman"],
        ["because she was a woman on her own"],
        "misogynistic graffiti",
        "misogynistic slogans",
        "encouraging violence against women",
        "community centre",
    ),
    "disability": (
        ["mocking my wheelchair and calling me names", "imitating the way I speak"],
        ["because I'm disabled", "because of my guide dog"],
        ["because he uses a wheelchair", "because she has a learning disability"],
        "abusive graffiti",
        "hateful slogans",
        "mocking disabled people as a burden",
        "community centre",
    ),
    "social_status": (
        ["calling me a scrounger"],
        ["because I'm homeless"],
        ["because he was sleeping rough"],
        "abusive graffiti",
        "hateful slogans",
        "mocking homeless people and posting where they sleep",
        "community centre",
    ),
    "other": (
        ["shouting abuse at me"],
        ["because of who I am"],
        ["because of who they are"],
        "hateful graffiti",
        "hateful slogans",
        "spreading hate",
        "community centre",
    ),
    "not_sure": (
        ["shouting abuse at me"],
        ["- I'm not sure why, but it felt targeted"],
        ["for no reason I could see"],
        "hateful graffiti",
        "hateful slogans",
        "spreading hate",
        "community centre",
    ),
}
_EN_WHERE = {
    "street": ["on the high street", "near the station", "outside the shops", "in the park"],
    "public_transport": ["on the bus", "on the Tube", "at the bus stop", "on the Overground"],
    "home_neighbourhood": ["outside my flat", "on our estate", "in the street where I live"],
    "school_university": ["at school", "on campus", "at the school gates"],
    "workplace": ["at work", "in the shop where I work"],
    "place_of_worship": ["outside the {worship}"],
    "event_demonstration": ["at a march in the centre", "at a demonstration"],
    "online": ["in a group chat", "in my messages"],
    "other": ["in a supermarket", "at the GP surgery", "in a café"],
}
_EN_WHEN = [
    "on my way home from work",
    "on Saturday afternoon",
    "late in the evening",
    "this morning",
    "around school pick-up time",
    "on Sunday night",
]
_EN = {
    ("abusive_behaviour", "victim"): [
        "{When}, a man {where} started {abuse}. He kept going until I walked away.",
        "I was {where} {when} when a group of teenagers started {abuse}. Nobody stepped in.",
        "A woman {where} stared at me and then started {abuse}.",
    ],
    ("abusive_behaviour", "witness"): [
        "I saw a man {where} {when} shouting abuse at someone {reason3}. People looked away.",
        "{When}, two men {where} were harassing someone {reason3}. I stayed with them until "
        "the men left.",
    ],
    ("threat", "victim"): [
        "A neighbour told me he would 'sort us out' {reason1}. He has said things before.",
        "A man {where} said he would come back with his friends and hurt me {reason1}.",
        "I keep getting messages saying they know where I live, {reason1}.",
    ],
    ("threat", "witness"): ["I heard a man {where} threatening to kill a woman {reason3}."],
    ("assault", "victim"): [
        "A man spat at me {where} {when} {reason1}.",
        "I was pushed off the bus step {reason1}. My wrist is still bruised.",
        "I was punched in the face {where} {when} by a man who was {abuse}.",
    ],
    ("assault", "witness"): [
        "I saw someone pushed to the ground {where} {reason3}. The attacker ran off.",
    ],
    ("extreme_violence", "victim"): [
        "I was attacked by a group {where} {when} and needed hospital treatment. They were "
        "{abuse} the whole time.",
    ],
    ("extreme_violence", "witness"): [
        "A man was badly beaten {where} {when} {reason3}. An ambulance came.",
    ],
    ("damage_desecration", "any"): [
        "Someone sprayed {graffiti} on {target}.",
        "The windows of {target} were smashed overnight. It has happened before.",
        "We found {graffiti} scratched into {target} this morning.",
    ],
    ("literature_propaganda", "any"): [
        "Stickers with {propaganda} were put up all along the road {where}.",
        "Leaflets with {propaganda} were pushed through the doors on our street.",
        "There are posters with {propaganda} {where}.",
    ],
    ("discrimination", "any"): [
        "I was refused service at a shop {reason1}.",
        "The landlord refused to rent the flat to us once he heard my name.",
        "My manager keeps making comments and gave my shifts to someone else, {reason1}.",
        "A taxi driver refused to take me {reason1}.",
    ],
    ("online_content", "any"): [
        "I found this post on {platform} {online}. It has hundreds of shares.",
        "This video on {platform} is {online}. Please get it taken down.",
        "Someone shared this in a local group on {platform}, {online}.",
    ],
    ("terrorist_extremist_content", "any"): [
        "This {platform} channel is sharing a video glorifying an attack and calling for more.",
        "This post praises an attacker and gives instructions for making weapons.",
        "A video on {platform} calling on people to attack a {worship}.",
    ],
    ("disinformation", "any"): [
        "This post falsely claims that asylum seekers at a local hotel attacked a child. The "
        "police said it is not true, but people are calling for a protest.",
        "A video on {platform} falsely claims that a {worship} is collecting money for terrorists.",
    ],
    ("suspicious_activity", "any"): [
        "A man was filming the entrance of the {worship} for a long time and asking people "
        "about service times.",
        "A car has been parked outside the {worship} several nights in a row with people watching.",
    ],
}
# Abuse and threats by private message or in a group chat (setting "online").
_EN_ONLINE = {
    "abusive_behaviour": [
        "In a group chat on {platform}, people started {abuse}. They keep adding me back.",
        "Someone I don't know keeps messaging me on {platform}, {abuse}.",
    ],
    "threat": [
        "I keep getting messages on {platform} saying they know where I live, {reason1}.",
        "Someone on {platform} said they would find me and hurt me {reason1}.",
    ],
}
_EN_TARGET = {
    "home_neighbourhood": ["our front door", "my car", "the wall of our block"],
    "street": ["the bus shelter", "the shop shutters"],
    "school_university": ["the school wall"],
    "place_of_worship": ["the {worship}"],
    "other": ["the community centre"],
}
_EN_IMPACT = [
    "I feel scared to go out now.",
    "It's not the first time this has happened.",
    "My children were with me and are very upset.",
    "I just want this on record.",
    "I didn't call the police at the time.",
    "I'd like to talk to someone about it.",
    "",
    "",
    "",
]
_EN_SURGE = [
    "This has been happening much more since the attack abroad.",
    "It started after the news from abroad.",
    "Since the war began people say things like this all the time.",
]
_EN_MASS = [
    "This is {text}. Please get it taken down.",
    "Reporting {text}.",
    "I saw {text}. Thousands of people have seen it.",
    "{Text}. It is being shared everywhere.",
]
_EN_NOTES = [
    "Called the reporter; they would like a follow-up call next week.",
    "Checked with the transport operator whether there is CCTV.",
    "Reporter does not want police involvement at this stage.",
    "Passed the details to the neighbourhood team for extra patrols.",
    "Discussed a safety plan with the reporter.",
    "Similar incidents were reported in the same street last month.",
]
_EN_CONTENT_NOTES = [
    "Reviewed against the community guidelines.",
    "Escalated to the specialist review team.",
]
_EN_MESSAGES = [
    (
        "Thank you for your report. We are sorry this happened to you. Would you like to talk "
        "to one of our advisers? We can call at a time that suits you.",
        "Yes please, any weekday after 5pm is fine.",
        "Thank you. An adviser will call you on Thursday after 5pm.",
    ),
    (
        "Thank you for telling us. Do you know whether anyone else saw what happened?",
        "A man at the bus stop saw it, but I don't know who he was.",
        "Thank you, that helps. We have asked the transport operator to keep the CCTV.",
    ),
    (
        "We have received your report and are looking into it. Is it still happening?",
        "It happened again yesterday evening outside our door.",
        "We are sorry to hear that. We have passed this on to the neighbourhood team today.",
    ),
]

_SV_BIAS = {
    "racism_xenophobia": ("skrika att jag skulle åka hem", "för att jag pratade arabiska"),
    "anti_black": ("säga rasistiska saker om min hudfärg", "för att jag är svart"),
    "anti_roma_sinti": ("kalla oss tjuvar", "för att vi är romer"),
    "anti_indigenous": ("håna mina kläder och mitt språk", "för att jag är same"),
    "antisemitism": ("skrika antisemitiska glåpord", "för att jag bar kippa"),
    "anti_muslim": ("kalla mig terrorist", "för att jag bär slöja"),
    "anti_christian": ("håna mitt kors", "för att jag bär ett kors"),
    "other_religion_belief": ("håna min religion", "på grund av min tro"),
    "sexual_orientation": ("skrika homofobiska glåpord", "för att jag höll min pojkväns hand"),
    "gender_identity": ("skrika transfobiska saker", "för att jag är trans"),
    "gender": ("skrika sexistiska glåpord", "för att jag är kvinna"),
    "disability": ("härma hur jag pratar", "för att jag sitter i rullstol"),
    "social_status": ("kalla mig parasit", "för att jag är hemlös"),
    "other": ("skrika hatiska saker", "på grund av vem jag är"),
    "not_sure": ("skrika saker åt mig", "men jag vet inte varför"),
}
_SV_GROUP = {
    "racism_xenophobia": "invandrare",
    "anti_black": "svarta",
    "anti_roma_sinti": "romer",
    "anti_indigenous": "samer",
    "antisemitism": "judar",
    "anti_muslim": "muslimer",
    "anti_christian": "kristna",
    "other_religion_belief": "troende",
    "sexual_orientation": "hbtq-personer",
    "gender_identity": "transpersoner",
    "gender": "kvinnor",
    "disability": "personer med funktionsnedsättning",
    "social_status": "hemlösa",
}
_SV_WORSHIP = {
    "antisemitism": "synagogan",
    "anti_muslim": "moskén",
    "anti_christian": "kyrkan",
    "other_religion_belief": "templet",
}
_SV_WHERE = {
    "street": ["på gatan", "vid Triangeln", "på Möllevångstorget", "utanför affären"],
    "public_transport": ["på bussen", "på tåget", "vid busshållplatsen"],
    "home_neighbourhood": ["utanför min lägenhet", "i trapphuset", "på gården"],
    "school_university": ["i skolan", "på universitetet"],
    "workplace": ["på jobbet"],
    "place_of_worship": ["utanför {worship}"],
    "event_demonstration": ["på en demonstration"],
    "online": ["i en gruppchatt"],
    "other": ["i en affär", "på vårdcentralen"],
}
_SV_WHEN = ["på väg hem", "i lördags eftermiddag", "sent på kvällen", "i morse"]
_SV = {
    "abusive_behaviour": [
        "{When} {where} började en man {abuse}. Han slutade inte förrän jag gick därifrån.",
        "Jag var {where} {when} när ett gäng ungdomar började {abuse}. Ingen sa något.",
    ],
    "threat": [
        "En granne sa att han skulle 'ta hand om oss' {reason}.",
        "Jag får meddelanden om att de vet var jag bor, {reason}.",
    ],
    "assault": [
        "En man spottade på mig {where} {reason}.",
        "Jag blev knuffad {where} {reason}. Jag har fortfarande ont i handleden.",
    ],
    "extreme_violence": ["Jag blev misshandlad av ett gäng {where} och fick åka till sjukhus."],
    "damage_desecration": [
        "Någon har sprejat hatiskt klotter mot {group} {where}.",
        "Fönstren på {worship} krossades i natt.",
    ],
    "literature_propaganda": [
        "Klistermärken med hat mot {group} har satts upp {where}.",
        "Någon har delat ut lappar med hat mot {group} i brevlådorna.",
    ],
    "discrimination": [
        "Jag nekades service i en affär {reason}.",
        "Hyresvärden ville inte hyra ut till oss när han hörde mitt namn.",
    ],
    "online_content": [
        "Jag hittade det här inlägget på {platform} som sprider hat mot {group}.",
        "Den här videon på {platform} hånar {group}. Snälla se till att den tas bort.",
    ],
    "terrorist_extremist_content": [
        "Den här kanalen delar en video som hyllar ett terrordåd och uppmanar till fler.",
    ],
    "disinformation": ["Inlägget påstår falskt att {group} ligger bakom bränderna i området."],
    "suspicious_activity": [
        "En man filmade ingången till {worship} länge och frågade om tider för gudstjänsten.",
    ],
}
_SV_ONLINE = {
    "abusive_behaviour": ["I en gruppchatt på {platform} började folk {abuse}."],
    "threat": ["Någon på {platform} skriver att de ska hitta mig och skada mig, {reason}."],
}
_SV_IMPACT = [
    "Jag känner mig otrygg nu.",
    "Det är inte första gången.",
    "Mina barn var med och är rädda.",
    "Jag vill bara att det finns registrerat.",
    "",
    "",
]
_SV_MASS = ["Det här är {text}. Snälla se till att det tas bort.", "Jag anmäler {text}."]
_SV_NOTES = [
    "Ringde upp anmälaren; vill bli kontaktad igen nästa vecka.",
    "Anmälaren vill inte gå till polisen just nu.",
    "Liknande händelser har anmälts i samma område.",
]
_SV_MESSAGES = [
    (
        "Tack för din anmälan. Vill du prata med någon av oss? Vi kan ringa när det passar dig.",
        "Ja tack, gärna efter klockan 17 på vardagar.",
        "Tack. Vi ringer dig på torsdag efter 17.",
    ),
]
_NAMES = {
    "en": (
        [
            "Sam",
            "Alex",
            "Priya",
            "Tomasz",
            "Amara",
            "Daniel",
            "Fatima",
            "Joe",
            "Leah",
            "Kofi",
            "Sofia",
            "Ravi",
            "Hannah",
            "Yusuf",
            "Grace",
            "Marek",
            "Aisha",
            "Ben",
            "Chloe",
            "Omar",
        ],
        [
            "Green",
            "Patel",
            "Okafor",
            "Nowak",
            "Cohen",
            "Hussain",
            "Clarke",
            "Ahmed",
            "Evans",
            "Mensah",
            "Shah",
            "Levy",
            "Wright",
            "Begum",
            "Murphy",
            "Kowalski",
            "Singh",
            "Taylor",
        ],
    ),
    "sv": (
        [
            "Anna",
            "Erik",
            "Leila",
            "Johan",
            "Sara",
            "Ahmed",
            "Maja",
            "Oskar",
            "Ines",
            "Ali",
            "Elin",
            "Mehmet",
            "Noah",
            "Amira",
            "Karin",
            "David",
        ],
        [
            "Andersson",
            "Nilsson",
            "Hassan",
            "Lindqvist",
            "Berg",
            "Yilmaz",
            "Persson",
            "Ali",
            "Svensson",
            "Karlsson",
            "Ibrahim",
            "Holm",
        ],
    ),
}
_PLATFORM_NAMES = {
    "x_twitter": "X",
    "facebook": "Facebook",
    "instagram": "Instagram",
    "tiktok": "TikTok",
    "youtube": "YouTube",
    "telegram": "Telegram",
    "whatsapp": "WhatsApp",
    "snapchat": "Snapchat",
    "reddit": "Reddit",
    "discord": "Discord",
    "other_website": "a website",
}
_HANDLE_WORDS = ["truth", "patriot", "voice", "news", "watch", "daily", "real", "north", "free"]


# --------------------------------------------------------------------------------------------
# How organisations work their cases


@dataclass(frozen=True)
class Pace:
    ack_hours: float  # median time to acknowledge
    start_hours: float  # median time from acknowledging to starting work
    close_days: float  # median time from starting to closing
    outcomes: dict
    never_ack: float = 0.004  # shares of cases left behind (the overdue ones)
    never_start: float = 0.006
    never_close: float = 0.03
    notes: float = 0.25
    hand_on: float = 0.05


PACES = {
    "police": Pace(
        ack_hours=14,
        start_hours=24,
        close_days=24,
        outcomes={
            CaseOutcome.NO_FURTHER_ACTION: 46,
            CaseOutcome.CHARGED: 9,
            CaseOutcome.SUPPORTED: 17,
            CaseOutcome.NOT_HATE_RELATED: 6,
            CaseOutcome.OTHER: 22,
        },
    ),
    "support": Pace(
        ack_hours=20,
        start_hours=20,
        close_days=20,
        outcomes={
            CaseOutcome.SUPPORTED: 62,
            CaseOutcome.REFERRED_TO_POLICE: 12,
            CaseOutcome.NO_FURTHER_ACTION: 16,
            CaseOutcome.NOT_HATE_RELATED: 4,
            CaseOutcome.OTHER: 6,
        },
    ),
    "team": Pace(
        ack_hours=24,
        start_hours=24,
        close_days=14,
        outcomes={
            CaseOutcome.SUPPORTED: 35,
            CaseOutcome.REFERRED_TO_POLICE: 12,
            CaseOutcome.NO_FURTHER_ACTION: 35,
            CaseOutcome.NOT_HATE_RELATED: 10,
            CaseOutcome.OTHER: 8,
        },
    ),
    "platform": Pace(
        ack_hours=4,
        start_hours=2,
        close_days=1.5,
        outcomes={
            CaseOutcome.CONTENT_REMOVED: 58,
            CaseOutcome.NO_FURTHER_ACTION: 37,
            CaseOutcome.NOT_HATE_RELATED: 5,
        },
        notes=0.05,
        hand_on=0,
    ),
    "referral_unit": Pace(
        ack_hours=3,
        start_hours=2,
        close_days=2,
        outcomes={
            CaseOutcome.CONTENT_REMOVED: 72,
            CaseOutcome.NO_FURTHER_ACTION: 24,
            CaseOutcome.OTHER: 4,
        },
        notes=0.05,
        hand_on=0,
    ),
}
IDEOLOGY = {
    "antisemitism": {
        "far_right": 35,
        "religiously_motivated": 25,
        "far_left": 10,
        "conspiracy_driven": 20,
        "unknown": 10,
    },
    "anti_muslim": {"far_right": 70, "conspiracy_driven": 10, "unknown": 20},
    "racism_xenophobia": {"far_right": 50, "unknown": 50},
    "sexual_orientation": {
        "religiously_motivated": 15,
        "far_right": 20,
        "single_issue": 15,
        "unknown": 50,
    },
    "terrorist_extremist_content": {"far_right": 50, "religiously_motivated": 45, "other": 5},
    "disinformation": {"conspiracy_driven": 60, "far_right": 30, "unknown": 10},
    "*": {"unknown": 70, "other": 30},
}
IDEOLOGY["anti_black"] = IDEOLOGY["anti_roma_sinti"] = IDEOLOGY["racism_xenophobia"]
IDEOLOGY["gender_identity"] = IDEOLOGY["sexual_orientation"]


CONTENT_PACES = ("platform", "referral_unit")
RECLASSIFIED = {
    "abusive_behaviour": "threat",
    "threat": "abusive_behaviour",
    "online_content": "terrorist_extremist_content",
    "disinformation": "online_content",
    "assault": "extreme_violence",
}


def _pace_of(organisation, place_teams):
    kind = organisation.type
    if kind == OrganisationType.POLICE:
        return "police"
    if kind == OrganisationType.COMPANY:
        return "platform"
    if kind == OrganisationType.NATIONAL_BODY:
        return "referral_unit"
    if organisation.pk in place_teams:
        return "team"
    return "support"


# --------------------------------------------------------------------------------------------
# Random helpers


def _stream(*parts):
    """A random stream of its own per purpose, so one part of the demo can change without
    shifting every other draw."""
    return random.Random(":".join(str(p) for p in (DEMO_SEED, *parts)))  # noqa: S311 - demo data


def _pick(rng, weights):
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _poisson(rng, lam):
    if lam <= 0:
        return 0
    if lam > 60:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, product = math.exp(-lam), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _median(rng, median, spread=0.9):
    """A log-normal duration around its median."""
    return median * math.exp(rng.gauss(0, spread))


def _code(rng, length):
    text = "".join(rng.choices(references.ALPHABET, k=length))
    return "-".join(text[i : i + 4] for i in range(0, length, 4))


def _surge_factor(bias, days_since):
    rise, rise_days, decay_days = SURGE[bias]
    if days_since < 0:
        return 1.0
    return 1 + rise * (1 - math.exp(-(days_since + 1) / rise_days)) * math.exp(
        -days_since / decay_days
    )


def trigger_date(today: date) -> date:
    """The day of the demo's trigger event: the Saturday `TRIGGER_WEEKS_AGO` weeks back."""
    day = today - timedelta(weeks=TRIGGER_WEEKS_AGO)
    return day - timedelta(days=(day.weekday() - 5) % 7)


def url_variant(rng, url):
    """The same address as people paste it: tracking parameters, m./www., a trailing slash,
    http, a fragment. `content_key` folds every variant into the key of `url`."""
    parts = urlsplit(url)
    scheme, host, path, query, fragment = parts.scheme, parts.netloc, parts.path, parts.query, ""
    bare = host.removeprefix("www.")
    kind = _pick(
        rng,
        {"same": 40, "slash": 10, "www": 8, "m": 10, "utm": 12, "click": 10, "hash": 4, "http": 6},
    )
    if kind == "slash":
        path = path.rstrip("/") if path.endswith("/") else path + "/"
    elif kind == "www":
        host = bare if host.startswith("www.") else "www." + host
    elif kind == "m":
        host = "m." + bare
    elif kind == "utm":
        extra = "utm_source=" + rng.choice(["share", "ig", "whatsapp"]) + "&utm_medium=social"
        query = f"{query}&{extra}" if query else extra
    elif kind == "click":
        name = rng.choice(["fbclid=IwAR", "igshid=", "si="])
        extra = name + "".join(rng.choice("abcdefghjkmnpqrstuvwxyz0123456789") for _ in range(16))
        query = f"{query}&{extra}" if query else extra
    elif kind == "hash":
        fragment = "comments"
    elif kind == "http":
        scheme = "http"
    return urlunsplit((scheme, host, path, query, fragment))


def _fresh_url(rng, platform):
    handle = f"demo_{rng.choice(_HANDLE_WORDS)}{rng.randrange(10, 9999)}"
    digits = "".join(rng.choice("0123456789") for _ in range(18))
    letters = "".join(
        rng.choice("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(11)
    )
    return {
        "x_twitter": f"https://x.com/{handle}/status/1{digits}",
        "facebook": f"https://www.facebook.com/{handle}/posts/{digits}",
        "instagram": f"https://www.instagram.com/p/{letters}/",
        "tiktok": f"https://www.tiktok.com/@{handle}/video/7{digits}",
        "youtube": f"https://www.youtube.com/watch?v={letters}",
        "telegram": f"https://t.me/{handle}/{digits[:5]}",
        "reddit": f"https://www.reddit.com/r/{handle}/comments/{letters[:6].lower()}/thread/",
        "discord": f"https://discord.com/channels/{digits}/{digits[::-1]}",
        "other_website": f"https://forum.example.net/t/{handle}/{digits[:6]}",
    }.get(platform, "")


# --------------------------------------------------------------------------------------------
# Drawing reports


@dataclass
class _Draft:
    report: Report
    code: str = ""  # the follow-up code (only its hash is stored)
    group: int | None = None  # index in MASS_URLS
    plans: list = field(default_factory=list)  # _Plan of every case of the report
    organisations: set = field(default_factory=set)  # ids with a decision for the report
    run: RoutingRun | None = None
    decisions: list = field(default_factory=list)


class _Drawer:
    """Draws the reports of one place (unsaved), oldest first."""

    def __init__(self, *, place, slug, now, scale):
        self.place, self.slug, self.now, self.scale = place, slug, now, scale
        self.profile = PROFILES[slug]
        self.tz = ZoneInfo(place.timezone)
        self.today = now.astimezone(self.tz).date()
        self.start = self.today - timedelta(days=self.profile.days - 1)
        self.trigger = trigger_date(self.today) if self.profile.surge else None
        self.rng = _stream(slug, "reports")
        mean = sum(WEEKDAY) / 7
        self.weekday = [w / mean for w in WEEKDAY]
        areas = list(Area.objects.filter(place=place).order_by("name"))
        population = POPULATION.get(slug, {})
        factors = AREA_FACTORS.get(slug, {})
        self.areas = areas
        self.area_weights = {}
        for bias in ("*", *self.profile.bias):
            weights = {}
            for area in areas:
                people = area.population or population.get(area.name) or 100_000
                weight = people * factors.get("*", {}).get(area.name, 1)
                weight *= factors.get(bias, {}).get(area.name, 1) if bias != "*" else 1
                weights[area] = weight
            self.area_weights[bias] = weights
        self.recent_urls = []  # (submitted, url, platform) of the last online reports

    # -- the day-by-day process -------------------------------------------------------------

    def draw(self) -> list[_Draft]:
        drafts = []
        span = (self.today - self.start).days or 1
        rng = self.rng
        for offset in range(span + 1):
            day = self.start + timedelta(days=offset)
            season = 1 + 0.12 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 196) / 365.25)
            trend = 0.92 + 0.16 * offset / span
            rate = self.profile.daily * self.scale * self.weekday[day.weekday()] * season * trend
            noisy = rate * rng.gammavariate(25, 1 / 25)
            for _ in range(_poisson(rng, noisy)):
                drafts.append(self._incident(day))
            if self.trigger is not None:
                since = (day - self.trigger).days
                for bias in SURGE:
                    extra = rate * self._share(bias) * (_surge_factor(bias, since) - 1)
                    for _ in range(_poisson(rng, extra)):
                        drafts.append(self._incident(day, surge_bias=bias))
        for index, mass in enumerate(MASS_URLS.get(self.slug, ())):
            drafts.extend(self._mass(index, mass))
        drafts = [d for d in drafts if d.report.submitted_at <= self.now]
        drafts.sort(key=lambda d: (d.report.submitted_at, d.report.incident_type))
        return drafts

    def _share(self, bias):
        weights = self.profile.bias
        return weights[bias] / sum(weights.values())

    def _incident(self, day, surge_bias=None):
        rng = self.rng
        if surge_bias:
            kind = _pick(rng, SURGE_INCIDENT_TYPES)
            bias = [surge_bias]
        else:
            kind = _pick(rng, INCIDENT_TYPES)
            bias = self._bias(kind)
        online = kind in ONLINE_TYPES
        setting = "online" if online else _pick(rng, SETTINGS[kind])
        if setting == "place_of_worship" and not set(bias) & set(RELIGION):
            setting = "street"
        if kind == "damage_desecration" and set(bias) & set(RELIGION) and rng.random() < 0.4:
            setting = "place_of_worship"
        lag = self._lag(online)
        submitted = self._moment(day + timedelta(days=lag))
        report = self._report(kind=kind, bias=bias, setting=setting, submitted=submitted)
        report.occurred_on = day if rng.random() > 0.01 else None
        report.occurred_approx = bool(report.occurred_on) and (
            (lag > 14 and rng.random() < 0.6) or rng.random() < 0.03
        )
        report.ongoing = kind in ("threat", "abusive_behaviour") and (
            setting == "home_neighbourhood" and rng.random() < 0.25
        )
        where = self._place_words(setting, bias, report.language)
        self._where(report, bias, online, setting, where)
        report.account = self._account(report, where, surge=bool(surge_bias))
        return _Draft(report=report)

    def _bias(self, kind):
        rng = self.rng
        if kind in LOOSE_BIAS:
            code = _pick(rng, LOOSE_BIAS[kind])
            return [code] if code else []
        tilt = BIAS_TILT.get(kind, {})
        weights = {code: w * tilt.get(code, 1) for code, w in self.profile.bias.items()}
        first = _pick(rng, weights)
        second = SECOND_BIAS.get(first)
        if second and rng.random() < 0.07:
            return sorted([first, second])
        return [first]

    def _lag(self, online):
        r = self.rng.random()
        if online:
            return 0 if r < 0.8 else self.rng.randint(1, 7)
        if r < 0.5:
            return 0
        if r < 0.68:
            return 1
        if r < 0.8:
            return self.rng.randint(2, 3)
        if r < 0.92:
            return self.rng.randint(4, 14)
        if r < 0.98:
            return self.rng.randint(15, 60)
        return self.rng.randint(61, 180)

    def _moment(self, day):
        hour = self.rng.choices(range(24), weights=HOURS)[0]
        local = datetime.combine(
            day, time(hour, self.rng.randrange(60), self.rng.randrange(60)), tzinfo=self.tz
        )
        return local.astimezone(UTC)

    def _language(self):
        profile = self.profile
        if profile.other_language_share and self.rng.random() < profile.other_language_share:
            return profile.other_language
        return profile.language

    def _report(self, *, kind, bias, setting, submitted, role=None):
        rng = self.rng
        online = kind in ONLINE_TYPES
        if role is None:
            if online:
                role = _pick(rng, {"found_online": 80, "victim": 12, "witness": 8})
            elif kind in ("damage_desecration", "literature_propaganda", "suspicious_activity"):
                role = _pick(rng, {"witness": 60, "victim": 35, "on_behalf": 5})
            else:
                role = _pick(rng, {"victim": 58, "witness": 30, "on_behalf": 12})
        support = rng.random() < {"victim": 0.38, "on_behalf": 0.35, "witness": 0.12}.get(
            role, 0.05
        )
        police_with_contact = rng.random() < (0.14 if role == "victim" else 0.04)
        police_anonymised = police_with_contact or rng.random() < (0.2 if online else 0.3)
        contact = None
        if support or police_with_contact or rng.random() < 0.06:
            contact = self._contact()
        wants_updates = bool(contact and contact.get("email")) and rng.random() < 0.45
        support_wanted = []
        if role in ("victim", "on_behalf"):
            for code, share in (("emotional", 0.4), ("safety", 0.25), ("legal", 0.15)):
                if rng.random() < share:
                    support_wanted.append(code)
            if rng.random() < 0.1:
                support_wanted.append("practical")
        if online and rng.random() < 0.6:
            support_wanted.append("content_removal")
        already, police_reference = [], ""
        if not online and role == "victim" and rng.random() < 0.18:
            already.append("police")
            if rng.random() < 0.8:
                police_reference = f"CAD {rng.randrange(1000, 9999)}/{submitted:%d%b}"
        if online and rng.random() < 0.3:
            already.append("platform")
        return Report(
            place=self.place,
            # Older reports were written in the taxonomy version of their day (docs/taxonomy.md).
            taxonomy_version=version_in_force(submitted.astimezone(self.tz).date()),
            language=self._language(),
            status=ReportStatus.RECEIVED,
            submitted_at=submitted,
            incident_type=kind,
            setting=setting,
            bias=sorted(set(bias)),
            reporter_role=role,
            support_wanted=sorted(set(support_wanted)),
            already_reported=sorted(already),
            police_reference=police_reference,
            consent_police_anonymised=police_anonymised,
            consent_police_with_contact=police_with_contact and contact is not None,
            consent_support_contact=support and contact is not None,
            contact=contact,
            wants_email_updates=wants_updates,
        )

    def _contact(self):
        rng = self.rng
        language = "sv" if self.profile.language == "sv" else "en"
        first, last = (rng.choice(names) for names in _NAMES[language])
        contact = {}
        if rng.random() < 0.7:
            contact["name"] = f"{first} {last}"
        if rng.random() < 0.85:
            contact["email"] = f"{first}.{last}{rng.randrange(10, 99)}@example.org".lower()
        if rng.random() < 0.45 or "email" not in contact:
            if language == "sv":
                contact["phone"] = f"070-174 06 {rng.randrange(5, 100):02d}"
            else:
                contact["phone"] = f"07700 900{rng.randrange(0, 1000):03d}"
        return contact

    def _where(self, report, bias, online, setting, words):
        rng = self.rng
        if online:
            self._online(report)
            return
        if setting == "online":  # abuse or a threat by private message or in a comment
            report.platform = _pick(rng, PRIVATE_PLATFORMS)
            if rng.random() < 0.2:
                report.platform = _pick(rng, PLATFORMS)
                report.content_url = _fresh_url(rng, report.platform)
        if setting != "online" or rng.random() < 0.4:
            key = bias[0] if bias and bias[0] in self.area_weights else "*"
            if rng.random() < 0.93:
                report.area = _pick(rng, self.area_weights[key])
        if setting != "online" and rng.random() < 0.55:
            report.location_text = words[0].upper() + words[1:]
        report.content_key = content_key(report.content_url)

    def _online(self, report):
        rng = self.rng
        kind = report.incident_type
        report.platform = _pick(
            rng, EXTREMIST_PLATFORMS if kind == "terrorist_extremist_content" else PLATFORMS
        )
        recent = [
            item
            for item in self.recent_urls[-40:]
            if report.submitted_at - item[0] < timedelta(days=7)
        ]
        if recent and rng.random() < 0.05:
            # Friends and family often report the same post a few times.
            _at, url, platform = rng.choice(recent)
            report.platform, report.content_url = platform, url_variant(rng, url)
        elif rng.random() < (0.9 if kind == "terrorist_extremist_content" else 0.85):
            report.content_url = _fresh_url(rng, report.platform)
            if report.content_url:
                self.recent_urls.append((report.submitted_at, report.content_url, report.platform))
        report.content_key = content_key(report.content_url)

    # -- words --------------------------------------------------------------------------------

    def _worship(self, bias, language):
        for code in bias:
            if code in RELIGION:
                return _SV_WORSHIP[code] if language == "sv" else _EN_BIAS[code][6]
        return "föreningslokalen" if language == "sv" else "community centre"

    def _place_words(self, setting, bias, language=None):
        language = language or self.profile.language
        options = (_SV_WHERE if language == "sv" else _EN_WHERE).get(setting, ["nearby"])
        return self.rng.choice(options).format(worship=self._worship(bias, language))

    def _account(self, report, where, *, surge=False):
        if report.language == "sv":
            return self._account_sv(report, where)
        rng = self.rng
        bias = report.bias[0] if report.bias else "not_sure"
        words = _EN_BIAS[bias]
        kind = report.incident_type
        role = "victim" if report.reporter_role == "victim" else "witness"
        templates = _EN.get((kind, role)) or _EN.get((kind, "victim")) or _EN[(kind, "any")]
        if report.setting == "online" and kind in _EN_ONLINE:
            templates = _EN_ONLINE[kind]
        setting = report.setting or "street"
        worship = self._worship(report.bias, "en")
        values = {
            "where": where,
            "when": rng.choice(_EN_WHEN),
            "abuse": rng.choice(words[0]),
            "reason1": rng.choice(words[1]),
            "reason3": rng.choice(words[2]),
            "graffiti": words[3],
            "propaganda": words[4],
            "online": words[5],
            "worship": worship,
            "platform": _PLATFORM_NAMES.get(report.platform, "social media"),
            "target": rng.choice(_EN_TARGET.get(setting, _EN_TARGET["other"])).format(
                worship=worship
            ),
        }
        values["When"] = values["when"][0].upper() + values["when"][1:]
        text = rng.choice(templates).format(**values).replace(" - ", " – ")
        extra = rng.choice(_EN_SURGE) if surge and rng.random() < 0.5 else rng.choice(_EN_IMPACT)
        return f"{text} {extra}".strip()

    def _account_sv(self, report, where):
        rng = self.rng
        bias = report.bias[0] if report.bias else "not_sure"
        abuse, reason = _SV_BIAS[bias]
        when = rng.choice(_SV_WHEN)
        values = {
            "where": where,
            "When": when[0].upper() + when[1:],
            "when": when,
            "abuse": abuse,
            "reason": reason,
            "group": _SV_GROUP.get(bias, "oss"),
            "worship": self._worship(report.bias, "sv"),
            "platform": _PLATFORM_NAMES.get(report.platform, "nätet"),
        }
        templates = _SV[report.incident_type]
        if report.setting == "online" and report.incident_type in _SV_ONLINE:
            templates = _SV_ONLINE[report.incident_type]
        text = rng.choice(templates).format(**values)
        return f"{text} {rng.choice(_SV_IMPACT)}".strip()

    # -- mass-reported content --------------------------------------------------------------

    def _posted(self, mass):
        kind, value = mass.when
        if kind == "trigger" and self.trigger is not None:
            day = self.trigger + timedelta(days=value)
        elif kind == "june":
            year = (
                self.today.year
                if self.today >= date(self.today.year, 7, 12)
                else self.today.year - 1
            )
            day = date(year, 6, 28)
        else:
            day = self.start + timedelta(days=round((self.today - self.start).days * float(value)))
        day = min(max(day, self.start), self.today)
        return datetime.combine(day, time(9), tzinfo=self.tz) + timedelta(
            minutes=self.rng.randrange(600)
        )

    def _mass(self, index, mass):
        rng = self.rng
        posted = self._posted(mass)
        count = max(4, round(mass.count * self.scale))
        drafts = []
        for _ in range(count):
            if rng.random() < 0.9:
                delay = timedelta(days=rng.expovariate(1 / 1.2))
            else:
                delay = timedelta(days=rng.uniform(0, 30))
            submitted = posted + delay
            bias = list(mass.bias)
            r = rng.random()
            if not bias:
                bias = [] if r < 0.6 else ["not_sure"] if r < 0.85 else ["anti_muslim"]
            elif r < 0.07 and bias[0] in SECOND_BIAS:
                bias.append(SECOND_BIAS[bias[0]])
            elif r < 0.12:
                bias = ["not_sure"]
            kind = mass.incident_type
            if rng.random() < 0.08 and kind != "terrorist_extremist_content":
                kind = "online_content" if kind == "disinformation" else "disinformation"
            report = self._report(
                kind=kind,
                bias=bias,
                setting="online",
                submitted=submitted.astimezone(UTC),
                role=_pick(rng, {"found_online": 90, "witness": 6, "victim": 4}),
            )
            report.occurred_on = submitted.astimezone(self.tz).date()
            report.platform = mass.platform
            report.content_url = url_variant(rng, mass.url)
            report.content_key = content_key(report.content_url)
            report.language = self.profile.language  # the post's text is in this language
            templates = _SV_MASS if report.language == "sv" else _EN_MASS
            template = rng.choice(templates)
            report.account = template.format(
                text=mass.text, Text=mass.text[0].upper() + mass.text[1:]
            )
            drafts.append(_Draft(report=report, group=index))
        return drafts


# --------------------------------------------------------------------------------------------
# Cases


@dataclass
class _Plan:
    """One case to be: its decision and case rows (saved or not) and what happens to it."""

    draft: _Draft
    organisation: object
    decision: RoutingDecision
    case: Case
    opened: datetime
    pace: str
    live: bool = False
    events: list = field(default_factory=list)  # (kind, at, actor, data or a callable)
    notes: list = field(default_factory=list)  # (CaseNote, at)
    messages: list = field(default_factory=list)  # CaseMessage
    handed_from: _Plan | None = None
    handed_to: _Plan | None = None
    hand_on: tuple | None = None  # (organisation, share, at)
    merged_into: _Plan | None = None

    def add(self, kind, at, actor=None, data=None):
        self.events.append((kind, at, actor, data if data is not None else {}))


class _Cases:
    """Lives every case of a place's drafts up to `now`: statuses, times, outcomes, hand-ons,
    merges of duplicates, classification, notes and messages — in the shapes the case services
    write (`locus.cases.services`: events, hand-on decisions, merges)."""

    def __init__(self, *, place, slug, now, organisations, scale):
        self.place, self.slug, self.now, self.scale = place, slug, now, scale
        self.organisations = organisations
        self.place_teams = directory_for(place.pk).place_teams
        self.handlers = {}
        self.language = PROFILES[slug].language

    def handlers_of(self, organisation):
        """The people of the organisation who may be given its cases (demo caseworkers)."""
        if organisation.pk not in self.handlers:
            members = case_assignees(SimpleNamespace(organisation_id=organisation.pk))
            self.handlers[organisation.pk] = [m.user for m in members]
        return self.handlers[organisation.pk]

    def plan(self, draft, decision, case, *, live=False, handed_from=None):
        plan = _Plan(
            draft=draft,
            organisation=decision.organisation,
            decision=decision,
            case=case,
            opened=case.created_at,
            pace=_pace_of(decision.organisation, self.place_teams),
            live=live,
            handed_from=handed_from,
        )
        draft.plans.append(plan)
        return plan

    # -- one case ---------------------------------------------------------------------------

    def live_through(self, plan):
        """Draw what happened to one case from its opening until now."""
        rng = _stream(self.slug, "case", plan.draft.report.reference, plan.organisation.name)
        pace = PACES[plan.pace]
        case, now = plan.case, self.now
        if plan.handed_from is None:
            plan.add(CaseEventKind.CREATED, plan.opened, data=lambda p=plan: _created_data(p))
        else:
            plan.add(
                CaseEventKind.HAND_ON_RECEIVED,
                plan.opened,
                data=lambda p=plan: {
                    "from_case": p.handed_from.case.pk,
                    "from_organisation": p.handed_from.organisation.pk,
                    "decision": p.decision.pk,
                    "level": p.decision.level,
                },
            )
        handlers = self.handlers_of(plan.organisation)
        actor = rng.choice(handlers) if handlers and rng.random() < 0.75 else None
        fate = rng.random()
        acknowledged = plan.opened + timedelta(hours=_median(rng, pace.ack_hours))
        if fate < pace.never_ack or acknowledged > now:
            return
        if rng.random() < 0.7:
            case.status, case.acknowledged_at = CaseStatus.ACKNOWLEDGED, acknowledged
            plan.add(CaseEventKind.ACKNOWLEDGED, acknowledged, actor, _move("new", case.status))
            started = acknowledged + timedelta(hours=_median(rng, pace.start_hours))
        else:
            started = acknowledged  # work started straight away (acknowledging it on the way)
        if actor is not None and rng.random() < 0.8:
            case.assigned_to = actor
            at = min(acknowledged + timedelta(minutes=2), now)
            plan.add(CaseEventKind.ASSIGNED, at, actor, {"from": None, "to": actor.pk})
        if fate < pace.never_ack + pace.never_start or started > now:
            return
        before = case.status
        case.status, case.acknowledged_at = CaseStatus.IN_PROGRESS, case.acknowledged_at or started
        plan.add(CaseEventKind.STARTED, started, actor, _move(before, case.status))
        closing = started + timedelta(days=_median(rng, pace.close_days, 1.0))
        stalled = fate < pace.never_ack + pace.never_start + pace.never_close
        outcome = self._outcome(plan, rng, pace)
        if plan.handed_from is None and rng.random() < pace.hand_on:
            handed = started + timedelta(hours=rng.uniform(2, 96))
            target = self._hand_on_target(plan) if handed <= now else None
            if target is not None:
                organisation, share = target
                plan.draft.organisations.add(organisation.pk)
                plan.hand_on = (organisation, share, handed)
                case.status = CaseStatus.HANDED_ON
                plan.add(
                    CaseEventKind.HANDED_ON,
                    handed,
                    actor,
                    lambda p=plan: {
                        "from": CaseStatus.IN_PROGRESS,
                        "to": CaseStatus.HANDED_ON,
                        "organisation": p.hand_on[0].pk,
                        "case": p.handed_to.case.pk,
                        "level": p.handed_to.decision.level,
                    },
                )
                # The organisation that handed it on waits for news, then closes its case.
                closing = handed + timedelta(days=_median(rng, 10, 1.0))
                stalled = stalled or rng.random() < 0.15
                outcome = (
                    CaseOutcome.REFERRED_TO_POLICE
                    if organisation.type == OrganisationType.POLICE
                    else CaseOutcome.OTHER
                )
        self._note(plan, rng, pace, started, min(closing, now), actor)
        if stalled or closing > now:
            if rng.random() < 0.3:
                at = max(started, min(closing, now) - timedelta(hours=1))
                self._classify(plan, rng, at, actor, None)
            return
        if outcome == CaseOutcome.NOT_HATE_RELATED or rng.random() < 0.8:
            self._classify(plan, rng, closing - timedelta(minutes=30), actor, outcome)
        self._close(plan, closing, outcome, actor)
        reopened = closing + timedelta(days=rng.uniform(1, 20))
        if plan.pace not in CONTENT_PACES and rng.random() < 0.01 and reopened < now:
            case.status, case.outcome, case.closed_at = CaseStatus.IN_PROGRESS, "", None
            plan.add(
                CaseEventKind.REOPENED,
                reopened,
                actor,
                {"from": CaseStatus.CLOSED, "to": CaseStatus.IN_PROGRESS, "outcome": outcome},
            )
            again = reopened + timedelta(days=_median(rng, 7))
            if again < now:
                self._close(plan, again, outcome, actor)

    def _outcome(self, plan, rng, pace):
        """How the case will end. The content desks decide once per mass-reported post."""
        if plan.draft.group is not None and plan.pace in CONTENT_PACES:
            rng = _stream(self.slug, "group", plan.draft.group, plan.organisation.name)
        return _pick(rng, pace.outcomes)

    def _close(self, plan, at, outcome, actor, together_with=None):
        """Close the case; a merged duplicate closes together with the case it was merged
        into, and its event says so (as case_close writes it)."""
        case = plan.case
        data = {"from": str(case.status), "to": CaseStatus.CLOSED, "outcome": outcome}
        case.status, case.outcome, case.closed_at = CaseStatus.CLOSED, outcome, at
        if together_with is not None:
            plan.add(
                CaseEventKind.CLOSED,
                at,
                actor,
                lambda d=data, w=together_with: {**d, "with": w.case.pk},
            )
        else:
            plan.add(CaseEventKind.CLOSED, at, actor, data)

    def _note(self, plan, rng, pace, started, until, actor):
        """Internal notes, written by someone of the organisation (none where it has no demo
        caseworker)."""
        handlers = self.handlers_of(plan.organisation)
        if rng.random() >= pace.notes or not handlers:
            return
        actor = actor or rng.choice(handlers)
        if plan.pace in CONTENT_PACES:
            bank = _EN_CONTENT_NOTES
        else:
            bank = _SV_NOTES if self.language == "sv" else _EN_NOTES
        for _ in range(1 if rng.random() < 0.7 else 2):
            at = started + (until - started) * rng.random()
            note = CaseNote(place=self.place, author=actor, body=rng.choice(bank), created_at=at)
            plan.notes.append(note)
            plan.add(CaseEventKind.NOTE_ADDED, at, actor, lambda n=note: {"note": n.pk})

    def _classify(self, plan, rng, at, actor, outcome):
        """Staff classification (case_classify): verification, verified type and bias, and
        the staff-only ideology axis."""
        case, report = plan.case, plan.draft.report
        if outcome == CaseOutcome.NOT_HATE_RELATED:
            verification = Verification.NOT_HATE_RELATED
        else:
            verification = Verification.VERIFIED if rng.random() < 0.8 else Verification.UNVERIFIED
        verified = verification == Verification.VERIFIED
        kind = report.incident_type
        if verified and rng.random() < 0.12:
            kind = RECLASSIFIED.get(kind, kind)
        bias = [b for b in report.bias if b != "not_sure"]
        if verified and not bias and kind not in LOOSE_BIAS:
            bias = [b for b in [_pick(rng, PROFILES[self.slug].bias)] if b != "not_sure"]
        ideology = ""
        if verified and rng.random() < 0.6:
            key = kind if kind in IDEOLOGY else (bias[0] if bias and bias[0] in IDEOLOGY else "*")
            ideology = _pick(rng, IDEOLOGY[key])
        values = {
            "verification": verification,
            "verified_incident_type": kind if verified else "",
            "verified_bias": sorted(set(bias)) if verified else [],
            "ideology": ideology,
        }
        changed = sorted(name for name, value in values.items() if getattr(case, name) != value)
        if not changed:
            return
        for name, value in values.items():
            setattr(case, name, value)
        case.taxonomy_version = version_in_force(
            at.astimezone(ZoneInfo(self.place.timezone)).date()
        )
        plan.add(CaseEventKind.CLASSIFIED, at, actor, {"fields": changed, **values})

    def _hand_on_target(self, plan):
        """Another organisation to hand the report on to, within the consent (share_for, as
        case_hand_on checks): a specialist charity for the bias, else victim support, the
        police or a community organisation — one that has no decision for the report yet."""
        report, names = plan.draft.report, self.organisations
        bias = set(report.bias)
        wanted = []
        if bias & {"sexual_orientation", "gender_identity"}:
            wanted.append("lgbt")
        if "antisemitism" in bias:
            wanted.append("antisemitism")
        if "anti_muslim" in bias:
            wanted.append("anti_muslim")
        wanted += ["victim_support", "police", "cso"]
        for key in wanted:
            organisation = names.get(key)
            if organisation is None or organisation.pk in plan.draft.organisations:
                continue
            share = share_for(report, organisation, place_team=organisation.pk in self.place_teams)
            if share.allowed and share.level != ShareLevel.CONTENT_ONLY:
                return organisation, share
        return None

    # -- across cases -----------------------------------------------------------------------

    def merge_duplicates(self, plans):
        """Reports of one mass-reported post at a content desk: a later case is merged into
        the first case of the post that is still open when someone looks at it (case_merge:
        into an open case only), and closes with it."""
        groups = defaultdict(list)
        for plan in plans:
            if plan.draft.group is not None and plan.pace in CONTENT_PACES:
                groups[(plan.draft.group, plan.organisation.pk)].append(plan)
        for _key, members in sorted(groups.items(), key=lambda item: item[0]):
            members.sort(key=lambda p: (p.opened, p.draft.report.reference))
            for index, plan in enumerate(members):
                rng = _stream(self.slug, "merge", plan.draft.report.reference)
                at = plan.opened + timedelta(hours=_median(rng, 3, 1.0))
                if at > self.now or rng.random() > 0.85:
                    continue
                into = next(
                    (
                        other
                        for other in members[:index]
                        if other.merged_into is None
                        and other.case.acknowledged_at is not None
                        and other.case.acknowledged_at <= at
                        and (other.case.closed_at is None or other.case.closed_at > at)
                    ),
                    None,
                )
                if into is not None:
                    self._merge(plan, into, at)

    def _merge(self, plan, into, at):
        case = plan.case
        actor = into.case.assigned_to
        plan.events, plan.notes = plan.events[:1], []
        case.status, case.acknowledged_at, case.assigned_to = CaseStatus.NEW, None, None
        case.outcome, case.closed_at = "", None
        case.verification = Verification.DUPLICATE
        case.verified_incident_type, case.verified_bias, case.ideology = "", [], ""
        plan.merged_into = into
        plan.add(
            CaseEventKind.MERGED,
            at,
            actor,
            lambda p=plan: {
                "into": p.merged_into.case.pk,
                "verification_before": Verification.UNVERIFIED,
                "moved": [],
            },
        )
        into.add(CaseEventKind.MERGED, at, actor, lambda p=plan: {"case": p.case.pk, "moved": []})
        if into.case.closed_at is not None:
            self._close(plan, into.case.closed_at, into.case.outcome, actor, together_with=into)

    def hand_on_plans(self, plans):
        """The receiving side of every hand-on (case_hand_on): a sent decision with the reason
        `handed_on` and a case there, `handed_on_from` the case that handed it on."""
        received = []
        for plan in plans:
            if plan.hand_on is None:
                continue
            organisation, share, at = plan.hand_on
            report = plan.draft.report
            decision = RoutingDecision(
                place=self.place,
                report=report,
                organisation=organisation,
                rule=None,
                sent=True,
                level=share.level,
                with_contact=share.with_contact,
                reason=ShareReason.HANDED_ON,
                created_at=at,
            )
            case = Case(place=self.place, report=report, organisation=organisation, created_at=at)
            new = self.plan(plan.draft, decision, case, handed_from=plan)
            plan.handed_to = new
            self.live_through(new)
            received.append(new)
        return received

    def message_threads(self, plans):
        """A few conversations with reporters, on recent cases of organisations that can write
        to them (not content-only ones); the newest end with a reply nobody has read yet."""
        rng = _stream(self.slug, "messages")
        candidates = [
            p
            for p in plans
            if p.case.acknowledged_at is not None
            and p.merged_into is None
            and p.decision.level != ShareLevel.CONTENT_ONLY
            and p.pace not in CONTENT_PACES
            and self.handlers_of(p.organisation)
            and self.now - p.opened < timedelta(days=240)
        ]
        count = min(len(candidates), max(3, min(30, len(candidates) // 40)))
        chosen = sorted(rng.sample(candidates, count), key=lambda p: p.opened) if count else []
        bank = _SV_MESSAGES if self.language == "sv" else _EN_MESSAGES
        for index, plan in enumerate(chosen):
            texts = rng.choice(bank)
            end = plan.case.closed_at or self.now
            at = plan.case.acknowledged_at + timedelta(hours=rng.uniform(1, 8))
            author = plan.case.assigned_to or self.handlers_of(plan.organisation)[0]
            unread = index >= len(chosen) - 2
            for turn, body in enumerate(texts):
                if at >= end:
                    break
                to_reporter = turn % 2 == 0
                read = at + timedelta(hours=rng.uniform(1, 20))
                message = CaseMessage(
                    place=self.place,
                    direction=(
                        MessageDirection.TO_REPORTER
                        if to_reporter
                        else MessageDirection.FROM_REPORTER
                    ),
                    author=author if to_reporter else None,
                    body=body,
                    at=at,
                    read_at=None if read > self.now or (unread and not to_reporter) else read,
                )
                plan.messages.append(message)
                plan.add(
                    CaseEventKind.MESSAGE_SENT if to_reporter else CaseEventKind.MESSAGE_RECEIVED,
                    at,
                    author if to_reporter else None,
                    lambda m=message: {"message": m.pk},
                )
                if unread and not to_reporter:
                    break
                at += timedelta(hours=rng.uniform(6, 60))


def _move(before, after):
    return {"from": str(before), "to": str(after)}


def _created_data(plan):
    decision = plan.decision
    return {"decision": decision.pk, "level": decision.level, "rule": decision.rule_id}


# --------------------------------------------------------------------------------------------
# Writing


@dataclass
class DemoSummary:
    place: str
    created: bool
    reports: int = 0
    live: int = 0
    first_day: date | None = None
    last_day: date | None = None
    cases: dict = field(default_factory=dict)  # status → count
    outcomes: dict = field(default_factory=dict)
    handed_on: int = 0
    merged: int = 0
    messages: int = 0
    trigger: date | None = None
    surge: dict = field(default_factory=dict)  # bias → (weekly before, weekly after, peak week)
    top_urls: list = field(default_factory=list)  # (count, url)
    followup: tuple | None = None  # (reference, code) of a report with messages

    def lines(self):
        if not self.created:
            yield f"{self.place}: demo reports already there ({self.reports} reports); none added"
        else:
            yield (
                f"{self.place}: {self.reports} demo reports from {self.first_day} to "
                f"{self.last_day} ({self.live} of them routed live by report_route)"
            )
        cases = ", ".join(f"{status} {n}" for status, n in self.cases.items())
        yield f"  cases: {sum(self.cases.values())} — {cases}"
        if self.outcomes:
            yield "  outcomes: " + ", ".join(f"{code} {n}" for code, n in self.outcomes.items())
        yield (
            f"  {self.handed_on} handed on, {self.merged} merged as duplicates, "
            f"{self.messages} messages with reporters"
        )
        if self.trigger:
            yield f"  surge after the trigger event of {self.trigger:%A %d %B %Y}: {TRIGGER_TEXT}"
            for bias, (before, after, peak) in self.surge.items():
                ratio = after / max(before, 0.1)
                yield (
                    f"    {bias}: {before:.1f} a week in the year before, {after:.1f} a week in "
                    f"the six weeks after (×{ratio:.1f}; busiest week {peak})"
                )
        if self.top_urls:
            yield "  most reported online content:"
            for count, url in self.top_urls:
                yield f"    {count}× {url}"
        if self.followup:
            reference, code = self.followup
            yield f"  try the follow-up page with reference {reference} and code {code}"


def _marker(slug):
    return _code(_stream(slug, "references"), references.REFERENCE_LENGTH)


@transaction.atomic
def demo_reports_create(*, place, organisations, now=None, scale=1.0) -> DemoSummary:
    """Create the demo reports, routing and cases of `place` (run with the place active), once.

    `organisations` maps the demo's keys (team, police, victim_support, antisemitism,
    anti_muslim, lgbt, cso, platform, referral_unit) to organisations listed in the place; only
    hand-ons use it, routing follows the place's own rules. `scale` multiplies the number of
    reports (1 = the full demo); `now` is the end of the period (default: now).
    """
    now = (now or timezone.now()).replace(microsecond=0)
    slug = place.slug
    if slug not in PROFILES:
        raise ValueError(f"No demo report profile for the place {slug!r}")
    trigger = trigger_date(now.astimezone(ZoneInfo(place.timezone)).date())
    if not PROFILES[slug].surge:
        trigger = None
    if Report.objects.filter(place=place, reference=_marker(slug)).exists():
        return _summary(place, created=False, trigger=trigger)
    drafts = _Drawer(place=place, slug=slug, now=now, scale=scale).draw()
    if not drafts:
        return _summary(place, created=True, trigger=trigger)
    _identify(place, slug, drafts)

    live = drafts[-LIVE_REPORTS:]
    history = drafts[: -len(live)]
    cases = _Cases(place=place, slug=slug, now=now, organisations=organisations, scale=scale)
    routed = _route_in_memory(place, history, cases)
    for plan in routed:
        cases.live_through(plan)
    cases.merge_duplicates(routed)
    handed = cases.hand_on_plans(routed)
    for draft in history:
        _settle_report(draft)

    _insert(Report, [d.report for d in drafts], place=place, key=("reference",))
    _insert(
        ConsentChange,
        [
            ConsentChange(
                place=place,
                report=d.report,
                at=d.report.submitted_at,
                consent={
                    "police_anonymised": d.report.consent_police_anonymised,
                    "police_with_contact": d.report.consent_police_with_contact,
                    "support_contact": d.report.consent_support_contact,
                },
            )
            for d in drafts
        ],
    )
    _write_routing(place, history, routed)
    live_plans = _route_live(place, live, cases)
    plans = routed + handed + live_plans
    cases.message_threads(plans)
    _write_hand_ons(place, handed)
    _write_case_work(place, plans)
    _write_outbox(place, routed + handed + [p for p in live_plans if p.handed_from])
    summary = _summary(place, created=True, trigger=trigger, live=len(live))
    with_messages = [d for d in drafts if any(p.messages for p in d.plans)]
    if with_messages:
        summary.followup = (with_messages[-1].report.reference, with_messages[-1].code)
    return summary


# One decision, and one case, per report and organisation (unique constraints).
DECISION_KEY = ("report_id", "organisation_id")
# What the lifecycle changes on a case that already exists (the live ones, merged duplicates).
CASE_WORK = (
    "status",
    "outcome",
    "assigned_to",
    "verification",
    "verified_incident_type",
    "verified_bias",
    "ideology",
    "taxonomy_version",
    "acknowledged_at",
    "closed_at",
    "merged_into",
    "updated_at",
)


def _identify(place, slug, drafts):
    """Deterministic references (the first is the demo's marker) and follow-up codes."""
    taken = set(Report.objects.filter(place=place).values_list("reference", flat=True))
    refs, codes = _stream(slug, "references"), _stream(slug, "codes")
    for draft in drafts:
        reference = _code(refs, references.REFERENCE_LENGTH)
        while reference in taken:
            reference = _code(refs, references.REFERENCE_LENGTH)
        taken.add(reference)
        draft.code = _code(codes, references.CODE_LENGTH)
        draft.report.reference = reference
        draft.report.followup_code_hash = references.hash_code(draft.code)


def _route_in_memory(place, drafts, cases):
    """The routing engine on every historical report: decisions and cases, not saved yet."""
    # The rules read once (evaluate would rebuild each rule's spec for every report).
    rules = {rule.pk: rule for rule in routing_rule_list(place, active_only=True)}
    specs = [RuleSpec.of(rule) for rule in rules.values()]
    directory = directory_for(place.pk)
    plans = []
    for draft in drafts:
        report = draft.report
        result = evaluate(report, specs, directory=directory)
        routed_at = report.submitted_at + timedelta(seconds=1)
        draft.run = RoutingRun(
            place=place,
            report=report,
            routed_at=routed_at,
            matched_rules=result.matched_rules,
            sent_count=len(result.sent),
        )
        draft.decisions = []
        for item in result.destinations:
            decision = RoutingDecision(
                place=place,
                report=report,
                organisation=item.organisation,
                rule=rules[item.rule.id],
                sent=item.sent,
                level=(item.share.level or "") if item.sent else "",
                with_contact=item.share.with_contact if item.sent else False,
                reason=item.share.reason,
                explanation=item.explanation,
                created_at=routed_at,
            )
            draft.decisions.append(decision)
            draft.organisations.add(item.organisation.pk)
            if item.sent:
                case = Case(
                    place=place,
                    report=report,
                    organisation=item.organisation,
                    created_at=routed_at,
                )
                plans.append(cases.plan(draft, decision, case))
    return plans


def _settle_report(draft):
    """The report's status as the case services leave it."""
    report = draft.report
    if not draft.plans:
        return
    if all(p.case.status == CaseStatus.CLOSED for p in draft.plans):
        report.status = ReportStatus.CLOSED
        report.closed_at = max(p.case.closed_at for p in draft.plans)
    else:
        report.status, report.closed_at = ReportStatus.WITH_ORGANISATIONS, None


def _write_routing(place, drafts, plans):
    _insert(RoutingRun, [d.run for d in drafts])
    decisions = [decision for draft in drafts for decision in draft.decisions]
    _insert(RoutingDecision, decisions, place=place, key=DECISION_KEY)
    for plan in plans:
        plan.case.decision = plan.decision
    _insert(Case, [p.case for p in plans], place=place, key=DECISION_KEY)


def _route_live(place, drafts, cases):
    """The most recent reports through report_route itself; its rows are then dated when the
    report was sent, as they would have been."""
    from locus.cases.services import report_route

    plans = []
    for draft in drafts:
        report = draft.report
        decisions = report_route(report=report)
        routed_at = report.submitted_at + timedelta(seconds=1)
        RoutingRun.objects.filter(place=place, report=report).update(routed_at=routed_at)
        RoutingDecision.objects.filter(place=place, report=report).update(created_at=routed_at)
        Case.objects.filter(place=place, report=report).update(created_at=routed_at)
        CaseEvent.objects.filter(place=place, case__report=report).update(at=routed_at)
        draft.organisations.update(d.organisation_id for d in decisions)
        for case in Case.objects.filter(place=place, report=report).select_related(
            "decision__organisation", "decision__rule"
        ):
            plan = cases.plan(draft, case.decision, case, live=True)
            cases.live_through(plan)
            plans.append(plan)
        plans.extend(cases.hand_on_plans([p for p in draft.plans if p.hand_on]))
        report.refresh_from_db(fields=["status"])
        _settle_report(draft)
        report.save(update_fields=["status", "closed_at"])
    _write_hand_ons(place, [p for p in plans if p.handed_from])
    return plans


def _write_hand_ons(place, plans):
    for plan in plans:
        origin, share = plan.handed_from, plan.handed_from.hand_on[1]
        plan.decision.report_id = plan.case.report_id = plan.draft.report.pk
        plan.decision.explanation = {
            "handed_on": {"case": origin.case.pk, "organisation": origin.organisation.pk},
            "sent": True,
            "share": share.as_dict(),
        }
    _insert(RoutingDecision, [p.decision for p in plans], place=place, key=DECISION_KEY)
    for plan in plans:
        plan.case.decision = plan.decision
        plan.case.handed_on_from = plan.handed_from.case
    _insert(Case, [p.case for p in plans], place=place, key=DECISION_KEY)


def _write_case_work(place, plans):
    """Notes, messages and timelines of every case, the state the live cases reached, merges,
    and each case's last change."""
    CaseNote.objects.bulk_create(
        [_attach(note, p) for p in plans for note in p.notes], batch_size=500
    )
    CaseMessage.objects.bulk_create(
        [_attach(message, p) for p in plans for message in p.messages], batch_size=500
    )
    events = []
    for plan in plans:
        timeline = sorted(plan.events[1:] if plan.live else plan.events, key=lambda e: e[1])
        for kind, at, actor, data in timeline:
            events.append(
                {
                    "place_id": place.pk,
                    "case_id": plan.case.pk,
                    "actor_id": actor.pk if actor is not None else None,
                    "kind": kind,
                    "data": data() if callable(data) else data,
                    "at": at,
                }
            )
    _insert(CaseEvent, events)
    # What changed on cases that were already written, and every case's last change (the
    # insert stamped them with the time of writing).
    changed, stamped = [], []
    for plan in plans:
        if plan.merged_into is not None:
            plan.case.merged_into = plan.merged_into.case
        plan.case.updated_at = max(event[1] for event in plan.events)
        (changed if plan.live or plan.merged_into is not None else stamped).append(plan.case)
    _update(Case, changed, CASE_WORK)
    _update(Case, stamped, ("updated_at",))


def _quoted(name):
    return connection.ops.quote_name(name)


def _execute_many(sql, rows):
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _insert(model, rows, *, place=None, key=()):
    """INSERT many rows with one executemany: the values bulk_create would write (each
    field's pre_save and get_db_prep_save: defaults, JSON, encryption) without the ORM's
    per-value SQL building, which would be most of the demo's run time.

    `rows` are model instances or, for rows nothing refers to, dicts of column values. With
    `key` (attribute names that identify a row in `place`), the new ids are read back onto the
    instances, which then count as saved.
    """
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    values = []
    for row in rows:
        if isinstance(row, dict):
            values.append([f.get_db_prep_save(row[f.attname], connection) for f in fields])
            continue
        for field_ in fields:  # foreign keys to rows saved since the instance was made
            if field_.is_relation and getattr(row, field_.attname) is None:
                related = field_.get_cached_value(row, None)
                if related is not None:
                    setattr(row, field_.attname, related.pk)
        values.append([f.get_db_prep_save(f.pre_save(row, True), connection) for f in fields])
    if not values:
        return
    table = _quoted(model._meta.db_table)
    columns = ", ".join(_quoted(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    # Identifiers from the model's metadata, quoted; every value is a parameter.
    _execute_many(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", values)  # noqa: S608
    if key:
        ids = {
            tuple(found[:-1]): found[-1]
            for found in model.objects.filter(place=place).values_list(*key, "pk")
        }
        for row in rows:
            row.pk = ids[tuple(getattr(row, name) for name in key)]
            row._state.adding, row._state.db = False, connection.alias


def _update(model, objs, names):
    """UPDATE the given fields of saved instances with one executemany (without bulk_update's
    CASE expressions); values prepared as save() would, but auto_now is not applied."""
    fields = [model._meta.get_field(name) for name in names]
    assignments = ", ".join(f"{_quoted(f.column)} = %s" for f in fields)
    table, pk = _quoted(model._meta.db_table), _quoted(model._meta.pk.column)
    rows = [
        [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields] + [obj.pk]
        for obj in objs
    ]
    if rows:
        # Identifiers from the model's metadata, quoted; every value is a parameter.
        _execute_many(f"UPDATE {table} SET {assignments} WHERE {pk} = %s", rows)  # noqa: S608


def _attach(row, plan):
    row.case = plan.case
    return row


def _write_outbox(place, plans):
    """One delivered `report.routed` message per sent decision and endpoint of its
    organisation that existed then, with its delivery attempt (what report_route queues and
    the worker delivers)."""
    from locus.cases.services import _routed_payload  # the payload routing sends

    endpoints = {}
    messages, attempts = [], []
    source_type = RoutingDecision._meta.label_lower
    for plan in plans:
        organisation = plan.organisation
        if organisation.pk not in endpoints:
            endpoints[organisation.pk] = webhook_endpoints_for_event(
                place=place, organisation=organisation, event_type=ROUTED_EVENT
            )
        for endpoint in endpoints[organisation.pk]:
            at = plan.decision.created_at
            if endpoint.created_at > at:
                continue
            delivered = at + timedelta(seconds=2)
            message = OutboxMessage(
                place=place,
                kind=MessageKind.WEBHOOK,
                endpoint=endpoint,
                event_type=ROUTED_EVENT,
                payload=_routed_payload(
                    place=place, report=plan.draft.report, decision=plan.decision, case=plan.case
                ),
                status=MessageStatus.DELIVERED,
                attempts=1,
                next_attempt_at=at,
                created_at=at,
                delivered_at=delivered,
                source_type=source_type,
                source_id=str(plan.decision.pk),
            )
            messages.append(message)
            attempts.append(
                DeliveryAttempt(place=place, message=message, at=delivered, status_code=200)
            )
    OutboxMessage.objects.bulk_create(messages, batch_size=500)
    _insert(DeliveryAttempt, attempts)


# --------------------------------------------------------------------------------------------
# Summary


def _summary(place, *, created, trigger, live=0) -> DemoSummary:
    """What the place holds, read back from the database."""
    reports = Report.objects.filter(place=place)
    cases = Case.objects.filter(place=place)
    status_counts = Counter(cases.values_list("status", flat=True))
    summary = DemoSummary(
        place=place.name,
        created=created,
        reports=reports.count(),
        live=live,
        cases={str(s): status_counts.get(s, 0) for s in CaseStatus.values},
        outcomes=dict(
            Counter(cases.exclude(outcome="").values_list("outcome", flat=True)).most_common()
        ),
        handed_on=cases.filter(handed_on_from__isnull=False).count(),
        merged=cases.filter(merged_into__isnull=False).count(),
        messages=CaseMessage.objects.filter(place=place).count(),
        trigger=trigger,
    )
    dates = reports.order_by("submitted_at").values_list("submitted_at", flat=True)
    if summary.reports:
        tz = ZoneInfo(place.timezone)
        summary.first_day = dates.first().astimezone(tz).date()
        summary.last_day = dates.last().astimezone(tz).date()
    if trigger is not None:
        summary.surge = surge_figures(place, trigger)
    groups = Counter(reports.exclude(content_key="").values_list("content_key", flat=True))
    for key, count in groups.most_common(3):
        if count > 1:  # shown as most people wrote it
            urls = Counter(reports.filter(content_key=key).values_list("content_url", flat=True))
            summary.top_urls.append((count, urls.most_common(1)[0][0]))
    return summary


def weekly_counts(place, bias, *, start, dedupe_groups=True):
    """{week: reports with this bias that happened in it}, weeks counted in whole weeks from
    `start` (negative before it). A mass-reported post counts once (its first report), as the
    insights will count incidents."""
    counts, seen = Counter(), set()
    rows = Report.objects.filter(place=place, occurred_on__isnull=False).order_by("submitted_at")
    for occurred, codes, key in rows.values_list("occurred_on", "bias", "content_key"):
        if bias not in codes:
            continue
        if dedupe_groups and key:
            if key in seen:
                continue
            seen.add(key)
        counts[(occurred - start).days // 7] += 1
    return counts


def surge_figures(place, trigger):
    """bias → (reports a week in the year before the trigger, a week in the six weeks from
    it, the busiest of those weeks)."""
    figures = {}
    for bias in SURGE:
        counts = weekly_counts(place, bias, start=trigger)
        before = [counts.get(-week, 0) for week in range(1, 53)]
        after = [counts.get(week, 0) for week in range(6)]
        figures[bias] = (sum(before) / len(before), sum(after) / len(after), max(after))
    return figures

"""Create the demo world (idempotent): two places in two countries, their areas (with their
populations), organisations of every type with their inbox addresses and handling targets, the
routing rules, a demo account for every role and caseworkers of the partner organisations, and
the demo reports and cases (`locus.core.demo_reports`: about two years for London, a few months
for Malmö; `--scale 0` leaves them out)."""

from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import transaction

from locus.accounts.choices import Role
from locus.accounts.models import Membership, NetworkMembership, User
from locus.accounts.services import membership_create
from locus.core.demo_reports import POPULATION, demo_reports_create
from locus.core.tenancy import place_scope
from locus.directory.choices import OrganisationType
from locus.directory.models import Organisation
from locus.directory.services import directory_load_demo, organisation_list_in_place
from locus.library.services import library_load_demo
from locus.places.models import Area, Network, Place
from locus.places.services import areas_import_from_file

DEMO_PASSWORD = "locus-demo-2026"  # noqa: S105 - published demo credential, demo mode only
DATA = Path(__file__).resolve().parents[3] / "places" / "demo_data"

NETWORKS = [
    {
        "slug": "united-kingdom",
        "name": "United Kingdom",
        "names": {"fr": "Royaume-Uni", "de": "Vereinigtes Königreich", "sv": "Storbritannien"},
        "country": "GB",
    },
    {
        "slug": "sweden",
        "name": "Sweden",
        "names": {"fr": "Suède", "de": "Schweden", "sv": "Sverige"},
        "country": "SE",
    },
]

PLACES = [
    {
        "slug": "london",
        "name": "London",
        "country": "GB",
        "network": "united-kingdom",
        "default_language": "en",
        "timezone": "Europe/London",
        "emergency_number": "999",
        "areas": "london-boroughs.geojson",
        # (name, type, key): the key names the organisation in the routing rules below, in
        # demo_reports (hand-ons) and in its inbox address. Keep the order: accounts use it.
        "organisations": [
            ("London Community Cohesion Team", OrganisationType.LOCAL_AUTHORITY, "team"),
            ("London Police Hate Crime Liaison", OrganisationType.POLICE, "police"),
            ("Neighbours Together London", OrganisationType.CSO, "cso"),
            ("London Hate Crime Victim Support", OrganisationType.VICTIM_SUPPORT, "victim_support"),
            ("Thames Valley Schools Partnership", OrganisationType.SCHOOL, "schools"),
            ("North London Community Health Trust", OrganisationType.HEALTH, "health"),
            ("London Interfaith Forum", OrganisationType.FAITH_GROUP, "faith"),
            ("SafeFeed Trust & Safety (platform)", OrganisationType.COMPANY, "platform"),
            ("Antisemitism Support Line London", OrganisationType.CSO, "antisemitism"),
            ("Anti-Muslim Hate Support London", OrganisationType.CSO, "anti_muslim"),
            ("Rainbow Safety London (LGBT+ anti-violence charity)", OrganisationType.CSO, "lgbt"),
            (
                "Counter-Terrorism Internet Referral Unit",
                OrganisationType.NATIONAL_BODY,
                "referral_unit",
            ),
        ],
    },
    {
        "slug": "malmo",
        "name": "Malmö",
        "country": "SE",
        "network": "sweden",
        "default_language": "sv",
        "timezone": "Europe/Stockholm",
        "emergency_number": "112",
        "areas": "malmo-districts-approximate.geojson",
        "organisations": [
            ("Malmö stad – Trygghet och samverkan", OrganisationType.LOCAL_AUTHORITY, "team"),
            ("Polisen Malmö – Demokrati- och hatbrottsgruppen", OrganisationType.POLICE, "police"),
            ("Föreningen Grannar i Malmö", OrganisationType.CSO, "cso"),
            ("Brottsofferjouren Malmö", OrganisationType.VICTIM_SUPPORT, "victim_support"),
            ("Malmö skolor i samverkan", OrganisationType.SCHOOL, "schools"),
            ("Region Skåne – Vårdcentral Rosengård", OrganisationType.HEALTH, "health"),
            ("Malmö interreligiösa råd", OrganisationType.FAITH_GROUP, "faith"),
            ("SafeFeed Trust & Safety (platform)", OrganisationType.COMPANY, "platform"),
        ],
    },
]

# Works in both places: shows an organisation listed in several places.
NATIONAL_BODY = ("European Network Against Hate (national body)", OrganisationType.NATIONAL_BODY)
NATIONAL_KEY = "network"

# Each place's routing rules (docs/routing.md), created once: (name, conditions, destination
# keys), in order, then the fallback to the city's own team. Specialist charities take their
# community's reports, the police and victim support crimes against the person (each only as
# far as the reporter's consent allows), the platform desk public online content and the
# counter-terrorism referral unit terrorist or violent extremist content.
ROUTING_RULES = {
    "london": (
        [
            (
                "Terrorist or violent extremist content",
                {"incident_type": ["terrorist_extremist_content"]},
                ["referral_unit", "platform"],
            ),
            ("Antisemitic incidents", {"bias": ["antisemitism"]}, ["antisemitism", "police"]),
            ("Anti-Muslim hatred", {"bias": ["anti_muslim"]}, ["anti_muslim", "police"]),
            (
                "Anti-LGBT+ hate",
                {"bias": ["sexual_orientation", "gender_identity"]},
                ["lgbt", "police"],
            ),
            (
                "Violence, threats and damage",
                {"incident_type": ["extreme_violence", "assault", "threat", "damage_desecration"]},
                ["police", "victim_support"],
            ),
            (
                "Abuse and hate propaganda",
                {"incident_type": ["abusive_behaviour", "literature_propaganda"]},
                ["police", "victim_support"],
            ),
            (
                "Discrimination",
                {"incident_type": ["discrimination"]},
                ["team", "victim_support"],
            ),
            (
                "Hate content online",
                {"online": True, "incident_type": ["online_content", "disinformation"]},
                ["platform"],
            ),
        ],
        "Everything else",
    ),
    "malmo": (
        [
            (
                "Terrorpropaganda och våldsbejakande innehåll",
                {"incident_type": ["terrorist_extremist_content"]},
                [NATIONAL_KEY, "platform"],
            ),
            (
                "Religiöst hat",
                {
                    "bias": [
                        "antisemitism",
                        "anti_muslim",
                        "anti_christian",
                        "other_religion_belief",
                    ]
                },
                ["victim_support", "faith", "police"],
            ),
            (
                "Hat mot hbtq-personer",
                {"bias": ["sexual_orientation", "gender_identity"]},
                ["cso", "police"],
            ),
            (
                "Våld och hot",
                {"incident_type": ["extreme_violence", "assault", "threat"]},
                ["police", "victim_support"],
            ),
            ("Innehåll på nätet", {"online": True}, ["platform", "cso"]),
            (
                "Andra hatincidenter",
                {
                    "incident_type": [
                        "abusive_behaviour",
                        "damage_desecration",
                        "literature_propaganda",
                    ]
                },
                ["victim_support", "cso"],
            ),
            ("Diskriminering", {"incident_type": ["discrimination"]}, ["team", "victim_support"]),
        ],
        "Allt annat",
    ),
}

# Handling targets an organisation type sets itself (hours to acknowledge, days to close).
TARGETS = {
    OrganisationType.POLICE: (24, 28),
    OrganisationType.VICTIM_SUPPORT: (48, 30),
    OrganisationType.COMPANY: (24, 7),
    OrganisationType.NATIONAL_BODY: (24, 7),
}
DEFAULT_TARGETS = (72, 30)

# Caseworkers of partner organisations, so their inboxes can be tried: (place, key).
PARTNER_CASEWORKERS = [
    ("london", "police"),
    ("london", "antisemitism"),
    ("london", "anti_muslim"),
    ("london", "lgbt"),
    ("london", "platform"),
]


def demo_organisations(slug):
    """The demo organisations of a place by key (see PLACES), the national body included."""
    spec = next(p for p in PLACES if p["slug"] == slug)
    names = {key: name for name, _type, key in spec["organisations"]}
    names[NATIONAL_KEY] = NATIONAL_BODY[0]
    found = {o.name: o for o in Organisation.objects.filter(name__in=names.values())}
    return {key: found[name] for key, name in names.items() if name in found}


def demo_accounts():
    """(email, name, place slug, organisation index or None for the national body, role)."""
    accounts = []
    for place in PLACES:
        for role in Role:
            org_index = 3 if role == Role.CASEWORKER else 0
            accounts.append(
                (
                    f"{role.value}@{place['slug']}.demo",
                    f"{role.label} ({place['name']})",
                    place["slug"],
                    org_index,
                    role,
                )
            )
    return accounts


class Command(BaseCommand):
    help = "Create or refresh the demo data (safe to run again)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help="Size of the generated report history (1 = the full demo, 0 = no reports)",
        )

    @transaction.atomic
    def handle(self, *args, scale=1.0, **options):
        networks = {
            n["slug"]: Network.objects.update_or_create(
                slug=n["slug"],
                defaults={"name": n["name"], "names": n["names"], "country": n["country"]},
            )[0]
            for n in NETWORKS
        }
        national, _ = Organisation.objects.get_or_create(
            name=NATIONAL_BODY[0], defaults={"type": NATIONAL_BODY[1]}
        )
        orgs_by_place = {}
        for spec in PLACES:
            place, _ = Place.objects.update_or_create(
                slug=spec["slug"],
                defaults={
                    "name": spec["name"],
                    "country": spec["country"],
                    "network": networks[spec["network"]],
                    "default_language": spec["default_language"],
                    "timezone": spec["timezone"],
                    "emergency_number": spec["emergency_number"],
                },
            )
            with place_scope(place):
                summary = areas_import_from_file(
                    place=place,
                    raw=(DATA / spec["areas"]).read_bytes(),
                    name_property="name",
                    code_property="code",
                )
                self._populations(place)
                orgs = []
                for index, (name, org_type, key) in enumerate(spec["organisations"]):
                    organisation, _ = Organisation.objects.get_or_create(
                        name=name, defaults={"type": org_type}
                    )
                    listing = organisation_list_in_place(
                        organisation=organisation, place=place, manages_place=index == 0
                    )
                    self._inbox(listing, place, key)
                    orgs.append(organisation)
                listing = organisation_list_in_place(organisation=national, place=place)
                self._inbox(listing, place, NATIONAL_KEY)
            orgs_by_place[place.slug] = orgs
            with place_scope(place):
                self._routing_rules(place, demo_organisations(place.slug))
            self.stdout.write(
                f"{place.name}: {summary['created'] + summary['updated']} areas, "
                f"{len(orgs) + 1} organisations"
            )

        for email, name, place_slug, org_index, role in demo_accounts():
            user = self._demo_user(email, name)
            membership_create(
                user=user, organisation=orgs_by_place[place_slug][org_index], role=role
            )
        # One person in two organisations and two places, to show the switcher.
        multi = self._demo_user("multi@locus.demo", "Sam Multi (two organisations)")
        membership_create(user=multi, organisation=national, role=Role.ANALYST)
        membership_create(user=multi, organisation=orgs_by_place["london"][2], role=Role.EDITOR)
        network_user = self._demo_user("network@united-kingdom.demo", "National hub viewer")
        NetworkMembership.objects.get_or_create(
            user=network_user, network=networks["united-kingdom"]
        )
        platform = self._demo_user("platform@locus.demo", "Platform administrator")
        platform.is_staff = platform.is_superuser = True
        platform.save(update_fields=["is_staff", "is_superuser"])
        for place_slug, key in PARTNER_CASEWORKERS:
            organisation = demo_organisations(place_slug)[key]
            user = self._demo_user(
                f"caseworker.{key.replace('_', '-')}@{place_slug}.demo",
                f"Caseworker ({organisation.name})",
            )
            membership_create(user=user, organisation=organisation, role=Role.CASEWORKER)
        if scale > 0:
            for spec in PLACES:
                place = Place.objects.get(slug=spec["slug"])
                with place_scope(place):
                    report_summary = demo_reports_create(
                        place=place, organisations=demo_organisations(place.slug), scale=scale
                    )
                for line in report_summary.lines():
                    self.stdout.write(line)
        library = library_load_demo()
        from locus.library.files import library_files_load_demo  # library files (issue 5 §3)

        library_files = library_files_load_demo()
        directory = directory_load_demo()
        self.stdout.write(
            f"Directory: {directory['organisations']} organisations, "
            f"{directory['services']} services, {directory['partnerships']} partnerships"
        )
        self.stdout.write(
            f"Library: {library['created']} resources added, {library['updated']} updated, "
            f"{library['unchanged']} unchanged, {library_files} files attached"
        )
        from locus.library.moderation import library_moderation_load_demo  # issue 5 §4, §6

        moderation_demo = library_moderation_load_demo()
        self.stdout.write(
            f"Library moderation: {moderation_demo['created']} contributions added, "
            f"{moderation_demo['embedded']} records embedded"
        )
        # Context indicators and spike alerts (locus/places/indicator_services.py,
        # locus/alerts/services.py): after the reports, so the detection sees the history.
        from locus.alerts.services import alerts_load_demo
        from locus.places.indicator_services import indicators_load_demo

        for place in Place.objects.filter(slug__in=[p["slug"] for p in PLACES]):
            with place_scope(place):
                lines = indicators_load_demo(place=place) + alerts_load_demo(
                    place=place, organisations=demo_organisations(place.slug)
                )
            for line in lines:
                self.stdout.write(line)
        from locus.insights.services import insights_load_demo  # issue 4 §1, §7

        insights = insights_load_demo()
        self.stdout.write(
            f"Insights: {insights['annotations']} annotations added, "
            f"roll-up of {insights['rollup_rows']} rows built"
        )
        from locus.insights.open_data import open_data_load_demo  # issue 4 §4, §5

        self.stdout.write(open_data_load_demo())
        from locus.programmes.services import programmes_load_demo  # issue 7

        programme = programmes_load_demo()
        self.stdout.write(f"Programmes: {programme or 'none (no demo organisation)'}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: {User.objects.filter(is_demo=True).count()} demo accounts, "
                f"{Membership.objects.count()} memberships"
            )
        )

    def _populations(self, place):
        """Residents per area (for rates per 1,000 residents), where the import gave none."""
        for name, population in POPULATION.get(place.slug, {}).items():
            Area.objects.filter(place=place, name=name, population__isnull=True).update(
                population=population
            )

    def _inbox(self, listing, place, key):
        """An inbox address on the demo domain and the handling targets of its type, unless
        the organisation set its own."""
        changed = []
        if not listing.inbox_email:
            listing.inbox_email = f"inbox.{key.replace('_', '-')}@{place.slug}.demo"
            changed.append("inbox_email")
        if listing.acknowledge_target_hours is None and listing.close_target_days is None:
            hours, days = TARGETS.get(listing.organisation.type, DEFAULT_TARGETS)
            listing.acknowledge_target_hours, listing.close_target_days = hours, days
            changed += ["acknowledge_target_hours", "close_target_days"]
        if changed:
            listing.save(update_fields=changed)

    def _routing_rules(self, place, organisations):
        """The place's rules (ROUTING_RULES), once: a coordinator's later edits are kept."""
        from locus.cases.selectors import routing_rule_list
        from locus.cases.services import routing_rule_save

        if routing_rule_list(place).exists():
            return
        rules, fallback = ROUTING_RULES[place.slug]
        for position, (name, conditions, keys) in enumerate(rules, start=1):
            routing_rule_save(
                place=place,
                actor=None,
                name=name,
                position=position * 10,
                conditions=conditions,
                destinations=[organisations[key] for key in keys],
            )
        routing_rule_save(
            place=place,
            actor=None,
            name=fallback,
            position=1000,
            is_fallback=True,
            conditions={},
            destinations=[organisations["team"]],
        )

    def _demo_user(self, email, name):
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email, DEMO_PASSWORD, name=name)
        user.is_demo = True
        user.name = name
        user.save(update_fields=["is_demo", "name"])
        return user

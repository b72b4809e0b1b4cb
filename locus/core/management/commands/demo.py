"""Create the demo world (idempotent): two places in two countries, their areas, organisations
of every type, and a demo account for every role."""

from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import transaction

from locus.accounts.choices import Role
from locus.accounts.models import Membership, NetworkMembership, User
from locus.accounts.services import membership_create
from locus.core.tenancy import place_scope
from locus.directory.choices import OrganisationType
from locus.directory.models import Organisation
from locus.directory.services import organisation_list_in_place
from locus.places.models import Network, Place
from locus.places.services import areas_import_from_file

DEMO_PASSWORD = "locus-demo-2026"  # noqa: S105 - published demo credential, demo mode only
DATA = Path(__file__).resolve().parents[3] / "places" / "demo_data"

NETWORKS = [
    {"slug": "united-kingdom", "name": "United Kingdom", "country": "GB"},
    {"slug": "sweden", "name": "Sweden", "country": "SE"},
]

PLACES = [
    {
        "slug": "london",
        "name": "London",
        "country": "GB",
        "network": "united-kingdom",
        "default_language": "en",
        "timezone": "Europe/London",
        "areas": "london-boroughs.geojson",
        "organisations": [
            ("London Community Cohesion Team", OrganisationType.LOCAL_AUTHORITY),
            ("London Police Hate Crime Liaison", OrganisationType.POLICE),
            ("Neighbours Together London", OrganisationType.CSO),
            ("London Hate Crime Victim Support", OrganisationType.VICTIM_SUPPORT),
            ("Thames Valley Schools Partnership", OrganisationType.SCHOOL),
            ("North London Community Health Trust", OrganisationType.HEALTH),
            ("London Interfaith Forum", OrganisationType.FAITH_GROUP),
            ("SafeFeed Trust & Safety (platform)", OrganisationType.COMPANY),
        ],
    },
    {
        "slug": "malmo",
        "name": "Malmö",
        "country": "SE",
        "network": "sweden",
        "default_language": "sv",
        "timezone": "Europe/Stockholm",
        "areas": "malmo-districts-approximate.geojson",
        "organisations": [
            ("Malmö stad – Trygghet och samverkan", OrganisationType.LOCAL_AUTHORITY),
            ("Polisen Malmö – Demokrati- och hatbrottsgruppen", OrganisationType.POLICE),
            ("Föreningen Grannar i Malmö", OrganisationType.CSO),
            ("Brottsofferjouren Malmö", OrganisationType.VICTIM_SUPPORT),
            ("Malmö skolor i samverkan", OrganisationType.SCHOOL),
            ("Region Skåne – Vårdcentral Rosengård", OrganisationType.HEALTH),
            ("Malmö interreligiösa råd", OrganisationType.FAITH_GROUP),
            ("SafeFeed Trust & Safety (platform)", OrganisationType.COMPANY),
        ],
    },
]

# Works in both places: shows an organisation listed in several places.
NATIONAL_BODY = ("European Network Against Hate (national body)", OrganisationType.NATIONAL_BODY)


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

    @transaction.atomic
    def handle(self, *args, **options):
        networks = {
            n["slug"]: Network.objects.update_or_create(
                slug=n["slug"], defaults={"name": n["name"], "country": n["country"]}
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
                },
            )
            with place_scope(place):
                summary = areas_import_from_file(
                    place=place,
                    raw=(DATA / spec["areas"]).read_bytes(),
                    name_property="name",
                    code_property="code",
                )
                orgs = []
                for index, (name, org_type) in enumerate(spec["organisations"]):
                    organisation, _ = Organisation.objects.get_or_create(
                        name=name, defaults={"type": org_type}
                    )
                    organisation_list_in_place(
                        organisation=organisation, place=place, manages_place=index == 0
                    )
                    orgs.append(organisation)
                organisation_list_in_place(organisation=national, place=place)
            orgs_by_place[place.slug] = orgs
            with place_scope(place):
                self._routing_rules(place, orgs, national)
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
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: {User.objects.filter(is_demo=True).count()} demo accounts, "
                f"{Membership.objects.count()} memberships"
            )
        )

    def _routing_rules(self, place, orgs, national):
        """A few realistic rules, once: hate incidents to victim support and (with consent)
        the police; online content to the platform desk; everything else to the city team."""
        from locus.cases.selectors import routing_rule_list
        from locus.cases.services import routing_rule_save

        if routing_rule_list(place).exists():
            return
        city, police, cso, victim_support = orgs[0], orgs[1], orgs[2], orgs[3]
        faith, platform = orgs[6], orgs[7]
        rules = [
            (
                "Religious hatred",
                {
                    "bias": [
                        "antisemitism",
                        "anti_muslim",
                        "anti_christian",
                        "other_religion_belief",
                    ]
                },
                [victim_support, faith, police],
            ),
            (
                "Violence and threats",
                {"incident_type": ["extreme_violence", "assault", "threat"]},
                [police, victim_support],
            ),
            ("Online content", {"online": True}, [platform, cso]),
            (
                "Terrorist or violent extremist content",
                {"incident_type": ["terrorist_extremist_content"]},
                [national, platform],
            ),
            (
                "Other hate incidents",
                {
                    "incident_type": [
                        "abusive_behaviour",
                        "damage_desecration",
                        "literature_propaganda",
                        "discrimination",
                    ]
                },
                [victim_support, cso],
            ),
        ]
        for position, (name, conditions, destinations) in enumerate(rules, start=1):
            routing_rule_save(
                place=place,
                actor=None,
                name=name,
                position=position * 10,
                conditions=conditions,
                destinations=destinations,
            )
        routing_rule_save(
            place=place,
            actor=None,
            name="Everything else",
            position=1000,
            is_fallback=True,
            conditions={},
            destinations=[city],
        )

    def _demo_user(self, email, name):
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email, DEMO_PASSWORD, name=name)
        user.is_demo = True
        user.name = name
        user.save(update_fields=["is_demo", "name"])
        return user

"""Platform admin: how a new place gets its first administrator (docs/getting-started.md)."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from locus.accounts.models import Invitation, Membership
from locus.core.testing.factories import OrganisationFactory, PlaceFactory
from locus.directory.choices import OrganisationType
from locus.directory.models import OrganisationListing

ADD = "/admin/accounts/invitation/add/"


@pytest.fixture
def new_team(db):
    """A new place's own team, listed there, with nobody in it yet."""
    place = PlaceFactory(slug="lyon", name="Lyon", country="FR", default_language="fr")
    organisation = OrganisationFactory(name="Ville de Lyon", type=OrganisationType.LOCAL_AUTHORITY)
    OrganisationListing.objects.create(place=place, organisation=organisation, manages_place=True)
    return organisation


def _link(message):
    return re.search(r"http://testserver(/invitations/[^/\s]+/)", message.body).group(1)


def test_adding_an_invitation_sends_one_that_works(
    platform_admin, new_team, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = platform_admin.post(
            ADD,
            {"organisation": new_team.pk, "email": "Admin@Lyon.example", "role": "admin"},
            follow=True,
        )
    assert response.status_code == 200
    invitation = Invitation.objects.get()
    assert invitation.email == "admin@lyon.example"
    assert invitation.invited_by.email == "platform@example.org"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["admin@lyon.example"]
    # In the language of the place the team runs Locus for, not the platform admin's.
    assert message.subject == "Invitation à rejoindre Ville de Lyon sur Locus"
    link = _link(message)
    assert Invitation.hash_secret(link.split("/")[2]) == invitation.secret_hash
    # The link is also shown once to the platform admin, in case the e-mail does not arrive.
    assert link in response.content.decode()

    client.logout()
    accepted = client.post(
        link, {"name": "Claire", "password1": "Lyon-admin-2026!", "password2": "Lyon-admin-2026!"}
    )
    assert accepted.status_code == 302
    membership = Membership.objects.get(user__email="admin@lyon.example")
    assert (membership.organisation, membership.role) == (new_team, "admin")


def test_every_invitation_gets_its_own_secret(
    platform_admin, new_team, django_capture_on_commit_callbacks
):
    for email in ("one@lyon.example", "two@lyon.example"):
        with django_capture_on_commit_callbacks(execute=True):
            response = platform_admin.post(
                ADD, {"organisation": new_team.pk, "email": email, "role": "coordinator"}
            )
        assert response.status_code == 302
    hashes = set(Invitation.objects.values_list("secret_hash", flat=True))
    assert len(hashes) == 2 and "" not in hashes


def test_an_existing_member_is_refused_next_to_the_field(platform_admin, new_team, world):
    member = world.a.users["admin"]
    Membership.objects.create(user=member, organisation=new_team, role="admin")
    response = platform_admin.post(
        ADD, {"organisation": new_team.pk, "email": member.email.upper(), "role": "admin"}
    )
    assert response.status_code == 200
    assert "already a member" in str(response.context["adminform"].form.errors["email"])
    assert not Invitation.objects.exists()


def test_an_invitation_is_not_edited_in_the_admin(
    platform_admin, new_team, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        platform_admin.post(
            ADD, {"organisation": new_team.pk, "email": "a@b.example", "role": "admin"}
        )
    invitation = Invitation.objects.get()
    url = f"/admin/accounts/invitation/{invitation.pk}/change/"
    assert platform_admin.get(url).status_code == 200  # view only
    platform_admin.post(
        url, {"organisation": new_team.pk, "email": "x@y.example", "role": "member"}
    )
    invitation.refresh_from_db()
    assert (invitation.email, invitation.role) == ("a@b.example", "admin")


def test_after_sign_in_the_platform_admin_is_shown_the_way_to_the_admin(platform_admin):
    """A platform admin belongs to no organisation: the workspaces page would otherwise only
    say "ask an administrator of your organisation to invite you"."""
    content = platform_admin.get(reverse("accounts:home")).content.decode()
    assert 'href="/admin/"' in content
    assert "Ask an administrator of your organisation" not in content


def test_other_people_without_a_workspace_are_not_shown_the_admin(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("nobody@example.org", "pw-12345678"))
    content = client.get(reverse("accounts:home")).content.decode()
    assert "/admin/" not in content
    assert "Ask an administrator of your organisation" in content


def test_an_installation_without_places_shows_the_platform_admin_where_to_start(
    platform_admin, client, db
):
    content = platform_admin.get("/").content.decode()
    assert "No place has been set up yet." in content
    assert 'href="/admin/places/place/add/"' in content
    platform_admin.logout()
    assert "/admin/" not in client.get("/").content.decode()


def _admin_index(client, language):
    """The section names of the admin index and, under each, its models' names."""
    import html

    page = client.get("/admin/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    sections = {}
    for table in re.findall(r"<table[^>]*>.*?</table>", page, re.S):
        caption = re.search(r"<caption>\s*<a[^>]*>(.*?)</a>", table, re.S)
        models = re.findall(r'<th scope="row"[^>]*>\s*<a[^>]*>(.*?)</a>', table, re.S)
        sections.setdefault(html.unescape(caption[1].strip()), []).append(
            [html.unescape(m.strip()) for m in models]
        )
    return sections


@pytest.mark.parametrize("language", ["en", "fr", "de", "sv"])
def test_each_section_of_the_admin_has_its_own_name_in_the_reader_s_language(
    platform_admin, language
):
    """allauth's app and Locus's were both "Accounts" (in French "Accounts" beside "Comptes"),
    and Locus's sections and models were English in every language."""
    sections = _admin_index(platform_admin, language)
    assert all(len(tables) == 1 for tables in sections.values()), sections
    english = _admin_index(platform_admin, "en")
    assert "Accounts" not in english and "People and access" in english
    assert english["People and access"][0] == [
        "API tokens",
        "Accounts",
        "Invitations",
        "Network memberships",
    ]
    assert "Groups" not in str(english)  # roles give rights, not Django's groups
    page = platform_admin.get("/admin/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert "Django" not in page.replace("django-", "")  # "Django administration" was its title
    if language == "en":
        assert "<title>Platform administration | Locus</title>" in page
        return
    names = set(sections) | {m for tables in sections.values() for m in tables[0]}
    english_names = set(english) | {m for tables in english.values() for m in tables[0]}
    # Every name is in the reader's language ("Invitations" and "Organisations" are French too).
    assert not names & english_names - {"Invitations", "Organisations"}, names & english_names
    if language == "fr":
        assert "Administration de la plateforme Locus" in page
        assert sections["Personnes et accès"][0] == [
            "Accès aux réseaux",
            "Comptes",
            "Invitations",
            "Jetons d’API",
        ]


FRENCH_MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]
GERMAN_MONTHS = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
]


def _in_zone(moment, zone):
    import zoneinfo

    return moment.astimezone(zoneinfo.ZoneInfo(zone))


def test_the_invitation_says_when_it_expires_in_words_at_the_place_s_time(
    platform_admin, new_team, client, django_capture_on_commit_callbacks
):
    """The e-mail gave a number of days and the Members page a numeric date (in UTC): both now
    give the date in words and the time in the place's time zone, in the reader's language."""
    place = new_team.listings.get().place
    place.timezone = "Europe/Paris"
    place.save()
    with django_capture_on_commit_callbacks(execute=True):
        platform_admin.post(
            ADD, {"organisation": new_team.pk, "email": "admin@lyon.example", "role": "admin"}
        )
    local = _in_zone(Invitation.objects.get().expires_at, "Europe/Paris")
    in_french = f"{local.day} {FRENCH_MONTHS[local.month - 1]} {local.year} à {local:%H:%M}"
    body = mail.outbox[0].body
    assert f"Ouvrez ce lien pour accepter l’invitation avant le {in_french}\u00a0:" in body
    # An administrator sees personal data: told to have an authenticator app ready.
    assert "configurer l’authentification à deux facteurs" in body

    client.logout()
    page = client.get(_link(mail.outbox[0]), HTTP_ACCEPT_LANGUAGE="de")
    in_german = f"{local.day}. {GERMAN_MONTHS[local.month - 1]} {local.year} um {local:%H:%M}"
    assert f"bis zum {in_german} Uhr angenommen werden" in page.content.decode()

"""The platform administration (/admin/) signs people in through Locus's own page (its rate
limits and second factor) and asks platform administrators for two-factor authentication."""

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django.utils.http import urlencode

from locus.core.testing.mfa import continue_link, set_up_authenticator_app
from locus.core.testing.world import enable_totp

PASSWORD = "platform-password-1"


@pytest.fixture
def platform_user(django_user_model, db):
    return django_user_model.objects.create_superuser(
        email="platform@example.org", password=PASSWORD
    )


def test_the_admin_sign_in_form_is_locus_s_sign_in(client, platform_user):
    response = client.get("/admin/login/?next=/admin/outbox/outboxmessage/")
    assert response.status_code == 302
    assert response["Location"] == (reverse("account_login") + "?next=/admin/outbox/outboxmessage/")


def test_a_password_alone_does_not_open_the_admin(client, platform_user):
    """Django admin's form took the password and skipped the second factor."""
    enable_totp(platform_user)
    client.post(
        "/admin/login/?next=/admin/",
        {"username": platform_user.email, "password": PASSWORD, "next": "/admin/"},
    )
    assert SESSION_KEY not in client.session
    assert client.get("/admin/").status_code == 302


def test_without_a_second_factor_the_admin_sends_to_its_set_up(client, platform_user):
    client.force_login(platform_user)
    response = client.get("/admin/places/place/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_activate_totp"))
    assert "next=%2Fadmin%2Fplaces%2Fplace%2F" in response["Location"]
    enable_totp(platform_user)
    assert client.get("/admin/places/place/").status_code == 200


def test_the_demo_platform_account_is_waived_in_demo_mode_only(client, platform_user, settings):
    platform_user.is_demo = True
    platform_user.save()
    client.force_login(platform_user)
    settings.LOCUS_DEMO_MODE = True
    assert client.get("/admin/").status_code == 200
    settings.LOCUS_DEMO_MODE = False
    assert client.get("/admin/").status_code == 302


def test_staff_of_places_still_do_not_enter(client, world):
    client.force_login(world.a.users["admin"])  # a place's administrator, not platform staff
    response = client.get("/admin/", follow=True)
    assert response.status_code == 403
    assert len(response.redirect_chain) == 1  # /admin/login/, then no loop


def _sign_in(client, user, next_url="/accounts/home/"):
    """With the password, as a person does: setting up a second factor right after does not
    ask for it again."""
    return client.post(
        reverse("account_login") + "?" + urlencode({"next": next_url}),
        {"login": user.email, "password": PASSWORD},
        follow=True,
    )


def test_after_setting_up_the_second_factor_the_admin_opens(client, platform_user):
    """Asked for two-factor authentication on the way into /admin/, the person sets it up and
    the recovery codes page leads back to the admin page asked for (it led to the workspaces
    page)."""
    signed_in = _sign_in(client, platform_user, "/admin/outbox/outboxmessage/")
    assert signed_in.redirect_chain[-1][0].startswith(reverse("mfa_activate_totp"))
    codes = set_up_authenticator_app(client, signed_in)
    assert codes.redirect_chain[-1][0].startswith(reverse("mfa_view_recovery_codes"))
    assert "Continue to the platform administration" in codes.content.decode()
    assert continue_link(codes) == "/admin/outbox/outboxmessage/"
    assert client.get(continue_link(codes)).status_code == 200


def test_a_wrong_code_keeps_the_way_back_to_the_admin(client, platform_user):
    page = _sign_in(client, platform_user, "/admin/")
    action = page.context["form_action"]
    refused = client.post(action, {"code": "000000"})
    assert refused.status_code == 200 and refused.context["form"].errors
    assert refused.context["form_action"] == action
    assert "next=%2Fadmin%2F" in action


@pytest.mark.parametrize(
    "next_url", ["https://elsewhere.example/admin/", "//elsewhere.example/", "/\\elsewhere.example"]
)
def test_the_way_on_is_never_another_site(client, platform_user, next_url):
    _sign_in(client, platform_user)
    page = client.get(reverse("mfa_activate_totp") + "?" + urlencode({"next": next_url}))
    assert page.context["form_action"] == reverse("mfa_activate_totp")
    codes = set_up_authenticator_app(client, page)
    assert codes.redirect_chain[-1][0] == reverse("mfa_view_recovery_codes")
    assert continue_link(codes) == reverse("accounts:home")


def test_confirming_the_password_first_keeps_the_way_back_to_the_admin(
    client, platform_user, settings
):
    """Later than ACCOUNT_REAUTHENTICATION_TIMEOUT after signing in, allauth asks for the
    password before the set-up: the page asked for survives that step too."""
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 0
    asked = _sign_in(client, platform_user, "/admin/places/place/")
    assert asked.redirect_chain[-1][0].startswith(reverse("account_reauthenticate"))
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 300  # the password just confirmed counts
    confirmed = client.post(asked.redirect_chain[-1][0], {"password": PASSWORD}, follow=True)
    assert confirmed.redirect_chain[-1][0].startswith(reverse("mfa_activate_totp"))
    codes = set_up_authenticator_app(client, confirmed)
    assert continue_link(codes) == "/admin/places/place/"


def _locus_admins():
    from django.contrib import admin

    for model, model_admin in admin.site._registry.items():
        if model.__module__.startswith("locus."):
            yield model, model_admin
            for inline in model_admin.inlines:
                yield inline.model, None


def test_every_admin_page_names_its_fields_in_the_readers_language():
    """Each Locus model the platform administration shows names itself, its fields (labels,
    list columns, filters), their help and their choices through gettext, so a French, German or
    Swedish operator reads their language throughout: a field without a verbose_name is headed
    by its English attribute name ("created at", "next attempt at") in every language."""
    from django.utils.functional import Promise

    untranslated = []
    for model, model_admin in _locus_admins():
        name = model.__name__
        for text in (model._meta.verbose_name, model._meta.verbose_name_plural):
            if not isinstance(text, Promise):
                untranslated.append(f"{name}: {text}")
        for field in model._meta.get_fields():
            if not field.concrete or field.name == "id":
                continue
            if not isinstance(field.verbose_name, Promise):
                untranslated.append(f"{name}.{field.name}")
            if field.help_text and not isinstance(field.help_text, Promise):
                untranslated.append(f"{name}.{field.name} (help)")
            for value, label in field.flatchoices if field.choices else ():
                if not isinstance(label, Promise):
                    untranslated.append(f"{name}.{field.name}={value}")
        for column in model_admin.list_display if model_admin else ():
            attr = getattr(model_admin, column, None)
            if (
                column != "__str__"
                and callable(attr)
                and not isinstance(getattr(attr, "short_description", ""), Promise)
            ):
                untranslated.append(f"{name} column {column}")
    assert not untranslated, untranslated


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("fr", ["Moyens d’authentification", "Ajouté le", "Application d’authentification (TOTP)"]),
        ("de", ["Authentifizierungsmethoden", "Hinzugefügt am", "Authenticator-App (TOTP)"]),
        ("sv", ["Autentiseringsmetoder", "Tillagd", "Autentiseringsapp (TOTP)"]),
    ],
)
def test_the_authenticators_read_in_the_readers_language(client, platform_user, language, words):
    """allauth's model has no field names of its own: its columns, filters, kinds and page
    titles are Locus's (a platform administrator removes one to reset a second factor)."""
    from django.conf import settings

    enable_totp(platform_user)
    client.force_login(platform_user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = client.get("/admin/mfa/authenticator/").content.decode()
    for word in words:
        assert word in page, word
    for english in ("Created at", "Last used at", "TOTP Authenticator", "Authenticators</li>"):
        assert english not in page, english
    assert not re.search(r"\d authenticators?\b", page)  # the count

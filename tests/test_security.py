"""Security headers, CSP, cookies and the production deployment check."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("url", ["/", "/alpha/", "/accounts/login/"])
def test_security_headers(world, client, url):
    response = client.get(url)
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert "'nonce-" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "camera=()" in response["Permissions-Policy"]


def test_every_script_carries_the_nonce(world, client):
    response = client.get("/alpha/")
    nonce = response["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    html = response.content.decode()
    assert html.count("<script") == html.count(f'nonce="{nonce}"')
    assert " style=" not in html  # no inline style attributes under a strict CSP


def test_pages_reference_no_other_host(world, client):
    for url in ["/", "/alpha/", "/accounts/login/"]:
        html = client.get(url).content.decode()
        for attribute in ("src=", 'href="http', "url("):
            for chunk in html.split(attribute)[1:]:
                target = chunk[:120]
                assert not target.lstrip("\"'").startswith(("http://", "https://", "//")) or (
                    "quick-exit" in html and "data-quick-exit" in chunk[:300]
                ), f"{url} loads {target}"


def test_check_deploy_with_production_settings_is_clean(tmp_path):
    env = os.environ | {
        "LOCUS_ENV": "production",
        "SECRET_KEY": "a-production-secret-key-that-is-long-and-random-0123456789abcdef",
        "ALLOWED_HOSTS": "locus.example.org",
        "LOCUS_FIELD_KEYS": Fernet.generate_key().decode(),
        "LOCUS_BASE_URL": "https://locus.example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "LOCUS_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_warns_when_links_in_e_mails_would_have_no_host(tmp_path):
    """The worker's e-mails ("a report reached your organisation") carry links built from
    LOCUS_BASE_URL; production has no default for it."""
    env = os.environ | {
        "LOCUS_ENV": "production",
        "SECRET_KEY": "a-production-secret-key-that-is-long-and-random-0123456789abcdef",
        "ALLOWED_HOSTS": "locus.example.org",
        "LOCUS_FIELD_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "LOCUS_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    env.pop("LOCUS_BASE_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "locus.W001" in result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"} | {
        "LOCUS_ENV": "production",
        "ALLOWED_HOSTS": "x.org",
        "LOCUS_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_error_pages_use_the_layout(world, client):
    response = client.get("/no-such-place/")
    assert response.status_code == 404
    assert b"Page not found" in response.content
    assert b"skip-link" in response.content


def test_a_form_refused_by_the_csrf_check_says_what_to_do_in_the_readers_language(world):
    """Not Django's bare 'CSRF verification failed': the layout, the quick exit, what happened
    and what to do, in the reader's language (CSRF_FAILURE_VIEW)."""
    from django.test import Client, RequestFactory

    from locus.core.views import csrf_failure

    client = Client(enforce_csrf_checks=True)
    client.cookies["django_language"] = "fr"
    blocked = client.post("/alpha/report/", {"action": "next"})  # cookies blocked: none sent
    assert blocked.status_code == 403
    content = blocked.content.decode()
    assert '<html lang="fr">' in content
    assert "Votre formulaire n’a pas été envoyé" in content
    assert "Les cookies semblent bloqués pour ce site" in content
    assert 'class="quick-exit"' in content
    assert "CSRF" not in content

    client.get("/alpha/report/")  # the cookie is set, the token in the form is another's
    stale = client.post("/alpha/report/", {"action": "next", "csrfmiddlewaretoken": "x" * 64})
    assert stale.status_code == 403
    assert "Cela peut arriver lorsque les cookies du navigateur ont été effacés" in (
        stale.content.decode()
    )

    api = csrf_failure(RequestFactory().post("/api/v1/places/alpha/areas/import"), "no token")
    assert api.status_code == 403
    assert api["Content-Type"] == "application/json"
    assert b'"csrf_failed"' in api.content


def test_a_request_django_cannot_read_gets_the_layout_in_the_readers_language(world, client):
    """A 400 (too many fields, a foreign Host) was Django's bare English "Bad Request (400)"."""
    client.cookies["django_language"] = "de"
    response = client.post("/alpha/report/", {f"field{i}": "1" for i in range(1100)})
    assert response.status_code == 400
    content = response.content.decode()
    assert '<html lang="de">' in content
    assert "Die Anfrage konnte nicht gelesen werden" in content
    assert 'class="quick-exit"' in content
    assert client.get("/alpha/", HTTP_HOST="evil.example").status_code == 400


def test_nothing_shown_to_a_signed_in_person_is_kept_in_the_browser_cache(world, client, in_place):
    """ASVS V14.3.2: a case page (a reporter's account), the API's answers and a new token's
    secret must not stay in the browser's cache after sign-out or the idle timeout."""
    from django.urls import reverse

    from locus.accounts.services import token_create
    from locus.cases.tests.factories import team_case

    case = team_case(world.a)
    caseworker = world.a.users["caseworker"]
    client.force_login(caseworker)
    pages = [
        reverse("cases:detail", args=["alpha", case.pk]),
        reverse("cases:inbox", args=["alpha"]),
        reverse("accounts:tokens", args=["alpha"]),
        "/alpha/",  # a public page, seen signed in
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    response = client.post(reverse("accounts:tokens", args=["alpha"]), {"name": "laptop"})
    assert "no-store" in response["Cache-Control"]
    client.logout()
    _token, secret = token_create(membership=world.a.memberships["caseworker"], name="api")
    response = client.get(
        f"/api/v1/places/alpha/cases/{case.pk}", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    # Anonymous visitors' public pages are left to their own caching.
    assert not client.get("/alpha/").has_header("Cache-Control")
    # A view that chose its own caching keeps it (an evidence file: private, no-store).
    client.force_login(caseworker)
    with in_place(world.a.place):
        evidence = case.report.evidence.get()
    response = client.get(reverse("cases:evidence", args=["alpha", case.pk, evidence.pk]))
    assert response["Cache-Control"] == "private, no-store"


def test_signing_out_ends_the_session_on_the_server(world, client):
    """A copied session cookie (a shared computer, a stolen cookie) opens nothing once its
    owner signed out; signing out is a POST (a link on another site cannot sign anyone out)
    and is audited."""
    from django.conf import settings
    from django.test import Client
    from django.urls import reverse

    from locus.core.models import AuditEvent
    from locus.core.testing.factories import PASSWORD, MembershipFactory, UserFactory

    user = UserFactory()  # no second factor needed: an editor
    MembershipFactory(user=user, organisation=world.a.organisation, role="editor")
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    staff_home = reverse("places:staff_home", args=["alpha"])
    copied = client.cookies[settings.SESSION_COOKIE_NAME].value
    thief = Client()
    thief.cookies[settings.SESSION_COOKIE_NAME] = copied
    assert thief.get(staff_home).status_code == 200
    assert client.get(reverse("account_logout")).status_code == 200  # asks; does not sign out
    assert thief.get(staff_home).status_code == 200
    client.post(reverse("account_logout"))
    response = thief.get(staff_home)
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    assert AuditEvent.objects.filter(action="logout", actor=user).exists()


def test_password_reset_answers_the_same_whether_the_address_has_an_account(world, client):
    """No enumeration of staff addresses through the reset form: the same answer either way
    (the owner of an unknown address is told by e-mail that it has no account)."""
    from django.core import mail
    from django.urls import reverse

    url = reverse("account_reset_password")
    known = client.post(url, {"email": world.a.users["caseworker"].email})
    unknown = client.post(url, {"email": "nobody@alpha.test"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [world.a.users["caseworker"].email, "nobody@alpha.test"]
    )


def test_changing_the_password_signs_out_the_persons_other_sessions(world, client):
    """After a password change (it may have leaked), a session opened elsewhere before it ends;
    the session it was changed in goes on."""
    from django.test import Client
    from django.urls import reverse

    from locus.core.testing.factories import PASSWORD, MembershipFactory, UserFactory

    user = UserFactory()
    MembershipFactory(user=user, organisation=world.a.organisation, role="editor")
    elsewhere = Client()
    for browser in (client, elsewhere):
        browser.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    staff_home = reverse("places:staff_home", args=["alpha"])
    assert elsewhere.get(staff_home).status_code == 200
    new = "a-new-password-nobody-knows-42"
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": new, "password2": new},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert client.get(staff_home).status_code == 200
    response = elsewhere.get(staff_home)
    assert response.status_code == 302  # sent to sign in
    assert response["Location"].startswith(reverse("account_login"))


def test_every_cookie_is_out_of_scripts_reach_and_not_sent_from_other_sites(world, client):
    """docs/operations.md: the session, the CSRF token and the chosen language (the device
    cookie: locus/reporting/tests/test_device_cookie.py) are HttpOnly and SameSite=Lax."""
    from django.conf import settings
    from django.urls import reverse

    from locus.core.testing.factories import PASSWORD, MembershipFactory, UserFactory

    client.get(reverse("account_login"))
    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    user = UserFactory()
    MembershipFactory(user=user, organisation=world.a.organisation, role="editor")
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    names = (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME, settings.LANGUAGE_COOKIE_NAME)
    for name in names:
        cookie = client.cookies[name]
        assert cookie.value, name
        assert cookie["httponly"] and cookie["samesite"] == "Lax", name


def test_production_cookies_are_secure_and_https_is_enforced(tmp_path):
    env = os.environ | {
        "LOCUS_ENV": "production",
        "SECRET_KEY": "a-production-secret-key-that-is-long-and-random-0123456789abcdef",
        "ALLOWED_HOSTS": "locus.example.org",
        "LOCUS_FIELD_KEYS": Fernet.generate_key().decode(),
        "LOCUS_BASE_URL": "https://locus.example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "LOCUS_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    names = [
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "LANGUAGE_COOKIE_SECURE",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    ]
    script = (
        "import django; django.setup(); from django.conf import settings; "
        f"print(*[getattr(settings, n) for n in {names!r}])"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    values = result.stdout.split()
    assert values[:4] == ["True"] * 4 and int(values[4]) >= 31536000 and values[5] == "True"


OFF_SITE = ["https://evil.example/", "//evil.example/", "/\\evil.example", "http:evil.example"]


@pytest.mark.parametrize("target", OFF_SITE)
def test_no_redirect_leads_to_another_site(world, client, target):
    """Open redirects: sign-in (also through /admin/login/), the language switch and its
    Referer fallback only ever send people to a page of Locus."""
    from urllib.parse import urlsplit

    from django.urls import reverse

    from locus.core.testing.factories import PASSWORD, MembershipFactory, UserFactory

    def assert_local(response):
        location = response.get("Location", "")
        assert response.status_code in (302, 303) and location, response.status_code
        parts = urlsplit(location)
        assert not parts.scheme and not parts.netloc and location.startswith("/"), location
        assert not location.startswith(("//", "/\\")), location

    assert_local(client.post("/i18n/setlang/", {"language": "fr", "next": target}))
    assert_local(client.post("/i18n/setlang/", {"language": "de"}, headers={"Referer": target}))
    user = UserFactory()
    MembershipFactory(user=user, organisation=world.a.organisation, role="editor")
    login = client.get("/admin/login/?" + f"next={target}")["Location"]
    assert_local(client.post(login, {"login": user.email, "password": PASSWORD}))
    client.logout()
    url = reverse("account_login") + "?" + f"next={target}"
    assert_local(client.post(url, {"login": user.email, "password": PASSWORD, "next": target}))

"""Security headers, cookies, CSP and CSRF with the production settings.

The production values are read from portal/settings.py itself, imported in a subprocess with the
production environment (DEBUG=0, as tests/test_infra.py runs manage.py), and applied to the test
process with override_settings — so a change to the production settings is what these tests see.
Requests are made over HTTPS (`secure=True`), as behind the bureau's TLS proxy.

- HSTS (a year, subdomains), nosniff, Referrer-Policy, X-Frame-Options DENY, a CSP without
  'unsafe-inline'/'unsafe-eval' for scripts; plain HTTP is redirected to HTTPS.
- The session and CSRF cookies of a real login: Secure, HttpOnly, SameSite.
- Every main page, rendered for every role of the cast: no inline <script>, no on*= handler, no
  style="" attribute, no javascript: URL; every <form method="post"> carries csrfmiddlewaretoken.
- Every URL pattern of the portal (admin and API included) refuses a POST without a CSRF token (403)
  from a logged-in browser session.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from hazards.choices import HazardLevel, HazardStatus
from hazards.criteria import load_catalogue_file
from hazards.models import Hazard, MajorHazardCriterion
from inspections.models import Campaign
from portal.models import User
from tests.conftest import Cast, World
from tests.hazards.conftest import make_hazard

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "Portal-Test-2024!"  # tests/factories.py
PRODUCTION_KEYS = [
    "DEBUG", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "CSRF_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE", "CSRF_COOKIE_SAMESITE", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD", "SECURE_SSL_REDIRECT", "SECURE_REDIRECT_EXEMPT", "SECURE_PROXY_SSL_HEADER",
    "SECURE_CONTENT_TYPE_NOSNIFF", "SECURE_REFERRER_POLICY", "SECURE_CROSS_ORIGIN_OPENER_POLICY",
    "X_FRAME_OPTIONS", "CONTENT_SECURITY_POLICY", "MIDDLEWARE",
]  # fmt: skip


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The security settings of portal/settings.py under the production environment."""
    tmp = tmp_path_factory.mktemp("prod-settings")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "DEBUG"}}
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings", DEBUG="0", SECRET_KEY="x" * 60, ALLOWED_HOSTS="testserver",
        PORTAL_VAR_DIR=str(tmp), DATABASE_URL=f"sqlite:///{tmp}/db.sqlite3",
    )  # fmt: skip
    code = (
        "import json, sys; from django.conf import settings; import django; django.setup(); "
        f"json.dump({{k: getattr(settings, k) for k in {PRODUCTION_KEYS!r}}}, sys.stdout)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True)
    values = json.loads(done.stdout)
    if values["SECURE_PROXY_SSL_HEADER"] is not None:
        values["SECURE_PROXY_SSL_HEADER"] = tuple(values["SECURE_PROXY_SSL_HEADER"])
    return values


@pytest.fixture
def prod(production: dict[str, Any]) -> Any:
    with override_settings(**production):
        yield production


def test_the_production_settings_ask_for_https_and_secure_cookies(production: dict[str, Any]) -> None:
    assert production["DEBUG"] is False
    assert production["SECURE_HSTS_SECONDS"] >= 31536000
    assert production["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert production["SECURE_SSL_REDIRECT"] is True
    assert production["SESSION_COOKIE_SECURE"] is True and production["CSRF_COOKIE_SECURE"] is True
    assert production["SESSION_COOKIE_HTTPONLY"] is True
    assert production["SESSION_COOKIE_SAMESITE"] in ("Lax", "Strict")
    assert production["CSRF_COOKIE_SAMESITE"] in ("Lax", "Strict")
    assert production["X_FRAME_OPTIONS"] == "DENY"


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def assert_security_headers(response: Any) -> None:
    hsts = response.headers.get("Strict-Transport-Security", "")
    assert re.fullmatch(r"max-age=(\d+); includeSubDomains(; preload)?", hsts), hsts
    assert int(hsts.split(";")[0].split("=")[1]) >= 31536000
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    csp = csp_directives(response.headers["Content-Security-Policy"])
    scripts = csp.get("script-src", csp.get("default-src"))
    assert scripts == ["'self'"], scripts
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    for sources in csp.values():
        assert "'unsafe-inline'" not in sources and "'unsafe-eval'" not in sources, csp


def test_headers_on_pages_for_anonymous_and_logged_in_users(prod: Any, cast: Cast) -> None:
    anonymous = Client()
    assert_security_headers(anonymous.get("/login/", secure=True))
    client = Client()
    client.force_login(cast.county_staff)
    for url in ("/", "/enterprises/", "/hazards/", "/api/v1/me/"):
        response = client.get(url, secure=True)
        assert response.status_code == 200, url
        assert_security_headers(response)


def test_plain_http_is_redirected_to_https(prod: Any, db: None) -> None:
    response = Client().get("/login/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/login/"
    assert Client().get("/healthz").status_code == 200  # the load balancer's probe stays on HTTP


def test_login_sets_secure_httponly_samesite_cookies(prod: Any, cast: Cast) -> None:
    client = Client(enforce_csrf_checks=True)
    page = client.get("/login/", secure=True)
    csrf = page.cookies[prod_cookie_name("csrf")]
    assert csrf["secure"] and csrf["httponly"] and csrf["samesite"] == prod["CSRF_COOKIE_SAMESITE"]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)  # type: ignore[union-attr]
    response = client.post(
        "/login/",
        {"username": cast.county_staff.username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        secure=True,
        HTTP_REFERER="https://testserver/login/",  # over HTTPS, Django also checks the Referer (browsers send it)
    )
    assert response.status_code == 302, response.content.decode()[:500]
    session = response.cookies[prod_cookie_name("session")]
    assert session.value
    assert session["secure"] and session["httponly"] and session["samesite"] == prod["SESSION_COOKIE_SAMESITE"]
    # The login rotated the CSRF token too (a token seen before login is worth nothing after it).
    assert response.cookies[prod_cookie_name("csrf")].value != csrf.value


def prod_cookie_name(kind: str) -> str:
    from django.conf import settings

    return str(settings.SESSION_COOKIE_NAME if kind == "session" else settings.CSRF_COOKIE_NAME)


# --- rendered pages: no inline script or style, a CSRF token in every POST form ------------------------


class PageAudit(HTMLParser):
    """Inline scripts, event handlers, style attributes, javascript: URLs; POST forms without a token."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.post_forms: list[dict[str, Any]] = []
        self._form: dict[str, Any] | None = None
        self._script_inline = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> event handler attribute")
            if name == "style":
                self.problems.append(f'<{tag} style="{value}"> inline style attribute')
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"<{tag} {name}={value}> javascript: URL")
        if tag == "script":
            kind = (names.get("type") or "").lower()
            self._script_inline = not names.get("src") and kind not in ("application/json", "application/ld+json")
        if tag == "form" and (names.get("method") or "get").lower() == "post":
            self._form = {"action": names.get("action") or "", "token": False}
            self.post_forms.append(self._form)
        if tag == "input" and self._form is not None and names.get("name") == "csrfmiddlewaretoken":
            self._form["token"] = bool(names.get("value"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        if tag == "script":
            self._script_inline = False

    def handle_data(self, data: str) -> None:
        if self._script_inline and data.strip():
            self.problems.append(f"inline <script>: {data.strip()[:80]}")


@pytest.fixture
def page_data(world: World, cast: Cast) -> dict[str, int]:
    """Objects behind the detail pages: a major hazard of enterprise_a, a general one, a seed campaign."""
    if not MajorHazardCriterion.objects.exists():
        load_catalogue_file()
    major = make_hazard(world.enterprise_a, status=HazardStatus.REPORTED)
    make_hazard(world.enterprise_a, level=HazardLevel.GENERAL)
    campaign = Campaign.objects.order_by("pk").first()
    assert campaign is not None
    return {"enterprise": world.enterprise_a.pk, "hazard": major.pk, "campaign": campaign.pk}


def main_pages(ids: dict[str, int]) -> list[str]:
    return [
        "/", "/login/", "/password/", "/enterprises/", f"/enterprises/{ids['enterprise']}/", "/enterprises/import/",
        "/audit/", "/otp/", "/otp/enrol/", "/hazards/", "/hazards/new/", "/hazards/queue/", "/hazards/notifications/",
        f"/hazards/{ids['hazard']}/", "/hazards/ledger/", "/inspections/", f"/inspections/campaigns/{ids['campaign']}/",
        f"/inspections/campaigns/{ids['campaign']}/self-checks/", f"/inspections/campaigns/{ids['campaign']}/progress/",
        f"/inspections/campaigns/{ids['campaign']}/deliverables/", "/inspections/coverage/", "/inspections/warnings/",
        "/inspections/enforcement/", "/inspections/enforcement/new/", "/inspections/enforcement/import/",
        "/inspections/talks/", "/inspections/inspections/", "/inspections/inspections/new/", "/inspections/teams/",
        "/inspections/exams/", "/inspections/exams/new/", "/inspections/duty-logs/", "/inspections/duty-logs/new/",
        "/reports/", "/reports/dashboard/", "/reports/dashboard/hazards/", "/api/docs/", "/admin/",
    ]  # fmt: skip


def test_pages_have_no_inline_script_and_csrf_in_every_post_form(prod: Any, cast: Cast, page_data: Any) -> None:
    superuser = User.objects.create_superuser(username="root", password=PASSWORD, role=cast.admin.role)
    users = {**cast.all(), "superuser": superuser, "anonymous": None}
    problems: list[str] = []
    rendered: set[str] = set()
    forms = 0
    for who, user in users.items():
        client = Client()
        if user is not None:
            client.force_login(user)
        for url in main_pages(page_data):
            response = client.get(url, secure=True)
            if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
                continue
            rendered.add(url)
            audit = PageAudit()
            audit.feed(response.content.decode())
            problems += [f"{who} {url}: {p}" for p in audit.problems]
            for form in audit.post_forms:
                forms += 1
                if not form["token"]:
                    problems.append(
                        f"{who} {url}: <form method=post action={form['action']!r}> without csrfmiddlewaretoken"
                    )
    assert not problems, "\n".join(problems)
    # The walk saw the pages it was meant to see (a login redirect everywhere would pass vacuously).
    assert len(rendered) >= 30, sorted(set(main_pages(page_data)) - rendered)
    assert forms >= 50


def test_hazard_badges_escape_an_unknown_level(db: None) -> None:
    from django.utils import timezone

    from hazards.views import hazard_badges_html

    html = hazard_badges_html(Hazard(level="<script>x</script>", status="reported"), timezone.localdate())
    assert "<script>" not in html and "&lt;script&gt;" in html


# --- CSRF on every URL that accepts a POST -----------------------------------------------------------

# Routes that answer a POST without a browser session's CSRF token, each for a reason.
CSRF_FREE = {
    # The API's token login: no cookie is read (credentials in the body, a token in the answer), so there
    # is no ambient authority to forge; DRF's SessionAuthentication is not among its classes.
    "api/v1/auth/token/": "token login, reads no cookie",
}


def url_patterns(resolver: URLResolver | None = None, prefix: str = "") -> list[tuple[str, str]]:
    """(route, URL to request) for every pattern: converters and regex groups filled with a sample value."""
    resolver = resolver or get_resolver()
    found = []
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found += url_patterns(pattern, route)
        elif isinstance(pattern, URLPattern):
            found.append((route, sample_url(route)))
    return found


def sample_url(route: str) -> str:
    url = re.sub(r"\(\?P<format>[^)]*\)\??", "", route)
    url = re.sub(r"\(\?P<\w+>(\w+)\|[^)]*\)", r"\1", url)  # the admin's (?P<app_label>auth|portal|…)
    url = re.sub(r"\(\?P<\w+>[^)]*\)", "1", url)  # DRF's router: (?P<pk>[^/]+)
    url = re.sub(r"<uuid:\w+>", str(uuid.uuid4()), url)
    url = re.sub(r"<int:\w+>", "1", url)
    url = re.sub(r"<(?:str|slug|path):\w+>|<\w+>", "x", url)
    url = url.replace("^", "").replace("$", "").replace("\\.", ".")
    return "/" + url


def test_every_url_refuses_a_post_without_csrf_token(prod: Any, cast: Cast) -> None:
    superuser = User.objects.create_superuser(username="root", password=PASSWORD, role=cast.admin.role)
    accepted = []
    checked = 0
    for who in (cast.county_staff, superuser):
        client = Client(enforce_csrf_checks=True)
        client.force_login(who)
        client.get("/", secure=True)  # a CSRF cookie, as a browser has one: only the token is missing
        for route, url in url_patterns():
            if route in CSRF_FREE or "(?P<format>" in route:
                continue
            # The sample URL reaches that very pattern (an unresolved URL is a 404 before any CSRF check).
            assert resolve(url).route.replace("^", "") == route.replace("^", ""), (route, url)
            response = client.post(url, {"name": "x"}, secure=True)
            checked += 1
            if response.status_code != 403:
                accepted.append(f"{who.username} POST {url} ({route}) → {response.status_code}")
    assert not accepted, "\n".join(accepted)
    assert checked > 400


def test_the_csrf_free_routes_exist_and_are_cookie_free(prod: Any, cast: Cast) -> None:
    routes = {route for route, _ in url_patterns()}
    assert set(CSRF_FREE) <= routes
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.county_staff)
    # A logged-in browser session gives the token login nothing: without credentials it is a 400.
    response = client.post("/api/v1/auth/token/", {}, content_type="application/json", secure=True)
    assert response.status_code == 400

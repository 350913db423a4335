"""Security headers on every response (API, pages, static files), and the TLS settings' effect."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from rest_framework.test import APIClient

from tests.web.conftest import PASSWORD

pytestmark = pytest.mark.django_db

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}

TLS = override_settings(
    SECURE_HSTS_SECONDS=31_536_000,
    SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
    SECURE_SSL_REDIRECT=True,
    SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
    SESSION_COOKIE_SECURE=True,
    CSRF_COOKIE_SECURE=True,
)


def assert_security_headers(response: object, what: str) -> None:
    for name, value in HEADERS.items():
        assert response[name] == value, (what, name)  # type: ignore[index]


def test_api_responses_carry_the_security_headers(api: APIClient) -> None:
    for what, response in [
        ("api 200", api.get("/api/v1/auth/whoami/")),
        ("api 401", APIClient().get("/api/v1/auth/whoami/")),
        ("api 404", api.get("/api/v1/nothing/")),
        ("api 400", api.get("/api/v1/runs/?page_size=0")),
        ("schema", api.get("/api/v1/schema/")),
        ("api 414", api.get("/api/v1/runs/?tag=" + "x" * 40_000)),
    ]:
        assert_security_headers(response, what)
        assert "Strict-Transport-Security" not in response  # plain HTTP: no HSTS


def test_pages_and_static_files_carry_the_security_headers(client: Client, two_teams: object) -> None:
    signed_in = Client()
    signed_in.post("/login/", {"username": "alice", "password": PASSWORD})
    for what, response in [
        ("sign-in page", client.get("/login/")),
        ("redirect to sign-in", client.get("/")),
        ("home page", signed_in.get("/")),
        ("404 page", signed_in.get("/nobody/nothing/")),
        ("static file", client.get("/static/web/web.css")),
        ("health check", client.get("/healthz")),
    ]:
        assert response.status_code in (200, 302, 404), what
        assert_security_headers(response, what)


@TLS
def test_behind_tls_plain_http_is_redirected_except_the_health_check(client: Client) -> None:
    response = client.get("/login/?next=/")
    assert response.status_code == 301 and response["Location"] == "https://testserver/login/?next=/"
    assert client.get("/api/v1/auth/whoami/")["Location"] == "https://testserver/api/v1/auth/whoami/"
    assert client.get("/healthz").status_code == 200  # the container's own check over plain HTTP


@TLS
def test_behind_tls_responses_carry_hsts_and_cookies_are_secure(two_teams: object) -> None:
    browser = Client(headers={"X-Forwarded-Proto": "https"})  # as the TLS-terminating proxy says
    page = browser.get("/login/")
    assert page.status_code == 200
    assert_security_headers(page, "sign-in page over TLS")
    assert page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert page.cookies["csrftoken"]["secure"]
    signed_in = browser.post("/login/", {"username": "alice", "password": PASSWORD})
    assert signed_in.status_code == 302 and signed_in.cookies["sessionid"]["secure"]
    api = APIClient(headers={"X-Forwarded-Proto": "https"}).get("/api/v1/auth/whoami/")
    assert api.status_code == 401 and api["Strict-Transport-Security"].startswith("max-age=31536000")

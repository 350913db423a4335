"""The request limits on the sign-in pages and every form-posting page: a huge or malformed
request gets a 4xx page (or the form again, with its error), never a 500."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.test import Client, override_settings

from server.accounts.models import ApiToken
from server.accounts.services import token_create
from server.core.errors import InvalidInput
from tests.web.conftest import PASSWORD, sign_in

pytestmark = pytest.mark.django_db
small_bodies = override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=4096, SEEDBOARD_THROTTLE_ENABLED=False)


def browser(*, signed_in: bool = False) -> Client:
    """A client that checks CSRF tokens like a browser's requests are checked, and sees 500s as responses."""
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    if signed_in:
        sign_in(client, "alice")
    client.get("/tokens/" if signed_in else "/login/")  # the CSRF cookie
    return client


def post(client: Client, path: str, data: dict[str, str] | bytes, **kwargs: str) -> object:
    if isinstance(data, dict):
        data = {**data, "csrfmiddlewaretoken": client.cookies["csrftoken"].value}
    return client.post(path, data, **kwargs)


def assert_page(response: object, status: int, text: str) -> None:
    assert response.status_code == status, response.content[:300]  # type: ignore[attr-defined]
    assert response["Content-Type"].startswith("text/html")  # type: ignore[index]
    assert text in response.content.decode()  # type: ignore[attr-defined]


@small_bodies
def test_a_sign_in_post_over_the_body_limit_gets_a_413_page(two_teams: object) -> None:
    response = post(browser(), "/login/", {"username": "alice", "password": "x" * 5000})
    assert_page(response, 413, "Request too large")
    assert not AccessAttempt.objects.exists()  # never reached authentication


@override_settings(DATA_UPLOAD_MAX_NUMBER_FIELDS=100, SEEDBOARD_THROTTLE_ENABLED=False)
def test_a_sign_in_post_with_too_many_fields_gets_a_400_page(two_teams: object) -> None:
    response = post(browser(), "/login/", {f"f{i}": "" for i in range(101)})
    assert_page(response, 400, "Bad request")


@small_bodies
@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"garbage", "multipart/form-data"),  # no boundary
        (b'--zz\r\nContent-Disposition: form-data; name="username"\r\n\r\nalice', "multipart/form-data; boundary=zz"),
    ],
)
def test_a_malformed_multipart_sign_in_gets_a_4xx_page(two_teams: object, body: bytes, content_type: str) -> None:
    response = post(browser(), "/login/", body, content_type=content_type)
    assert 400 <= response.status_code < 500  # type: ignore[attr-defined]
    assert response["Content-Type"].startswith("text/html")  # type: ignore[index]


@small_bodies
@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"username": "al\x00ice", "password": PASSWORD}, "username"),
        ({"username": "alice", "password": "x\x00"}, "password"),
    ],
)
def test_a_nul_in_the_sign_in_form_gets_a_400_page(two_teams: object, data: dict[str, str], field: str) -> None:
    client = browser()
    assert_page(post(client, "/login/", data), 400, f"{field}: no NUL characters")
    assert client.get("/").status_code == 302  # not signed in
    assert not AccessAttempt.objects.exists()


@small_bodies
@pytest.mark.parametrize("data", [{"username": "\xff\ufffe", "password": "x"}, {"username": "", "password": ""}])
def test_odd_or_empty_sign_in_fields_show_the_form_again(two_teams: object, data: dict[str, str]) -> None:
    client = browser()
    assert_page(post(client, "/login/", data), 200, 'name="username"')
    assert client.get("/").status_code == 302  # not signed in


@small_bodies
def test_a_username_longer_than_any_account_counts_as_a_failure_not_an_error(two_teams: object) -> None:
    client = Client(REMOTE_ADDR="192.0.2.30", raise_request_exception=False)
    statuses = [client.post("/login/", {"username": "u" * 3000, "password": "x"}).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    assert AccessAttempt.objects.get().username == "u" * 255


@small_bodies
def test_a_nul_or_an_overlong_query_string_on_the_sign_in_page_gets_an_error_page(two_teams: object) -> None:
    client = browser()
    assert_page(client.get("/login/?next=%00"), 400, "next: no NUL characters")
    assert_page(post(client, "/login/?next=/%00", {"username": "alice", "password": PASSWORD}), 400, "Bad request")
    assert_page(client.get("/login/?next=" + "a" * 40_000), 414, "longer than 32768 characters")
    assert client.get("/").status_code == 302  # nobody signed in on the way
    api = client.get("/api/v1/auth/whoami/?x=%00")
    assert api.status_code == 400 and api.json()["error"] == {
        "code": "invalid", "message": "x: no NUL characters", "field": "x"
    }  # fmt: skip


@small_bodies
def test_a_nul_in_a_page_path_gets_a_400_page(two_teams: object) -> None:
    client = browser(signed_in=True)
    for path in ["/%00/vision/", "/acme/%00/variants/", "/acme/vi%00sion/"]:
        assert_page(client.get(path), 400, "The path may not contain NUL characters")
    assert_page(post(client, "/tokens/%00/revoke/", {}), 400, "Bad request")
    assert client.get("/api/v1/projects/acme/%00/").json()["error"]["code"] == "invalid"


@small_bodies
def test_signing_out_with_an_oversized_post_gets_a_413_page_and_keeps_the_session(two_teams: object) -> None:
    client = browser(signed_in=True)
    assert_page(post(client, "/logout/", {"padding": "x" * 5000}), 413, "Request too large")
    assert client.get("/").status_code == 200
    assert post(client, "/logout/", {}).status_code == 302  # type: ignore[attr-defined]


@small_bodies
def test_the_tokens_form_refuses_a_nul_or_oversized_name_with_a_page(two_teams: object) -> None:
    client = browser(signed_in=True)
    before = ApiToken.objects.count()
    assert_page(post(client, "/tokens/", {"name": "lap\x00top"}), 400, "name: no NUL characters")
    assert_page(post(client, "/tokens/", {"name": "x" * 5000}), 413, "Request too large")
    assert ApiToken.objects.count() == before


@small_bodies
@pytest.mark.parametrize("field", ["project", "metric", "variant", "task", "baseline"])
def test_the_comparison_form_refuses_a_nul_in_any_field_with_a_page(two_teams: object, field: str) -> None:
    client = browser(signed_in=True)
    data = {"project": "acme/vision", "metric": "val/acc", "variant": "resnet18", "task": "", "baseline": ""}
    assert_page(post(client, "/compare/new/", {**data, field: data[field] + "\x00"}), 400, f"{field}: no NUL")


def test_the_token_service_refuses_a_nul_in_a_name_itself(two_teams: object) -> None:
    alice = User.objects.get(username="alice")
    with pytest.raises(InvalidInput) as refused:
        token_create(user=alice, name="lap\x00top")
    assert refused.value.field == "name"

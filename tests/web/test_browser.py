"""The UI in a real browser: Debian's Chromium, driven by Playwright, against a live server.

Checks what only a browser sees: the Content-Security-Policy lets the vendored vega-embed draw
SVG marks (no eval, no inline script or style), no console error, no failed or 5xx request.
Screenshots of every page go to var/screenshots/ (git-ignored) for a human to look at.

Playwright's sync API keeps an event loop in this thread, so the tests touch the database only
before the browser starts (Django refuses ORM calls from a thread with a running loop).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import ConsoleMessage, Locator, Page, Response, sync_playwright

from server.web.middleware import CONTENT_SECURITY_POLICY
from tests.conftest import REPO, ServerProcess
from tests.web.conftest import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SCREENSHOTS = REPO / "var" / "screenshots"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"
)

CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", event =>
    console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"}`));
"""

# Counts a chart's data marks: vega's SVG groups of role "mark" outside axes, legends and titles.
COUNT_MARKS = """
elements => elements.map(el => Array.from(el.querySelectorAll("g.role-mark"))
    .filter(g => !g.closest(".role-axis, .role-legend, .role-title"))
    .reduce((n, g) => n + g.children.length, 0))
"""


@dataclass
class Problems:
    """What went wrong in the browser: console errors, uncaught exceptions, failed or 5xx requests."""

    items: list[str] = field(default_factory=list)
    expected_404: set[str] = field(default_factory=set)

    def watch(self, page: Page) -> None:
        # Chromium reports a CSP violation as a console error; say so by name as well, in case a
        # violation is ever reported otherwise (a report-only header, a blocked eval in a worker).
        page.add_init_script(CSP_VIOLATIONS)
        page.on("console", lambda msg: msg.type == "error" and self._console(msg))
        page.on("pageerror", lambda exc: self.items.append(f"page error: {exc}"))
        page.on("requestfailed", lambda req: self.items.append(f"failed: {req.url} {req.failure}"))
        page.on("response", self._response)

    def _console(self, msg: ConsoleMessage) -> None:
        location = msg.location.get("url", "")
        # Chromium reports an HTML page answered with 404 as a console error: expected for those pages.
        if "404" in msg.text and location in self.expected_404:
            return
        self.items.append(f"console: {msg.text} at {location}")

    def _response(self, response: Response) -> None:
        status, url = response.status, response.url
        if status >= 500 or (status >= 400 and url not in self.expected_404):
            self.items.append(f"HTTP {status}: {url}")
        # Every UI page the browser loads is checked under the real header, as served.
        if (
            response.request.resource_type == "document"
            and not urlsplit(url).path.startswith(("/api/", "/admin/"))
            and response.headers.get("content-security-policy") != CONTENT_SECURITY_POLICY
        ):
            self.items.append(f"no Content-Security-Policy header: {url}")


@pytest.fixture
def browser_page(seedboard_server: ServerProcess, two_teams: object) -> Iterator[tuple[Page, Problems, str]]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems = Problems()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=seedboard_server.url)
        page = context.new_page()
        problems.watch(page)
        try:
            yield page, problems, seedboard_server.url
        finally:
            browser.close()


def charts_drawn(page: Page, expected: int) -> list[int]:
    """Wait until each of the page's `expected` charts has drawn data marks; their mark counts."""
    assert page.locator("[data-chart]").count() == expected
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('[data-chart]')).every(el => el.querySelector('svg g.role-mark'))",
        timeout=20_000,
    )
    marks: list[int] = page.eval_on_selector_all("[data-chart]", COUNT_MARKS)
    assert all(count > 0 for count in marks), marks
    assert not page.locator(".chart-error").count()
    return marks


def tick_two_and_compare(page: Page, boxes: Locator, button: str) -> None:
    """Tick the first and last of `boxes`, press `button`: the comparison form opens with their
    two variants chosen (acme/hp's val/acc)."""
    boxes.first.check()
    boxes.last.check()
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()
    assert "/compare/new/?project=acme%2Fhp&metric=val%2Facc&variant=" in page.url
    assert page.url.count("variant=") == 2


def _sign_in(page: Page) -> None:
    page.goto("/")
    assert re.search(r"/login/\?next=/$", page.url)
    page.screenshot(path=SCREENSHOTS / "sign-in.png", full_page=True)
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


def test_every_page_renders_under_the_csp_without_errors(browser_page: tuple[Page, Problems, str]) -> None:
    page, problems, url = browser_page
    _sign_in(page)
    body = page.locator("main").inner_text()
    assert "vision" in body and "rival" not in body and "secret" not in body
    page.wait_for_selector("[data-chart] svg g.role-mark path", timeout=15_000)
    marks = page.eval_on_selector_all("[data-chart]", COUNT_MARKS)
    assert marks and all(count > 0 for count in marks), marks
    page.screenshot(path=SCREENSHOTS / "home.png", full_page=True)

    for name, path, text in [
        ("project", "/acme/vision/", "wide-seed1"),
        ("tokens", "/tokens/", "Active tokens"),
        ("search", "/search/?q=baseline", "baseline-seed0"),
    ]:
        response = page.goto(path)
        assert response.status == 200
        assert text in page.locator("main").inner_text()
        page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
    assert "baseline-rival" not in page.content()  # the page visited last

    for path in ["/rival/secret/", "/acme/missing/"]:
        problems.expected_404.add(url + path)
        response = page.goto(path)
        assert response.status == 404
        assert "Not found" in page.locator("main").inner_text()
    page.screenshot(path=SCREENSHOTS / "not-found.png", full_page=True)

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login/")
    assert problems.items == []


def test_a_token_made_on_the_tokens_page_works_once_shown_and_stops_when_revoked(
    browser_page: tuple[Page, Problems, str],
) -> None:
    page, problems, url = browser_page
    _sign_in(page)
    page.goto("/tokens/")
    page.get_by_label("Name").fill("browser test")
    page.get_by_role("button", name="Create token").click()
    text = page.get_by_label("Token", exact=True).input_value()
    assert text.startswith("sb_")
    page.screenshot(path=SCREENSHOTS / "token-created.png", full_page=True)
    headers = {"Authorization": f"Bearer {text}"}
    assert httpx.get(f"{url}/api/v1/projects/", headers=headers).status_code == 200

    page.goto("/tokens/")
    assert text not in page.content()
    prefix = text.split("_")[1]
    page.get_by_role("button", name=f"Revoke token sb_{prefix}").click()
    page.wait_for_url("**/tokens/")
    assert f"sb_{prefix}" not in page.locator("main").inner_text()
    assert httpx.get(f"{url}/api/v1/projects/", headers=headers).status_code == 401
    assert problems.items == []


def test_the_sign_in_lockout_page_renders_under_the_csp(browser_page: tuple[Page, Problems, str]) -> None:
    page, problems, _ = browser_page
    page.goto("/login/")
    for attempt in range(5):
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password").fill(f"wrong-{attempt}")
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
    assert "Too many failed sign-ins" in page.locator("main").inner_text()
    assert page.get_by_role("heading", name="Sign-in locked").is_visible()
    page.screenshot(path=SCREENSHOTS / "sign-in-locked.png", full_page=True)
    # The 429 itself is expected; nothing else (no CSP violation, no missing header) may appear.
    assert problems.items and all("429" in item for item in problems.items), problems.items

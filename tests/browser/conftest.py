"""Real-browser fixtures: a live server on a fresh, seeded database and Chromium driven by Playwright.

The live server migrates a database of its own (SQLite in a temp dir, or a fresh PostgreSQL database created
and dropped here when DATABASE_URL is set), seeds the demo data with the shipped courses, and serves the app
with uvicorn in a background thread on a free loopback port. Browsers reach `http://haiphong.localhost:PORT`.

Chromium is the Debian package (`/usr/bin/chromium`, or CHROMIUM_PATH); Playwright never downloads a browser.
Without Chromium the tests fail in CI (CI=true) and skip, saying why, elsewhere.

Every page fails its test on a console error or an uncaught page error, never reaches beyond localhost, and
leaves a screenshot of its last state under test-output/screenshots/. With DOCS_SCREENSHOTS=1
(`make screenshots`) the journeys also save chosen pages into docs/img/ for the documentation.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from app.seed import DEMO_PASSWORD
from tests.browser.live import CHROMIUM_ARGS, LiveServer, chromium_path, only_localhost, serve
from tests.databases import fresh_database

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
DOCS_IMG = ROOT / "docs" / "img"
AXE_JS = Path(__file__).parent / "vendor" / "axe.min.js"
PHONE = {"width": 360, "height": 740}


def _unavailable(reason: str) -> None:
    """No browser here: a failure in CI (a green run must mean the journeys ran), a skip elsewhere."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"browser tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason} (CI fails instead)")


# The server -------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with fresh_database() as url, serve(url, tmp_path_factory.mktemp("live-media")) as server:
        yield server


# The browser ------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the dev extra installs it
        _unavailable("the Python package `playwright` is not installed (pip install -e '.[dev]')")
        return
    path = chromium_path()
    if path is None:
        _unavailable("no Chromium at /usr/bin/chromium (apt-get install chromium chromium-driver)")
        return
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class PageProblems:
    errors: list[str] = field(default_factory=list)


def watch(page: Any, problems: PageProblems) -> Any:
    page.on(
        "console",
        lambda msg: (
            problems.errors.append(f"console {msg.type}: {msg.text} ({page.url})")
            if msg.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda exc: problems.errors.append(f"page error: {exc} ({page.url})"))
    page.set_default_timeout(10_000)
    return page


@pytest.fixture()
def new_context(
    browser: Any, live_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Any]]:
    """Open a fresh browser context (its own cookies and cache); pages opened in it are watched."""
    contexts: list[tuple[Any, PageProblems]] = []

    def make(**options: Any) -> Any:
        options.setdefault("locale", "vi-VN")
        options.setdefault("viewport", PHONE)
        context = browser.new_context(**options)
        context.route("**/*", only_localhost)
        problems = PageProblems()
        context.on("page", lambda page: watch(page, problems))
        contexts.append((context, problems))
        return context

    yield make
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.split("::", 1)[-1])
    errors: list[str] = []
    for index, (context, problems) in enumerate(contexts):
        pages = context.pages
        if pages:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            suffix = f"-{index}" if index else ""
            try:
                pages[-1].screenshot(path=str(SCREENSHOTS / f"{name}{suffix}.png"), full_page=True)
            except Exception as exc:  # a screenshot must never hide the test's own outcome
                errors.append(f"screenshot failed: {exc}")
        errors.extend(problems.errors)
        context.close()
    if errors and not getattr(request.node, "_browser_failed", False):
        pytest.fail("browser reported errors:\n" + "\n".join(errors), pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call" and report.failed:
        item._browser_failed = True  # type: ignore[attr-defined]


@pytest.fixture()
def page(new_context: Callable[..., Any]) -> Any:
    return new_context().new_page()


# Helpers ------------------------------------------------------------------------------------------------


def docs_screenshot(page: Any, name: str, *, full_page: bool = False, height: int | None = None) -> None:
    """Save the page as docs/img/<name>.png for the documentation (the whole page, or its top `height`
    pixels), only when DOCS_SCREENSHOTS=1 (`make screenshots`): an ordinary run never rewrites the
    committed pictures."""
    if os.environ.get("DOCS_SCREENSHOTS") != "1":
        return
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    page.wait_for_load_state()  # a page still streaming in after a redirect would be cut short
    options: dict[str, Any] = {"full_page": full_page or height is not None, "animations": "disabled"}
    if height is not None:
        options["clip"] = {"x": 0, "y": 0, "width": page.viewport_size["width"], "height": height}
    page.screenshot(path=str(DOCS_IMG / f"{name}.png"), **options)


def sign_in(page: Any, server: LiveServer, username: str, *, slug: str = "haiphong") -> None:
    page.goto(server.url(slug, "/login"))
    page.get_by_label("Tên đăng nhập, email hoặc số điện thoại").fill(username)
    page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(lambda url: "/login" not in url)


SEVERE = ("serious", "critical")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Run axe-core (WCAG 2.1 A/AA rules) on the page; return its serious and critical violations.

    axe is evaluated through the DevTools protocol, so the page's CSP (no inline script) stays in force.
    """
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {runOnly: {type: 'tag',
                values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
        }"""
    )
    return [v for v in result if v["impact"] in SEVERE]


def assert_accessible(page: Any) -> None:
    violations = axe_violations(page)
    assert not violations, f"axe on {page.url}:\n" + "\n".join(
        f"  [{v['impact']}] {v['id']}: {v['help']} → {v['nodes']}" for v in violations
    )

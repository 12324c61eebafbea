"""Page weight as a learner's browser sees it: bytes on the wire, measured in Chromium.

A "first visit" opens the page in a fresh browser context (empty HTTP cache) and adds up every response
(status line + headers + compressed body, from Playwright's `request.sizes()`): HTML, CSS, JS, fonts, icons.
Lesson media (video, PDF under /media/) are left out. A "later page" is the HTML document alone: the
stylesheet, htmx and icon are cached for a year under content-hashed names.

LEARNER_PAGES lists every learner-facing page; `test_page_weight` fails when a GET page route is neither
listed here nor a staff page, so a new page (quiz, certificate…) joins the budget when it is added.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.seed import DEMO_PASSWORD

FIRST_VISIT_BUDGET = 60 * 1024
LATER_HTML_BUDGET = 15 * 1024
LEARNER = "hocvien3"
COURSE = "cds-co-ban"
# The learner holds this course's certificate (earned through the API: lessons done, final test passed).
CERTIFIED_COURSE = "an-toan-tren-mang"

# route path → (page name, signed in?). `{slug}` and `{lesson_id}` are a shipped course and its first lesson,
# `{quiz_id}` its final test, `{attempt_id}` the learner's attempt in progress (the question form), `{code}`
# the learner's certificate.
LEARNER_PAGES: dict[str, tuple[str, bool]] = {
    "/": ("home", True),
    "/login": ("sign-in", False),
    "/register": ("registration", False),
    "/courses": ("catalog", True),
    "/courses/{slug}": ("course", True),
    "/lessons/{lesson_id}": ("lesson", True),
    "/learning": ("my learning", True),
    "/account": ("account", True),
    "/account/password": ("change password", True),
    "/quizzes/{quiz_id}": ("quiz", True),
    "/attempts/{attempt_id}": ("quiz attempt", True),
    "/certificates": ("my certificates", True),
    "/verify": ("verify form", False),
    "/verify/{code}": ("verification", False),
}
# GET routes that are not pages a learner reads: staff pages, redirects, a stylesheet, lesson media.
STAFF_PREFIXES = ("/admin", "/author", "/cohorts", "/reports")
NOT_PAGES = {
    "/brand.css",
    "/media/{media_id}",
    "/courses/{slug}/continue",
    "/certificates/{code}/pdf",
    "/docs",  # the API's reference (Swagger UI) for developers
    "/robots.txt",  # plain text for search engines
}


@dataclass
class PageWeight:
    name: str
    path: str
    first_visit_bytes: int = 0
    html_bytes: int = 0
    html_raw_bytes: int = 0
    resources: list[tuple[str, str, int, str]] = field(default_factory=list)  # url, type, bytes, encoding

    @property
    def first_visit_kb(self) -> float:
        return self.first_visit_bytes / 1024

    @property
    def html_kb(self) -> float:
        return self.html_bytes / 1024


def learner_state(browser: Any, base_url: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Sign the demo learner in, enrol them in the demo course, start its final test and earn another
    course's certificate; return the cookies and the ids the page paths need (idempotent)."""
    from tests.browser.learning import Api, earn_certificate, start_attempt

    context = browser.new_context(base_url=base_url)
    try:
        page = context.new_page()
        page.goto("/login")
        page.fill("#f-identifier", LEARNER)
        page.fill("#f-password", DEMO_PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)
        page.goto(f"/courses/{COURSE}")
        enrol = page.locator(f"form[action='/courses/{COURSE}/enrol'] button")
        if enrol.count():
            enrol.click()
            page.wait_for_url("**/lessons/*")
        else:
            page.goto(f"/courses/{COURSE}/continue")
        lesson_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
        state = context.storage_state()
    finally:
        context.close()
    api = Api(base_url).sign_in(LEARNER)
    code = earn_certificate(api, CERTIFIED_COURSE)
    quiz_id, attempt = start_attempt(api, COURSE)
    ids = {
        "slug": COURSE,
        "lesson_id": str(lesson_id),
        "quiz_id": str(quiz_id),
        "attempt_id": str(attempt["id"]),
        "code": code,
    }
    return state, ids


def concrete(path: str, ids: dict[str, str]) -> str:
    for name, value in ids.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"no object for {path}"
    return path


def measure(browser: Any, base_url: str, name: str, path: str, state: dict[str, Any] | None) -> PageWeight:
    from tests.browser.live import only_localhost

    weight = PageWeight(name, path)
    context = browser.new_context(base_url=base_url, storage_state=state, locale="vi-VN")
    context.route("**/*", only_localhost)
    finished: list[Any] = []
    try:
        page = context.new_page()
        page.on("requestfinished", lambda request: finished.append(request))
        response = page.goto(path, wait_until="networkidle")
        assert response is not None and response.status == 200, f"{path}: {response and response.status}"
        for request in finished:
            if "/media/" in request.url:
                continue
            sizes = request.sizes()
            size = sizes["responseHeadersSize"] + sizes["responseBodySize"]
            resp = request.response()
            encoding = (resp.header_value("content-encoding") if resp else None) or ""
            weight.resources.append((request.url, request.resource_type, size, encoding))
            weight.first_visit_bytes += size
            if request.resource_type == "document":
                weight.html_bytes = size
                weight.html_raw_bytes = len(resp.body()) if resp else 0
    finally:
        context.close()
    return weight


def measure_all(browser: Any, base_url: str) -> list[PageWeight]:
    state, ids = learner_state(browser, base_url)
    return [
        measure(browser, base_url, name, concrete(path, ids), state if signed_in else None)
        for path, (name, signed_in) in LEARNER_PAGES.items()
    ]


def table(weights: list[PageWeight]) -> str:
    lines = [
        f"{'page':<16} {'path':<28} {'first visit KB':>15} {'HTML KB (gz)':>13} {'HTML KB (raw)':>14}",
        "-" * 90,
    ]
    for w in weights:
        lines.append(
            f"{w.name:<16} {w.path:<28} {w.first_visit_kb:>15.1f} {w.html_kb:>13.1f} "
            f"{w.html_raw_bytes / 1024:>14.1f}"
        )
    lines.append(
        f"budget: first visit ≤ {FIRST_VISIT_BUDGET // 1024} KB, later pages ≤ {LATER_HTML_BUDGET // 1024} KB"
    )
    return "\n".join(lines)

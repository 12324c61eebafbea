"""Every learner page fits a slow phone connection: ≤ 60 KB for a first visit, ≤ 15 KB of HTML after."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from tests.browser import weight
from tests.browser.conftest import assert_accessible
from tests.browser.live import LiveServer

pytestmark = pytest.mark.browser


def _get_pages(app: Any) -> set[str]:
    paths = set()
    for route in iter_route_contexts(app.routes):
        original = route.original_route
        if (
            isinstance(original, APIRoute)
            and "GET" in (route.methods or ())
            and not original.include_in_schema
        ):
            paths.add(route.path)
    return paths - {"/healthz", "/readyz"}


def test_every_learner_page_is_in_the_budget(app_instance: Any) -> None:
    for path in sorted(_get_pages(app_instance)):
        if path.startswith(weight.STAFF_PREFIXES) or path in weight.NOT_PAGES:
            continue
        assert path in weight.LEARNER_PAGES, (
            f"{path} is a page without a weight budget: add it to LEARNER_PAGES in tests/browser/weight.py "
            "(or to STAFF_PREFIXES / NOT_PAGES if a learner never reads it)"
        )


@pytest.fixture(scope="module")
def weights(browser: Any, live_server: LiveServer) -> list[weight.PageWeight]:
    return weight.measure_all(browser, live_server.url("haiphong", ""))


def test_learner_pages_fit_the_budget(weights: list[weight.PageWeight]) -> None:
    print("\n" + weight.table(weights))
    over = [
        f"{w.name}: first visit {w.first_visit_kb:.1f} KB"
        for w in weights
        if w.first_visit_bytes > weight.FIRST_VISIT_BUDGET
    ] + [f"{w.name}: HTML {w.html_kb:.1f} KB" for w in weights if w.html_bytes > weight.LATER_HTML_BUDGET]
    assert not over, "over the page-weight budget:\n" + "\n".join(over) + "\n" + weight.table(weights)


def test_text_responses_are_compressed(weights: list[weight.PageWeight]) -> None:
    for w in weights:
        for url, kind, size, encoding in w.resources:
            if kind in ("document", "stylesheet", "script") and size > 1024:
                assert encoding in ("gzip", "br"), f"{url} ({kind}, {size} bytes) is sent uncompressed"


def test_learner_pages_pass_axe(new_context: Any, live_server: LiveServer, browser: Any) -> None:
    base = live_server.url("haiphong", "")
    state, ids = weight.learner_state(browser, base)
    for path, (_name, signed_in) in weight.LEARNER_PAGES.items():
        page = new_context(base_url=base, storage_state=state if signed_in else None).new_page()
        page.goto(weight.concrete(path, ids))
        assert_accessible(page)
        # Text scaled to 200 % still fits the phone's width: nothing to scroll sideways.
        page.evaluate("() => { document.documentElement.style.fontSize = '200%'; }")
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= page.viewport_size["width"] + 1, f"{path}: {width}px wide at 200 % text"
        page.context.close()

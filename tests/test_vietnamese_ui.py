"""Vietnamese first: every page in `vi` shows no English UI text, dates read dd/mm/yyyy and numbers 1.000.

The untranslated-text check renders each page in `vi` and in `en`. A UI string wrapped in `_()` differs
between the two; an un-wrapped one (`<p>Forgot your password?</p>` typed straight into a template) is the same
in both, and in English. So: text nodes and labelling attributes identical in both renderings that read as
English are reported. Course titles and names are Vietnamese and identical too, so they do not trip it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from app.core.web import LANG_COOKIE
from tests import factories
from tests.factories import Browser

# Words of UI English that Vietnamese (even written without accents) does not use on its own.
ENGLISH = {
    "the", "your", "you", "and", "of", "to", "is", "are", "this", "with", "for", "from", "not", "please",
    "here", "sign", "page", "course", "courses", "lesson", "lessons", "learning", "account", "password",
    "search", "name", "save", "create", "new", "back", "next", "previous", "edit", "delete", "add", "upload",
    "import", "download", "continue", "enrol", "progress", "complete", "completed", "username", "email",
    "phone", "unit", "units", "cohort", "cohorts", "language", "change", "menu", "skip", "content",
    "preview", "publish", "draft", "title", "summary", "help", "error", "found", "has", "have", "be", "or",
}  # fmt: skip
ALLOWED = {"OneTouch", "English", "Tiếng Việt", "Markdown", "PDF", "MP4", "WebM", "YouTube", "Vimeo", "Email"}
LABEL_ATTRS = ("placeholder", "aria-label", "title", "alt")
# Data, not UI text: a certificate code (`3TDM-X56G-9AND-CEEG`) may happen to spell "AND" or "TO".
CERTIFICATE_CODE = re.compile(r"^[0-9A-Z]{4}(?:-[0-9A-Z]{4}){3}$")


class _Texts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "textarea"):
            self._skip += 1
        for name, value in attrs:
            if name in LABEL_ATTRS and value:
                self.texts.append(value.strip())
            if name == "value" and tag == "input" and ("type", "submit") in attrs and value:
                self.texts.append(value.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "textarea") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.texts.append(" ".join(data.split()))


def texts(html: str) -> list[str]:
    parser = _Texts()
    parser.feed(html)
    return parser.texts


def looks_english(text: str) -> bool:
    if text in ALLOWED or not text.isascii() or CERTIFICATE_CODE.match(text):
        return False
    words = re.findall(r"[A-Za-z]+", text)
    return any(word.lower() in ENGLISH for word in words)


def untranslated(html_vi: str, html_en: str) -> list[str]:
    """UI text the same in both languages and English: a string that skipped the catalog."""
    english_side = set(texts(html_en))
    return sorted({t for t in texts(html_vi) if t in english_side and looks_english(t)})


def test_the_detector_catches_an_unwrapped_string() -> None:
    vi = '<main><h1>Đăng nhập</h1><p>Forgot your password?</p><input placeholder="Search courses"></main>'
    en = '<main><h1>Sign in</h1><p>Forgot your password?</p><input placeholder="Search courses"></main>'
    assert untranslated(vi, en) == ["Forgot your password?", "Search courses"]
    assert untranslated("<p>Hải Phòng</p><p>an toan</p>", "<p>Hải Phòng</p><p>an toan</p>") == []
    assert untranslated("<dd>3TDM-X56G-9AND-CEEG</dd>", "<dd>3TDM-X56G-9AND-CEEG</dd>") == []


def _page_routes(app: Any) -> list[str]:
    paths = []
    for route in iter_route_contexts(app.routes):
        original = route.original_route
        if (
            isinstance(original, APIRoute)
            and "GET" in (route.methods or ())
            and not original.include_in_schema
        ):
            paths.append(route.path)
    return sorted(set(paths) - {"/healthz", "/readyz", "/brand.css", "/media/{media_id}"})


@pytest.fixture()
def own_objects(app: Any, db: Any, world: factories.World, settings: Any, tmp_path: Path) -> dict[str, str]:
    course = factories.make_course(db, world.haiphong, "ky-nang-so", "Kỹ năng số cơ bản")
    cohort = factories.make_cohort(db, world.haiphong, course, "HP-01")
    lesson_id = factories.lesson_ids(db, world.haiphong, course.id)[0]
    # The learner's quiz pages: a passed attempt (result and review) with its certificate, then a second
    # attempt in progress (the question form).
    qc = factories.make_quiz_course(db, world, tmp_path / "courses", settings.media_dir)
    learner = factories.learner_client(app)
    assert learner.api("POST", f"/api/v1/courses/{qc.slug}/enrol").status_code in (200, 201)
    learner.api("POST", f"/api/v1/lessons/{qc.text_lesson_id}/complete")
    passed = learner.api("POST", f"/api/v1/quizzes/{qc.quiz_id}/attempts").json()["id"]
    answers = {"answers": factories.RIGHT_ANSWERS}
    code = learner.api("POST", f"/api/v1/attempts/{passed}/submit", json=answers).json()["certificate_code"]
    active = learner.api("POST", f"/api/v1/quizzes/{qc.quiz_id}/attempts").json()["id"]
    assert code and active != passed
    return {
        "slug": course.slug,
        "lesson_id": str(lesson_id),
        "cohort_id": str(cohort.id),
        "quiz_id": str(qc.quiz_id),
        "attempt_id": str(active),
        "code": code,
        "passed_attempt_id": str(passed),
    }


def _render(c: Browser, lang: str, url: str) -> Any:
    c.cookies.set(LANG_COOKIE, lang, domain="haiphong.localhost")
    return c.get(url)


@pytest.mark.parametrize("who", ["admin", "learner", None])
def test_no_english_ui_text_on_vietnamese_pages(
    app: Any,
    world: factories.World,
    own_objects: dict[str, str],
    make_client: Callable[..., Browser],
    who: str,
) -> None:
    c = make_client("haiphong")
    if who:
        c.login_page(who)
        if who == "learner":
            c.submit(f"/courses/{own_objects['slug']}", f"/courses/{own_objects['slug']}/enrol")
    found: dict[str, list[str]] = {}
    checked = 0
    extra = [f"/attempts/{own_objects['passed_attempt_id']}", "/no-such-page"]
    for path in [*_page_routes(app), *extra]:
        params = re.findall(r"{(\w+)}", path)
        if any(p not in own_objects for p in params):
            continue  # pages of objects not made here (an import job) are covered by their own tests
        url = path
        for p in params:
            url = url.replace("{" + p + "}", own_objects[p])
        vi, en = _render(c, "vi", url), _render(c, "en", url)
        if not vi.headers.get("content-type", "").startswith("text/html"):
            continue
        checked += 1
        bad = untranslated(vi.text, en.text)
        if bad:
            found[url] = bad
    assert checked >= (20 if who == "learner" else 5)
    assert not found, "English UI text on Vietnamese pages (wrap it in _() and translate it):\n" + "\n".join(
        f"  {url}: {bad}" for url, bad in found.items()
    )


def test_english_pages_are_english(world: factories.World, make_client: Callable[..., Browser]) -> None:
    c = make_client("haiphong")
    c.cookies.set(LANG_COOKIE, "en", domain="haiphong.localhost")
    page = c.get("/login").text
    assert 'lang="en"' in page and "Sign in" in page and "Đăng nhập" not in page


TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def test_templates_print_dates_and_counts_through_the_formatters() -> None:
    """dd/mm/yyyy and 1.000 come from the format_* helpers: a raw date or count is a bug."""
    raw_date = re.compile(r"\{\{\s*[\w.]+_(?:at|on|date)\s*\}\}")
    raw_count = re.compile(
        r"\{\{\s*[\w.]*\b(?:created|updated|unchanged|total_rows|accounts|size_bytes)\s*\}\}"
    )
    kwarg_count = re.compile(r"\b(?:created|updated|accounts|rows)=(?!format_number)[\w.]+")
    problems = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for pattern in (raw_date, raw_count, kwarg_count):
            problems += [f"{path.relative_to(TEMPLATES)}: {m.group(0)}" for m in pattern.finditer(text)]
    assert not problems, "\n".join(problems)

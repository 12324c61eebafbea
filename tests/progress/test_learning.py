"""The learning path has one implementation (app/progress/learning.py): its mechanisms change how fast it
answers, never what. The fast dispatch answers exactly what the routes answer; an assembled lesson page is
byte for byte the rendered one; the page cache stays within its bound."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from app.core.cache import MemoryCache
from app.main import create_app
from app.progress import presenters
from app.progress import routes_api as progress_routes_api
from app.progress import routes_html as progress_routes_html
from app.quizzes import routes_api as quiz_routes_api
from tests.factories import Browser, World, lesson_ids, make_course, make_world


@pytest.fixture()
def world(db) -> World:  # type: ignore[no-untyped-def]
    made = make_world(db)
    course = make_course(db, made.national, "hoc", "Khóa học", lessons=("Một", "Hai", "Ba"))
    draft = make_course(db, made.haiphong, "nhap", "Khóa nháp", lessons=("Nháp",), published=False)
    made.course_id = course.id  # type: ignore[attr-defined]
    made.lessons = lesson_ids(db, made.national, course.id)  # type: ignore[attr-defined]
    made.draft_lessons = lesson_ids(db, made.haiphong, draft.id)  # type: ignore[attr-defined]
    return made


@pytest.fixture()
def router_app(app, settings):  # type: ignore[no-untyped-def]
    """The same app without the fast dispatch: every learning request goes through the router."""
    plain = create_app(settings.model_copy(update={"fast_dispatch": False}))
    for name in (
        "session_factory",
        "failure_counter",
        "tenant_cache",
        "cache",
        "lesson_visits",
        "job_runner",
    ):
        setattr(plain.state, name, getattr(app.state, name))
    return plain


class Spy:
    """Counts the handler calls made through the routes (the dispatch calls the handlers directly)."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.calls = 0

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return getattr(self.real, name)(*args, **kwargs)

        return call


def _requests(world: World) -> list[tuple[str, str, str, str, dict[str, Any]]]:
    first, second, _third = world.lessons  # type: ignore[attr-defined]
    (draft,) = world.draft_lessons  # type: ignore[attr-defined]
    return [
        ("learner", "api", "GET", f"/api/v1/lessons/{second}", {}),
        ("learner", "page", "GET", f"/lessons/{second}", {}),
        ("learner", "api", "POST", f"/api/v1/lessons/{first}/complete", {}),
        ("learner", "api", "POST", f"/api/v1/lessons/{first}/complete", {}),  # again: idempotent
        ("trainer", "api", "GET", f"/api/v1/lessons/{draft}", {}),  # staff read their portal's draft
        ("learner", "api", "GET", f"/api/v1/lessons/{draft}", {}),  # a draft is not found for others
        ("learner", "api", "GET", "/api/v1/lessons/999999", {}),
        ("outsider", "api", "GET", f"/api/v1/lessons/{second}", {}),  # another portal's token
        ("anonymous", "page", "GET", f"/lessons/{second}", {}),  # to the sign-in page
        ("anonymous", "api", "POST", f"/api/v1/lessons/{second}/complete", {}),
        ("unenrolled", "api", "GET", f"/api/v1/lessons/{second}", {}),
        ("learner", "api", "POST", "/api/v1/attempts/999999/submit", {"json": {"answers": {}}}),
        ("learner", "api", "POST", "/api/v1/attempts/999999/submit", {"json": {"answers": 5}}),
        ("learner", "api", "POST", "/api/v1/attempts/999999/submit", {"content": b"{not json"}),
    ]


def _clients(app: Any, world: World) -> dict[str, Browser]:
    learner = Browser(app, "haiphong")
    learner.login_api("learner")
    assert learner.api("POST", "/api/v1/courses/hoc/enrol").status_code in (200, 201)
    page = Browser(app, "haiphong")
    page.login_page("learner")
    trainer = Browser(app, "haiphong")
    trainer.login_api("trainer")
    outsider = Browser(app, "haiphong")
    outsider.token = Browser(app, "quangninh").login_api("learner")
    unenrolled = Browser(app, "quangninh")  # a learner of another portal who never enrolled
    unenrolled.login_api("learner")
    return {
        "learner": learner,
        "page": page,
        "trainer": trainer,
        "outsider": outsider,
        "anonymous": Browser(app, "haiphong"),
        "unenrolled": unenrolled,
    }


_CSRF = re.compile(r"[0-9a-f]{64}")


def _answers(app: Any, world: World, connection: Any) -> list[tuple[int, str, str, Any]]:
    """Every request's answer, made from the same starting point: the run is rolled back afterwards."""
    savepoint = connection.begin_nested()
    app.state.cache = MemoryCache()
    try:
        clients = _clients(app, world)
        answers = []
        for who, kind, method, path, kwargs in _requests(world):
            client = clients["page" if kind == "page" and who == "learner" else who]
            r = client.api(method, path, **kwargs) if kind == "api" else client.request(method, path)
            # Each run signs in anew: its CSRF tokens differ, nothing else may.
            body = r.json() if "json" in r.headers.get("content-type", "") else _CSRF.sub("<token>", r.text)
            answers.append(
                (r.status_code, r.headers.get("content-type", ""), r.headers.get("location", ""), body)
            )
        return answers
    finally:
        savepoint.rollback()


def test_the_fast_dispatch_answers_what_the_routes_answer(
    world: World,
    app,
    router_app,
    connection,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    spies = [
        Spy(progress_routes_api.handlers),
        Spy(progress_routes_html.handlers),
        Spy(quiz_routes_api.handlers),
    ]
    monkeypatch.setattr(progress_routes_api, "handlers", spies[0])
    monkeypatch.setattr(progress_routes_html, "handlers", spies[1])
    monkeypatch.setattr(quiz_routes_api, "handlers", spies[2])
    dispatched = _answers(app, world, connection)
    assert sum(s.calls for s in spies) == 0, "the routes answered: the dispatch did not"
    routed = _answers(router_app, world, connection)
    # Through the router every request reaches its handler but the two whose body does not validate.
    assert sum(s.calls for s in spies) == len(_requests(world)) - 2, "the router did not answer"
    assert dispatched == routed
    statuses = [answer[0] for answer in dispatched]
    assert statuses == [200, 200, 200, 200, 200, 404, 404, 401, 303, 401, 403, 404, 422, 422], statuses


def test_an_assembled_lesson_page_is_the_rendered_page(world: World, app, settings) -> None:  # type: ignore[no-untyped-def]
    page = Browser(app, "haiphong")
    page.login_page("learner")
    assert page.post(
        "/courses/hoc/enrol", data={"csrf_token": page.csrf_from("/courses/hoc")}
    ).status_code in (200, 303)
    first, second, _third = world.lessons  # type: ignore[attr-defined]
    page.get(f"/lessons/{first}")  # the first lesson opened starts the course
    assembled_first = page.get(f"/lessons/{second}").text  # renders the shared part and keeps it
    assembled = page.get(f"/lessons/{second}").text  # assembled from the kept part
    assert len(app.state.page_cache) >= 1
    app.state.settings = settings.model_copy(update={"assemble_pages": False})
    try:
        rendered = page.get(f"/lessons/{second}").text
    finally:
        app.state.settings = settings
    assert assembled == rendered == assembled_first
    assert "assembled" not in rendered  # no mark left behind


def test_the_page_cache_is_bounded_by_the_bytes_it_holds() -> None:
    cache = presenters.page_cache(max_bytes=10_000)
    for i in range(100):
        cache[i] = ("x" * 600, "y" * 400)
    assert cache.currsize <= 10_000
    assert 99 in cache and 0 not in cache  # the least recently used went first

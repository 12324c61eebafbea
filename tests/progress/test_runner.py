"""The learning path as production runs it (app/progress/runner.py), on a database of its own: SQLite's
connections on the event loop with the driver's cursor and a lock taken without waiting (or a worker thread
when it is held), PostgreSQL through asyncpg (DB_ASYNC) or a worker thread. The rest of the suite runs the
same functions inside its test transaction; these tests run them the way a deployment does, with every
mechanism on and off, and the answers must not change."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.core.db import make_engine, make_session_factory, writer_lock
from app.core.migrate import upgrade
from app.core.settings import Settings
from app.main import create_app
from app.progress.models import Enrolment, LessonProgress
from app.tenancy.scoping import cross_tenant
from tests.conftest import TEST_SECRET
from tests.databases import fresh_database
from tests.factories import _CSRF, PASSWORD, lesson_ids, make_course, make_world


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Any]]]:
    with fresh_database() as url:
        upgrade(url)
        engine = make_engine(url)
        with make_session_factory(engine)() as db:
            world = make_world(db)
            course = make_course(db, world.national, "hoc", "Khóa học", lessons=("Một", "Hai", "Ba", "Bốn"))
            ids = lesson_ids(db, world.national, course.id)
            db.commit()
        engine.dispose()
        yield url, {"lessons": ids}


class Portal:
    """Requests to one portal through the one client whose event loop the app runs on (an asyncpg pool
    belongs to the loop that opened it: a test client per portal would each bring a loop of their own)."""

    def __init__(self, client: TestClient, slug: str) -> None:
        self.client = client
        self.origin = "http://localhost" if slug == "national" else f"http://{slug}.localhost"
        self.token: str | None = None

    def login_api(self, username: str) -> None:
        r = self.client.post(
            f"{self.origin}/api/v1/auth/token", data={"username": username, "password": PASSWORD}
        )
        assert r.status_code == 200, r.text
        self.token = r.json()["access_token"]

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return self.client.request(method, self.origin + path, headers=headers, **kwargs)

    def login_page(self, username: str) -> None:
        form = self.client.get(f"{self.origin}/login")
        token = _CSRF.search(form.text)
        assert token, form.text[:200]
        r = self.client.post(
            f"{self.origin}/login",
            data={"identifier": username, "password": PASSWORD, "next": "/", "csrf_token": token.group(1)},
        )
        assert r.status_code in (200, 303), r.text[:300]

    def get(self, path: str) -> Any:
        return self.client.get(self.origin + path)


def _app(url: str, media: Path, **overrides: Any) -> Any:
    settings = Settings(
        env="test",
        database_url=url,
        secret_key=TEST_SECRET,
        media_dir=media,
        log_requests=False,
        visit_flush_seconds=3600,
        lesson_visit_flush_seconds=3600,
        _env_file=None,  # type: ignore[call-arg]
        **overrides,
    )
    return create_app(settings)


MECHANISMS: list[dict[str, Any]] = [
    {},  # every mechanism on (the default)
    {"fast_dispatch": False, "assemble_pages": False, "buffer_lesson_visits": False},
    {"db_async": False, "driver_statements": False},
]


@pytest.mark.parametrize(
    "overrides", MECHANISMS, ids=["all", "no-dispatch-assembly-buffer", "no-async-driver"]
)
def test_read_complete_and_count_once(database, tmp_path: Path, overrides: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    url, data = database
    app = _app(url, tmp_path, **overrides)
    with TestClient(app, follow_redirects=False) as client:  # the lifespan: loop connections, engines
        learner = Portal(client, "haiphong")
        learner.login_api("learner")
        assert learner.api("POST", "/api/v1/courses/hoc/enrol").status_code in (200, 201)
        first, second, *_ = data["lessons"]
        read = learner.api("GET", f"/api/v1/lessons/{second}")
        assert read.status_code == 200 and read.json()["previous_id"] == first
        again = learner.api("GET", f"/api/v1/lessons/{second}")
        assert again.json() == read.json()
        done = [learner.api("POST", f"/api/v1/lessons/{first}/complete").json() for _ in range(3)]
        assert done[0] == done[1] == done[2] and done[0]["lessons_completed"] >= 1
        page = Portal(client, "haiphong")
        page.login_page("learner")
        html = page.get(f"/lessons/{second}")
        assert html.status_code == 200 and "Hai" in html.text
        other = Portal(client, "quangninh")
        other.login_api("learner")
        assert other.api("GET", f"/api/v1/lessons/{second}").status_code == 403  # not enrolled there
    engine = make_engine(url)
    with make_session_factory(engine)() as db, cross_tenant(db):
        rows = db.scalar(
            select(func.count()).select_from(LessonProgress).where(LessonProgress.lesson_id == first)
        )
        completed = db.scalar(select(func.max(Enrolment.lessons_completed)))
    engine.dispose()
    assert rows == 1 and completed == done[0]["lessons_completed"]


def test_a_held_write_lock_sends_the_completion_to_a_thread(database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """SQLite: while another writer of this process holds the lock, a completion waits for it in a worker
    thread (never on the event loop) and is recorded once the lock is free."""
    url, data = database
    app = _app(url, tmp_path)
    lock = writer_lock(app.state.engine)
    if lock is None:
        pytest.skip("PostgreSQL has no process write lock: nothing to wait for")
    with TestClient(app, follow_redirects=False) as client:
        learner = Portal(client, "haiphong")
        learner.login_api("learner")
        learner.api("POST", "/api/v1/courses/hoc/enrol")
        lesson = data["lessons"][2]
        assert lock.acquire(timeout=5)
        timer = threading.Timer(0.3, lock.release)
        timer.start()
        answer = learner.api("POST", f"/api/v1/lessons/{lesson}/complete")
        timer.join()
        assert answer.status_code == 200
        assert answer.json()["lessons_completed"] >= 1

"""Learner steps through the live server's JSON API, for fixtures that need a quiz attempt or a certificate.

The right answers come from the shipped course's quiz file (`courses/<slug>/quizzes/*.yaml`), as a learner who
studied would know them: option ids are stable (letters in file order), only their order on the page is
shuffled, so the page test matches options by text and these helpers by id.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2

from app.quizzes.bank import Question, load_quiz_file
from app.seed import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
FINAL_TEST = "kiem-tra-cuoi-khoa"


def quiz_bank(course_slug: str, quiz_slug: str = FINAL_TEST) -> dict[str, Question]:
    definition = load_quiz_file(ROOT / "courses" / course_slug / "quizzes" / f"{quiz_slug}.yaml")
    return {q.id: q for q in definition.questions}


def right_answer(question: Question) -> Any:
    """The API's answer to one question: the right option ids, or the first accepted text."""
    if question.kind == "short":
        return question.accepted[0]
    return sorted(question.correct_option_ids)


def right_option_texts(question: Question) -> list[str]:
    return [o.text for o in question.options if o.correct]


@dataclass
class Api:
    """Bearer-token calls to one portal of the live server (loopback address, portal in the Host header)."""

    base_url: str  # http://haiphong.localhost:PORT
    token: str | None = None

    def _target(self, path: str) -> tuple[str, dict[str, str]]:
        parts = urlsplit(self.base_url)
        headers = {"Host": parts.netloc, "Accept-Language": "vi"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return f"http://127.0.0.1:{parts.port}{path}", headers

    def call(self, method: str, path: str, *, expect: tuple[int, ...] = (200, 201), **kwargs: Any) -> Any:
        url, headers = self._target(path)
        headers.update(kwargs.pop("headers", {}))
        response = httpx2.request(method, url, headers=headers, timeout=30, trust_env=False, **kwargs)
        assert response.status_code in expect, (
            f"{method} {path}: {response.status_code} {response.text[:500]}"
        )
        return response

    def sign_in(self, username: str, password: str = DEMO_PASSWORD) -> Api:
        r = self.call("POST", "/api/v1/auth/token", data={"username": username, "password": password})
        self.token = r.json()["access_token"]
        return self


def start_attempt(api: Api, course_slug: str) -> tuple[int, dict[str, Any]]:
    """Enrol (if needed) and start (or resume) the course's final test: (quiz id, attempt JSON)."""
    api.call("POST", f"/api/v1/courses/{course_slug}/enrol", json={})
    course = api.call("GET", f"/api/v1/courses/{course_slug}").json()
    quiz_id = next(
        lesson["quiz_id"]
        for module in course["modules"]
        for lesson in module["lessons"]
        if lesson["kind"] == "quiz" and lesson.get("quiz_id")
    )
    attempt = api.call("POST", f"/api/v1/quizzes/{quiz_id}/attempts").json()
    return quiz_id, attempt


def earn_certificate(api: Api, course_slug: str) -> str:
    """Finish every lesson and pass the final test of a shipped course; return the certificate code.

    Idempotent: a learner who already holds the course's certificate just gets its code."""
    held = api.call("GET", "/api/v1/me/certificates").json()["items"]
    course_title = api.call("GET", f"/api/v1/courses/{course_slug}").json()["title"]
    for certificate in held:
        if certificate["course_title"] == course_title:
            return str(certificate["code"])
    api.call("POST", f"/api/v1/courses/{course_slug}/enrol", json={})
    course = api.call("GET", f"/api/v1/courses/{course_slug}").json()
    for module in course["modules"]:
        for lesson in module["lessons"]:
            if lesson["kind"] != "quiz":
                api.call("POST", f"/api/v1/lessons/{lesson['id']}/complete")
    _quiz_id, attempt = start_attempt(api, course_slug)
    bank = quiz_bank(course_slug)
    answers = {q["id"]: right_answer(bank[q["id"]]) for q in attempt["questions"]}
    result = api.call("POST", f"/api/v1/attempts/{attempt['id']}/submit", json={"answers": answers}).json()
    assert result["passed"] and result["certificate_code"], result
    return str(result["certificate_code"])

"""Request bodies are limited while they stream in, before anything reads them (issue 14, item 2).

The review sent anonymous 60–200 MB multipart bodies to `/login` and `/api/v1/users/import`: each was spooled
to disk, then refused. These tests drive the ASGI app directly, so they can count how much of a body the app
pulled before answering (the test client reads a whole body up front, which would hide exactly that).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest

from app.core.bodylimit import KB, MB
from app.core.web import AUTH_COOKIE
from tests.factories import Browser

CHUNK = 64 * KB
# A well-formed start of a multipart upload, so the app reads on instead of refusing the body's shape.
PART = (
    b'--x\r\nContent-Disposition: form-data; name="file"; filename="ds.csv"\r\nContent-Type: text/csv\r\n\r\n'
)


@dataclass
class Answer:
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    pulled: int = 0  # bytes of the body the app asked for

    @property
    def text(self) -> str:
        return self.body.decode()


def send_body(
    app: Any,
    path: str,
    size: int,
    *,
    host: str = "haiphong.localhost",
    declared: bool = True,
    headers: dict[str, str] | None = None,
    content_type: str = "multipart/form-data; boundary=x",
) -> Answer:
    """POST `size` bytes to `path` (with a Content-Length, or chunked), counting what the app reads."""
    answer = Answer()
    sent = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent >= size:
            await asyncio.sleep(0)
            return {"type": "http.disconnect"}
        chunk = min(CHUNK, size - sent)
        body = (PART + b"x" * chunk)[:chunk] if sent == 0 else b"x" * chunk
        sent += chunk
        answer.pulled = sent
        return {"type": "http.request", "body": body, "more_body": sent < size}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer.status = message["status"]
            answer.headers = {k.decode().lower(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            answer.body += message.get("body", b"")

    raw = [(b"host", host.encode()), (b"content-type", content_type.encode())]
    raw.append((b"content-length", str(size).encode()) if declared else (b"transfer-encoding", b"chunked"))
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": raw,
        "client": ("203.0.113.9", 5000),
        "server": (host, 80),
    }
    # In a thread of its own: a test before this one (the browser's) may have left an event loop running here.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, app(scope, receive, send)).result()
    return answer


def bearer(make_client: Callable[..., Browser], username: str, slug: str = "haiphong") -> dict[str, str]:
    return {"authorization": f"Bearer {make_client(slug).login_api(username)}"}


@pytest.mark.parametrize("path", ["/login", "/register", "/api/v1/auth/token", "/api/v1/users/import"])
def test_a_large_anonymous_body_is_refused_before_a_byte_is_read(app, world, path: str) -> None:
    r = send_body(app, path, 60 * MB)
    assert r.status == 413 and r.pulled == 0, (path, r.status, r.pulled)
    assert r.headers["connection"] == "close"


def test_a_chunked_anonymous_body_is_cut_off_at_the_limit(app, world) -> None:
    limit = app.state.settings.max_body_anonymous_kb * KB
    r = send_body(app, "/api/v1/users/import", 200 * MB, declared=False)
    assert r.status == 413 and r.pulled <= limit + CHUNK, r.pulled
    body = json.loads(r.body)
    assert r.headers["content-type"].startswith("application/problem+json")
    assert body["status"] == 413 and body["code"] == "too_large" and "64 KB" in body["detail"]


def test_the_page_answer_is_the_vietnamese_error_page_with_the_security_headers(app, world) -> None:
    r = send_body(app, "/login", 5 * MB, content_type="application/x-www-form-urlencoded")
    assert r.status == 413 and r.headers["content-type"].startswith("text/html")
    assert "quá lớn" in r.text and "64 KB" in r.text
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"


def test_a_forged_or_expired_token_counts_as_anonymous(app, world) -> None:
    r = send_body(app, "/api/v1/users/import", 3 * MB, headers={"authorization": "Bearer abc.def.ghi"})
    assert r.status == 413 and r.pulled == 0


def test_signed_in_requests_get_the_larger_form_size_but_not_an_upload_size(app, world, make_client) -> None:
    learner = bearer(make_client, "learner")
    limit = app.state.settings.max_body_kb * KB
    small = send_body(app, "/api/v1/cohorts", 1 * MB, headers=learner, content_type="application/json")
    assert small.status != 413 and small.pulled == 1 * MB  # read, then refused for what it says
    assert send_body(app, "/api/v1/cohorts", limit + 1, headers=learner).status == 413
    # An upload route, but a learner does not import accounts: the signed-in size applies.
    r = send_body(app, "/api/v1/users/import", 3 * MB, headers=learner)
    assert r.status == 413 and r.pulled == 0


@pytest.mark.parametrize(
    "username,path,allowed",
    [
        ("admin", "/api/v1/users/import", True),
        ("admin", "/api/v1/units/import", True),
        ("trainer", "/api/v1/users/import", False),
        ("trainer", "/author/lessons/1", True),
        ("learner", "/author/lessons/1", False),
    ],
)
def test_upload_routes_take_large_files_from_whoever_may_upload_there(
    app, world, make_client, username: str, path: str, allowed: bool
) -> None:
    r = send_body(app, path, 5 * MB, headers=bearer(make_client, username))
    if allowed:
        assert r.status != 413 and r.pulled == 5 * MB, (r.status, r.text[:300])
    else:
        assert r.status == 413 and r.pulled == 0


def test_a_file_past_the_upload_size_is_refused_unread_even_for_an_admin(app, world, make_client) -> None:
    settings = app.state.settings
    size = (settings.import_max_upload_mb + 2) * MB
    r = send_body(app, "/api/v1/users/import", size, headers=bearer(make_client, "admin"))
    assert r.status == 413 and r.pulled == 0 and f"{settings.import_max_upload_mb + 1} MB" in r.text


def test_the_session_cookie_counts_as_a_sign_in(app, world, make_client) -> None:
    browser = make_client("haiphong")
    browser.login_page("admin")
    cookie = {"cookie": f"{AUTH_COOKIE}={browser.cookies.get(AUTH_COOKIE)}"}
    r = send_body(app, "/admin/imports/users", 5 * MB, headers=cookie)
    assert r.status == 403 and r.pulled == 5 * MB  # read (an admin's upload), then refused: no CSRF token


def test_a_revoked_admin_token_gets_no_upload_size(app, world, db, make_client) -> None:
    headers = bearer(make_client, "admin")
    admin = make_client("haiphong")
    admin.login_api("admin")
    admin.api("POST", "/api/v1/auth/logout")  # signs out every device: the first token is revoked
    r = send_body(app, "/api/v1/users/import", 5 * MB, headers=headers)
    assert r.status == 413 and r.pulled == 0


def test_every_route_that_takes_a_file_is_marked_as_an_upload_route(app) -> None:
    """A new upload route without `@accepts_upload` would refuse every real file with 413: name it here."""
    from fastapi import UploadFile
    from fastapi.routing import iter_route_contexts

    def takes_file(annotation: Any) -> bool:
        return annotation is UploadFile or UploadFile in getattr(annotation, "__args__", ())

    unmarked = []
    for route in iter_route_contexts(app.routes):
        dependant = getattr(route, "dependant", None)
        if dependant is None:
            continue
        if any(takes_file(p.field_info.annotation) for p in dependant.body_params) and not hasattr(
            route.endpoint, "__upload__"
        ):
            unmarked.append(route.path)
    assert not unmarked, unmarked
    assert len(upload_routes_of(app)) == 6


def upload_routes_of(app: Any) -> list[Any]:
    from app.core.bodylimit import upload_routes

    return upload_routes(app.routes, app.state.settings)

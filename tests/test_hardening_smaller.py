"""The smaller findings of the security review (issue 14, item 9), one test each."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests import factories
from tests.factories import Browser


def test_answers_to_signed_in_requests_are_never_cached(world, make_client) -> None:
    page = make_client("haiphong")
    page.login_page("learner")
    api = make_client("haiphong")
    api.login_api("learner")
    for r in (page.get("/account"), page.get("/learning"), api.api("GET", "/api/v1/me")):
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store", r.url
    # Files that chose their own caching keep it: the content-hashed stylesheet is the same for everyone.
    css = re.search(r'href="(/static/css/app\.[0-9a-f]{10}\.css)"', page.get("/account").text)
    assert css and "immutable" in page.get(css.group(1)).headers["cache-control"]


def test_a_server_error_carries_the_security_headers_and_the_error_page(app, world) -> None:
    @app.get("/__boom", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("boom")

    @app.get("/api/v1/__boom", include_in_schema=False)
    def api_boom() -> None:
        raise RuntimeError("boom")

    try:
        client = TestClient(app, base_url="http://haiphong.localhost", raise_server_exceptions=False)
        page = client.get("/__boom")
        api = client.get("/api/v1/__boom")
    finally:
        app.router.routes[:] = [r for r in app.router.routes if "__boom" not in getattr(r, "path", "")]
    assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
    assert "Đã có lỗi" in page.text
    assert api.status_code == 500 and api.headers["content-type"].startswith("application/problem+json")
    for r in (page, api):
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff" and r.headers["cache-control"] == "no-store"


def test_api_docs_load_nothing_from_elsewhere_and_run_no_inline_script(world, client) -> None:
    r = client.get("/docs")
    assert r.status_code == 200
    script_src = r.headers["content-security-policy"].split("script-src", 1)[1].split(";", 1)[0]
    assert script_src.strip() == "'self'"
    assert "cdn" not in r.text and "http" not in r.text.replace("http-equiv", "")
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", r.text, re.S)
    assert scripts and all("src=" in attrs and not body.strip() for attrs, body in scripts)
    for src in re.findall(r'(?:src|href)="(/static/[^"]+)"', r.text):
        assert client.get(src).status_code == 200, src
    assert client.get("/docs/oauth2-redirect").status_code == 404  # an inline-script page we do not need


def test_api_docs_can_be_turned_off(settings) -> None:
    from app.main import create_app

    app = create_app(settings.model_copy(update={"api_docs": False}))
    client = TestClient(app, base_url="http://localhost")
    assert client.get("/docs").status_code == 404
    assert client.get("/openapi.json").status_code == 200


def test_percent_and_underscore_in_a_search_are_plain_characters(world, db: Session, make_client) -> None:
    factories.make_user(db, world.haiphong, "tran_an", full_name="Trần An")
    factories.make_user(db, world.haiphong, "tranxan", full_name="Trần Xan")
    factories.make_units(
        db, world.haiphong, "Mã,Tên,Loại,Mã cấp trên\nA_1,Ấp Một,village,\nAX1,Ấp Hai,village,\n"
    )
    db.commit()
    admin = make_client("haiphong")
    admin.login_api("admin")
    users = admin.api("GET", "/api/v1/users", params={"q": "tran_"}).json()
    assert [u["username"] for u in users["items"]] == ["tran_an"]
    assert admin.api("GET", "/api/v1/users", params={"q": "%"}).json()["total"] == 0
    units = admin.api("GET", "/api/v1/units", params={"q": "a_1"}).json()
    assert [u["code"] for u in units["items"]] == ["A_1"]


def test_lists_in_api_bodies_have_a_length_limit(world, make_client) -> None:
    """Found in review: 10 MB of usernames were taken and echoed back."""
    admin = make_client("haiphong")
    admin.login_api("admin")
    long_names = ["x" * 65]
    too_many = [f"u{i}" for i in range(10_001)]
    for usernames in (long_names, too_many):
        r = admin.api("POST", "/api/v1/cohorts/1/enrolments", json={"usernames": usernames})
        assert r.status_code == 422, r.text[:200]
    r = admin.api(
        "PUT", f"/api/v1/users/{world.users['haiphong_learner'].id}/roles", json={"roles": ["learner"] * 5}
    )
    assert r.status_code == 422


def test_a_refused_import_job_logs_its_reason_in_full_without_a_traceback(
    world, db: Session, app, caplog, make_client: Callable[..., Browser]
) -> None:
    """Found in review: an expected refusal was logged as an ERROR traceback with an unformatted `{n}`."""
    app.state.settings.import_async_threshold_rows, threshold = (
        1,
        app.state.settings.import_async_threshold_rows,
    )
    try:
        admin = make_client("haiphong")
        admin.login_api("admin")
        csv = "Họ và tên\n" + "An\n" * 5
        app.state.settings.import_max_rows, max_rows = 3, app.state.settings.import_max_rows
        try:
            with caplog.at_level(logging.INFO, logger="onetouch.imports"):
                r = admin.api(
                    "POST",
                    "/api/v1/users/import",
                    files={"file": ("ds.csv", csv.encode(), "text/csv")},
                    data={"dry_run": "true"},
                )
        finally:
            app.state.settings.import_max_rows = max_rows
    finally:
        app.state.settings.import_async_threshold_rows = threshold
    assert r.status_code == 202
    job = admin.api("GET", r.headers["location"]).json()
    assert job["status"] == "failed" and "3" in job["error"]
    records = [rec for rec in caplog.records if rec.name == "onetouch.imports"]
    assert records and all(rec.levelno == logging.INFO and rec.exc_info is None for rec in records)
    assert "more than 3 rows" in records[0].getMessage() and "{n}" not in records[0].getMessage()

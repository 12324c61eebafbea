"""Account import over HTTP: API results and jobs, one-time passwords, download-once credentials, tenancy."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from app.accounts.models import User
from app.audit.models import AuditEvent
from app.core.db import utcnow
from app.imports import service
from app.imports.models import CredentialBatch, ImportJob
from tests.factories import in_tenant


def upload(client, text: str, *, dry_run: bool, slug_file: str = "ds.csv"):
    return client.api(
        "POST",
        "/api/v1/users/import",
        files={"file": (slug_file, text.encode("utf-8-sig"), "text/csv")},
        data={"dry_run": "true" if dry_run else "false"},
    )


def user_count(db, tenant) -> int:
    with in_tenant(db, tenant):
        return db.scalar(select(func.count()).select_from(User)) or 0


def take(client, batch_id: int, fmt: str):
    return client.api("POST", f"/api/v1/users/import/credentials/{batch_id}?format={fmt}")


CSV = (
    "Họ và tên,Số điện thoại,Email,Đợt học\n"
    "Nguyễn Văn An,0901234567,an.nv@hp.vn,Đợt 01\n"
    "Đặng Thị Hồng,0987654321,,Đợt 01\n"
    "Sai Số,12,,\n"
)


def test_dry_run_then_commit_then_same_file_again(world, db, client) -> None:
    client.login_api("admin")
    r = upload(client, CSV, dry_run=True)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["created"], body["updated"], body["unchanged"]) == (2, 0, 0)
    assert body["errors"] == [{"row": 4, "column": "Số điện thoại", "message": body["errors"][0]["message"]}]
    assert "số điện thoại" in body["errors"][0]["message"].lower()
    assert [row["cohort"] for row in body["rows"]] == ["Đợt 01", "Đợt 01", None]
    assert user_count(db, world.haiphong) == 3

    r = upload(client, CSV, dry_run=False)
    assert r.status_code == 200 and r.json()["created"] == 2
    assert (
        r.json()["credentials_url"] == f"/api/v1/users/import/credentials/{r.json()['credentials_batch_id']}"
    )
    assert user_count(db, world.haiphong) == 5

    r = upload(client, CSV, dry_run=False)
    assert (r.json()["created"], r.json()["updated"], r.json()["unchanged"]) == (0, 0, 2)
    assert r.json()["credentials_batch_id"] is None
    assert user_count(db, world.haiphong) == 5


def test_one_time_password_first_sign_in_forced_change_then_argon2(world, db, client, make_client) -> None:
    client.login_api("admin")
    batch_id = upload(client, CSV, dry_run=False).json()["credentials_batch_id"]
    r = take(client, batch_id, "xlsx")
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Họ và tên", "Tên đăng nhập", "Mật khẩu dùng một lần")
    secrets_by_user = {row[1]: row[2] for row in rows[1:]}
    assert set(secrets_by_user) == {"annv", "hongdt"}
    secret = secrets_by_user["annv"]
    assert len(secret) >= 12 and secret.isalnum()

    learner = make_client("haiphong")
    r = learner.post("/api/v1/auth/token", data={"username": "0901234567", "password": secret})
    assert r.status_code == 200 and r.json()["must_change_password"] is True
    learner.token = r.json()["access_token"]
    assert learner.api("GET", "/api/v1/users").status_code == 403  # nothing else until the change
    r = learner.api(
        "POST", "/api/v1/me/password", json={"current_password": secret, "new_password": "matkhau2025"}
    )
    assert r.status_code == 200, r.text
    with in_tenant(db, world.haiphong):
        an = db.scalars(select(User).where(User.username == "annv")).one()
        assert an.password_hash.startswith("$argon2id$")
        assert an.initial_secret_hash is None and not an.must_change_password
    # The one-time password is gone; the new one works.
    assert (
        learner.post("/api/v1/auth/token", data={"username": "annv", "password": secret}).status_code == 401
    )
    assert (
        learner.post("/api/v1/auth/token", data={"username": "annv", "password": "matkhau2025"}).status_code
        == 200
    )


def test_expired_one_time_password_is_refused(world, db, client, make_client) -> None:
    client.login_api("admin")
    batch_id = upload(client, CSV, dry_run=False).json()["credentials_batch_id"]
    rows = list(
        load_workbook(io.BytesIO(take(client, batch_id, "xlsx").content)).active.iter_rows(values_only=True)
    )
    secret = {row[1]: row[2] for row in rows[1:]}["hongdt"]
    with in_tenant(db, world.haiphong):
        db.execute(
            update(User)
            .where(User.username == "hongdt")
            .values(initial_secret_expires_at=utcnow() - dt.timedelta(minutes=1))
        )
    r = make_client("haiphong").post("/api/v1/auth/token", data={"username": "hongdt", "password": secret})
    assert r.status_code == 401 and r.json()["code"] == "initial_password_expired"
    # A wrong guess is just a wrong password, not a hint that the account has a one-time password.
    r = make_client("haiphong").post(
        "/api/v1/auth/token", data={"username": "hongdt", "password": "abc123abc123"}
    )
    assert r.json()["code"] == "bad_credentials"


def test_credentials_download_once_and_audited(world, db, client) -> None:
    client.login_api("admin")
    batch_id = upload(client, CSV, dry_run=False).json()["credentials_batch_id"]
    r = take(client, batch_id, "zip")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    names = sorted(archive.namelist())
    assert names[0].endswith(".xlsx") and names[1].endswith(".pdf")
    pdf = archive.read(names[1])
    assert pdf.startswith(b"%PDF") and b"DejaVu" in pdf  # the embedded font with Vietnamese glyphs
    again = take(client, batch_id, "pdf")
    assert again.status_code == 409 and again.json()["code"] == "credentials_taken"
    with in_tenant(db, world.haiphong):
        assert db.scalar(select(CredentialBatch.payload).where(CredentialBatch.id == batch_id)) is None
        events = db.scalars(
            select(AuditEvent).where(AuditEvent.action == "admin.credentials_downloaded")
        ).all()
        assert len(events) == 1
        assert events[0].actor_id == world.users["haiphong_admin"].id
        assert events[0].detail == {"accounts": 2, "format": "zip"}
        assert (
            db.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "admin.accounts_imported")
            )
            == 1
        )


def test_credentials_are_encrypted_at_rest_and_expire(world, db, client) -> None:
    client.login_api("admin")
    batch_id = upload(client, CSV, dry_run=False).json()["credentials_batch_id"]
    with in_tenant(db, world.haiphong):
        payload = db.scalar(select(CredentialBatch.payload).where(CredentialBatch.id == batch_id))
        assert payload and b"annv" not in payload and b"Nguy" not in payload
        db.execute(update(CredentialBatch).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    r = take(client, batch_id, "xlsx")
    assert r.status_code == 409 and r.json()["code"] == "credentials_expired"


def test_large_file_answers_202_and_the_job_is_polled(world, db, client, app) -> None:
    app.state.settings = app.state.settings.model_copy(update={"import_async_threshold_rows": 3})
    try:
        client.login_api("admin")
        text = "Họ và tên,Số điện thoại\n" + "".join(f"Học Viên {i},0906{i:06d}\n" for i in range(10))
        r = upload(client, text, dry_run=False)
        assert r.status_code == 202, r.text
        location = r.headers["location"]
        assert location.startswith("/api/v1/users/import/jobs/")
        job = client.api("GET", location).json()
        assert job["status"] == "done" and job["progress"] == 100
        assert job["result"]["created"] == 10 and job["credentials_batch_id"]
        assert user_count(db, world.haiphong) == 13
    finally:
        app.state.settings = app.state.settings.model_copy(update={"import_async_threshold_rows": 2000})


def test_a_queued_background_commit_says_it_is_saving(world, db, client, app) -> None:
    """While a large file is being applied, its job (and the page's progress label) is not a preview."""
    queued: list[object] = []
    app.state.settings = app.state.settings.model_copy(update={"import_async_threshold_rows": 3})
    runner, app.state.job_runner = app.state.job_runner, queued.append  # held: never run here
    try:
        client.login_api("admin")
        text = "Họ và tên,Số điện thoại\n" + "".join(f"Học Viên {i},0906{i:06d}\n" for i in range(10))
        r = upload(client, text, dry_run=False)
        assert r.status_code == 202 and r.json()["dry_run"] is False
        job = client.api("GET", r.headers["location"]).json()
        assert job["status"] == "running" and job["dry_run"] is False
        preview = upload(client, text, dry_run=True)
        assert preview.json()["dry_run"] is True
        assert client.api("GET", preview.headers["location"]).json()["dry_run"] is True
        assert len(queued) == 2
    finally:
        app.state.job_runner = runner
        app.state.settings = app.state.settings.model_copy(update={"import_async_threshold_rows": 2000})


def test_background_commit_failing_midway_changes_nothing(world, db, client, app, monkeypatch) -> None:
    app.state.settings = app.state.settings.model_copy(update={"import_async_threshold_rows": 3})
    original = service.apply_plan

    def fail_after_inserts(session, parsed, plan, **kwargs):
        original(session, parsed, plan, **kwargs)  # every row is written…
        raise RuntimeError("worker killed")  # …and then the transaction dies

    monkeypatch.setattr(service, "apply_plan", fail_after_inserts)
    try:
        client.login_api("admin")
        text = "Họ và tên,Số điện thoại\n" + "".join(f"Học Viên {i},0906{i:06d}\n" for i in range(10))
        r = upload(client, text, dry_run=False)
        job = client.api("GET", r.headers["location"]).json()
        assert job["status"] == "failed" and "Không có gì bị thay đổi" in job["error"]
        assert user_count(db, world.haiphong) == 3
        with in_tenant(db, world.haiphong):
            assert db.scalar(select(func.count()).select_from(CredentialBatch)) == 0
    finally:
        app.state.settings = app.state.settings.model_copy(update={"import_async_threshold_rows": 2000})


def test_a_stale_running_job_reports_failed(world, db, client) -> None:
    with in_tenant(db, world.haiphong):
        job = ImportJob(status="running", updated_at=utcnow() - dt.timedelta(hours=1), total_rows=5000)
        db.add(job)
        db.flush()
        job_id = job.id
    client.login_api("admin")
    state = client.api("GET", f"/api/v1/users/import/jobs/{job_id}").json()
    assert state["status"] == "failed" and state["error"]


def test_learners_cannot_import(world, client) -> None:
    client.login_api("learner")
    assert upload(client, CSV, dry_run=True).status_code == 403


def test_another_provinces_admin_cannot_import_or_read(world, db, client, make_client) -> None:
    client.login_api("admin")
    batch_id = upload(client, CSV, dry_run=False).json()["credentials_batch_id"]
    with in_tenant(db, world.haiphong):
        job = ImportJob(status="done", total_rows=1)
        db.add(job)
        db.flush()
        job_id = job.id
    qn = make_client("quangninh")
    qn_token = qn.login_api("admin")
    # Quảng Ninh's token on Hải Phòng's portal: refused.
    hp_with_qn_token = make_client("haiphong")
    hp_with_qn_token.token = qn_token
    assert upload(hp_with_qn_token, CSV, dry_run=False).status_code == 401
    assert hp_with_qn_token.api("GET", "/api/v1/users").status_code == 401
    # On its own portal, guessing Hải Phòng's ids finds nothing.
    assert take(qn, batch_id, "xlsx").status_code == 404
    assert qn.api("GET", f"/api/v1/users/import/jobs/{job_id}").status_code == 404
    users = qn.api("GET", "/api/v1/users?limit=500").json()["items"]
    assert "annv" not in {u["username"] for u in users}
    # And the batch is still there for Hải Phòng.
    assert take(client, batch_id, "xlsx").status_code == 200


@pytest.mark.parametrize("value", ['=HYPERLINK("http://evil")', "+1+2", "-3", "@SUM(A1)"])
def test_exports_neutralise_formulas(value) -> None:
    from app.core.spreadsheets import safe_cell, write_xlsx

    content = write_xlsx(["Họ và tên"], [[value]])
    cell = load_workbook(io.BytesIO(content)).active["A2"]
    assert cell.data_type == "s" and cell.value == "'" + value
    assert safe_cell("Nguyễn") == "Nguyễn" and safe_cell(5) == 5

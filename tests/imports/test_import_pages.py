"""The admin's browser walk-through: upload → preview → confirm → credentials; progress for large files."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook

from app.imports.models import ImportJob
from tests.factories import in_tenant

CSV = "Họ và tên,Số điện thoại,Đợt học\nNguyễn Văn An,0901234567,Đợt 01\nLỗi,999,\n"


def upload_page(client, text: str):
    token = client.csrf_from("/admin/imports/users")
    return client.post(
        "/admin/imports/users",
        data={"csrf_token": token},
        files={"file": ("danh-sach.csv", text.encode("utf-8"), "text/csv")},
    )


def test_upload_preview_confirm_download(world, db, client) -> None:
    client.login_page("admin")
    assert 'href="/admin"' in client.get("/account").text  # the Administration link
    r = upload_page(client, CSV)
    assert r.status_code == 303
    job_url = r.headers["location"]
    page = client.get(job_url).text
    assert "Xem trước: chưa có gì được lưu." in page and "Đợt 01" in page
    assert "Tạo 1 và cập nhật 0 tài khoản" in page
    report = client.get(job_url + "/errors.xlsx")
    rows = list(load_workbook(io.BytesIO(report.content)).active.iter_rows(values_only=True))
    assert rows[0][-2:] == ("Dòng", "Lỗi") and rows[1][0] == "Lỗi" and "Số điện thoại" in rows[1][-1]

    token = client.csrf_from(job_url)
    r = client.post(job_url + "/commit", data={"csrf_token": token})
    assert r.status_code == 303
    page = client.get(job_url).text
    assert "Hoàn tất: đã tạo 1 tài khoản" in page
    batch_id = int(re.search(r'action="/admin/credentials/(\d+)"', page).group(1))
    token = client.csrf_from(job_url)
    r = client.post(f"/admin/credentials/{batch_id}", data={"csrf_token": token, "format": "pdf"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert "attachment" in r.headers["content-disposition"]
    assert "đã được tải về" in client.get(job_url).text
    r = client.post(f"/admin/credentials/{batch_id}", data={"csrf_token": token, "format": "pdf"})
    assert r.status_code == 409
    # A second commit of the same preview is refused.
    assert client.post(job_url + "/commit", data={"csrf_token": token}).status_code == 409


def test_bad_encoding_is_shown_on_the_form(world, client) -> None:
    client.login_page("admin")
    token = client.csrf_from("/admin/imports/users")
    r = client.post(
        "/admin/imports/users",
        data={"csrf_token": token},
        files={
            "file": ("ds.csv", "Họ và tên\nNguyễn Văn An\n".encode("cp1258", errors="replace"), "text/csv")
        },
    )
    assert r.status_code == 422 and "UTF-8" in r.text


def test_running_job_shows_a_polling_progress_bar(world, db, client) -> None:
    with in_tenant(db, world.haiphong):
        job = ImportJob(status="running", progress=42, total_rows=9000, filename="lon.xlsx")
        db.add(job)
        db.flush()
        job_id = job.id
    client.login_page("admin")
    page = client.get(f"/admin/imports/{job_id}").text
    assert f'hx-get="/admin/imports/{job_id}/progress"' in page and 'value="42"' in page
    fragment = client.get(f"/admin/imports/{job_id}/progress", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text and "42%" in fragment.text


def test_other_provinces_admin_cannot_open_the_job(world, db, client, make_client) -> None:
    client.login_page("admin")
    job_url = upload_page(client, CSV).headers["location"]
    qn = make_client("quangninh")
    qn.login_page("admin")
    assert qn.get(job_url).status_code == 404
    assert qn.get(job_url + "/errors.xlsx").status_code == 404


def test_cli_import(world, db, tmp_path, settings, capsys, monkeypatch) -> None:
    from app import cli

    db.commit()
    path = tmp_path / "ds.csv"
    path.write_text(CSV, encoding="utf-8-sig")
    monkeypatch.setattr(cli, "_session", lambda _settings: type(db)(bind=db.get_bind()))
    assert cli.main(["users", "import", str(path), "--tenant", "haiphong", "--dry-run"]) == 0
    out = capsys.readouterr()
    assert "dry run: 1 created" in out.out and "row 3" in out.err
    assert cli.main(["users", "import", str(path), "--tenant", "nowhere"]) == 2

"""The text policy (issue 14, item 4): no control characters, bidi overrides or NUL in what is stored, and
every writer (XLSX, CSV, PDF) safe whatever was stored before."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.core.spreadsheets import write_csv, write_xlsx
from app.core.text import clean_text, nfc, printable
from app.imports.credentials import Credentials, credentials_pdf, credentials_xlsx, credentials_zip
from app.progress import service as progress
from app.tenancy import service as tenants
from tests import factories
from tests.factories import in_tenant

HOSTILE = "Nguyễn\x07 Văn\u202e An\x00\u2066\ufeff\x1b\x9b\ud800"


def test_one_line_text_loses_invisible_characters_and_keeps_its_words() -> None:
    assert nfc(HOSTILE) == "Nguyễn Văn An"
    assert nfc("Lê\tThị\nHồng\r\nNhung") == "Lê Thị Hồng Nhung"
    assert nfc("Ðặng Thị Đào") == "Ðặng Thị Đào"  # letters of every kind stay
    assert nfc("\u202e\x07") == ""  # nothing visible: as empty as a blank name


def test_text_with_lines_keeps_its_lines_and_tabs_and_loses_the_rest() -> None:
    assert clean_text("# Bài 1\r\n\tMục\x07 một  \rhai\x00") == "# Bài 1\n\tMục một  \nhai"
    assert printable("a\u202eb\x00c\n") == "abc\n"


def test_writers_are_safe_whatever_was_stored() -> None:
    """Found in review: a `\\x07` in a name made the learners' export and the credentials answer 500."""
    rows = [[HOSTILE, "=1+1", 3]]
    book = load_workbook(io.BytesIO(write_xlsx(["Họ tên\x07", "Công thức", "Số"], rows)))
    assert [c.value for c in next(book.active.iter_rows(min_row=2))] == ["Nguyễn Văn An", "'=1+1", 3]
    assert write_csv(["Họ tên"], rows).decode("utf-8-sig").splitlines()[1] == "Nguyễn Văn An,'=1+1,3"
    creds = Credentials(1, [["annv", HOSTILE, "Đơn vị\x1b", "abc2345defgh"]], dt.datetime.now(dt.UTC))
    xlsx = credentials_xlsx(creds, lang="vi", portal_url="https://haiphong.example.vn")
    assert load_workbook(io.BytesIO(xlsx)).active.cell(2, 1).value == "Nguyễn Văn An"
    pdf = credentials_pdf(creds, lang="vi", portal_url="https://x.vn", portal_name="Hải\x07 Phòng")
    assert pdf.startswith(b"%PDF-")
    bundle = credentials_zip(creds, lang="vi", portal_url="https://x.vn", portal_name="Hải Phòng")
    assert len(zipfile.ZipFile(io.BytesIO(bundle)).namelist()) == 2


def test_self_registration_stores_the_name_without_invisible_characters(
    world, db: Session, make_client
) -> None:
    tenants.update_tenant(db, "haiphong", self_registration=True)
    db.commit()
    form = {"full_name": "Trần\x07 Bình\u202e\x00", "contact": "0987000222", "password": "matkhau123"}
    r = make_client("haiphong").submit("/register", data={**form, "confirm_password": "matkhau123"})
    assert r.status_code == 303, r.text[:300]
    with in_tenant(db, world.haiphong):
        assert db.scalars(select(User.full_name).where(User.phone == "0987000222")).one() == "Trần Bình"


def test_an_import_stores_names_without_invisible_characters(world, db: Session, client) -> None:
    client.login_api("admin")
    text = "Họ và tên,Tên đăng nhập,Chức vụ\nLê\x07 Văn\u202e Tám,tamlv,Chuyên\x00 viên\n"
    r = client.api(
        "POST",
        "/api/v1/users/import",
        files={"file": ("ds.csv", text.encode("utf-8"), "text/csv")},
        data={"dry_run": "false"},
    )
    assert r.status_code == 200 and r.json()["created"] == 1, r.text
    with in_tenant(db, world.haiphong):
        user = db.scalars(select(User).where(User.username == "tamlv")).one()
        assert (user.full_name, user.position) == ("Lê Văn Tám", "Chuyên viên")


def test_exports_of_a_name_stored_before_the_policy_still_download(world, db: Session, make_client) -> None:
    course = factories.make_course(db, world.haiphong, "cds", "Chuyển đổi số", lessons=("Bài 1",))
    with in_tenant(db, world.haiphong):
        learner = db.scalars(select(User).where(User.username == "learner")).one()
        progress.enrol(db, learner, course)
        # As an older version stored it: straight into the table, past today's input edge.
        db.execute(update(User).where(User.id == learner.id).values(full_name="Nguyễn\x07 Văn\u202e An"))
    db.commit()
    admin = make_client("haiphong")
    admin.login_page("admin")
    for fmt in ("xlsx", "csv"):
        r = admin.get(
            f"/reports/export.{fmt}", params={"table": "learners", "group_by": "all", "measure": "assigned"}
        )
        assert r.status_code == 200, (fmt, r.status_code)
        text = (
            r.text
            if fmt == "csv"
            else str([c.value for row in load_workbook(io.BytesIO(r.content)).active for c in row])
        )
        assert "Nguyễn Văn An" in text and "\x07" not in text and "\u202e" not in text


@pytest.mark.parametrize("q", ["\x00", "an\x00"])
def test_nul_in_a_search_is_bad_input_on_both_databases(world, client, q: str) -> None:
    """Found in review: on PostgreSQL a NUL byte was a 422 that said "number out of range"."""
    client.login_api("admin")
    r = client.api("GET", "/api/v1/users", params={"q": q})
    assert r.status_code == 422 and r.json()["code"] == "nul", r.text


def test_bidi_override_never_reaches_the_public_verification_page(world, db: Session, make_client) -> None:
    from app.certificates import service as certificates
    from app.progress.models import Enrolment

    course = factories.make_course(db, world.haiphong, "cds", "Chuyển đổi số\u202e", lessons=("Bài 1",))
    with in_tenant(db, world.haiphong):
        learner = db.scalars(select(User).where(User.username == "learner")).one()
        db.execute(update(User).where(User.id == learner.id).values(full_name="Nguyễn Văn\u202e An"))
        db.expire_all()
        learner = db.get(User, learner.id)
        enrolment, _ = progress.enrol(db, learner, course)
        enrolment = db.get(Enrolment, enrolment.id)
        code = certificates.issue_certificate(db, enrolment, course).code
    db.commit()
    page = make_client("haiphong").get(f"/verify/{code}")
    assert page.status_code == 200 and "Nguyễn Văn An" in page.text and "\u202e" not in page.text

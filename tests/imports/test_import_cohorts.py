"""The `Đợt học` column enrols rows in their cohort in the import's own transaction."""

from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import User
from app.progress.models import Enrolment
from tests.factories import in_tenant, make_user

CSV = (
    "Họ và tên,Số điện thoại,Đợt học\n"
    "Nguyễn Văn An,0901234567,Đợt 01\n"
    "Đặng Thị Hồng,0987654321,hp-01\n"
    "Trần Minh,0977000111,\n"
)


def upload(client, text: str, *, dry_run: bool):  # type: ignore[no-untyped-def]
    return client.api(
        "POST",
        "/api/v1/users/import",
        files={"file": ("ds.csv", text.encode("utf-8"), "text/csv")},
        data={"dry_run": "true" if dry_run else "false"},
    )


def roster(db, world, cohort) -> dict[str, int | None]:  # type: ignore[no-untyped-def]
    with in_tenant(db, world.haiphong):
        rows = db.execute(
            select(User.username, Enrolment.cohort_id).join(Enrolment, Enrolment.user_id == User.id)
        ).all()
    return {username: cohort_id for username, cohort_id in rows}


def test_rows_enrolled_by_cohort_code_or_title_once(world, db, client, batch01) -> None:
    client.login_api("admin")
    preview = upload(client, CSV, dry_run=True).json()
    assert preview["enrolled"] == 2
    assert roster(db, world, batch01) == {}
    done = upload(client, CSV, dry_run=False).json()
    assert (done["created"], done["enrolled"]) == (3, 2)
    enrolled = roster(db, world, batch01)
    assert enrolled == {"annv": batch01.id, "hongdt": batch01.id}
    # The cohort report counts them straight away (enrolments made in bulk still reach the counters).
    report = client.api("GET", "/api/v1/reports/summary?group_by=cohort").json()
    assert [(row["key"], row["assigned"]) for row in report["items"]] == [(str(batch01.id), 2)]
    again = upload(client, CSV, dry_run=False).json()
    assert (again["created"], again["enrolled"], again["unchanged"]) == (0, 0, 3)
    assert roster(db, world, batch01) == enrolled


def test_existing_account_joins_cohort_without_other_changes(world, db, client, batch01) -> None:
    make_user(db, world.haiphong, "annv", full_name="Nguyễn Văn An", phone="0901234567")
    db.commit()
    client.login_api("admin")
    r = upload(client, "Họ và tên,Tên đăng nhập,Đợt học\nNguyễn Văn An,annv,HP-01\n", dry_run=False)
    body = r.json()
    assert r.status_code == 200, r.text
    assert (body["created"], body["updated"], body["unchanged"], body["enrolled"]) == (0, 0, 1, 1)
    assert roster(db, world, batch01) == {"annv": batch01.id}


def test_unknown_cohort_is_a_row_error_and_nothing_is_saved_for_it(world, db, client, batch01) -> None:
    client.login_api("admin")
    body = upload(
        client, "Họ và tên,Số điện thoại,Đợt học\nLê Văn C,0966000222,Đợt 99\n", dry_run=False
    ).json()
    assert body["created"] == 0
    assert body["errors"][0]["column"] == "Đợt học"
    assert "Đợt 99" in body["errors"][0]["message"]

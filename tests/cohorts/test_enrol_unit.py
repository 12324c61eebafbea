"""A cohort can take a whole unit, with or without the units below it, by API and by page."""

from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import User
from app.progress.models import Enrolment
from tests.factories import in_tenant, make_cohort, make_course, make_units, make_user

UNITS = (
    "Mã,Tên,Loại,Mã cấp trên\n"
    "HUYEN,Huyện Thủy Nguyên,district,\n"
    "XA1,Xã An Lư,commune,HUYEN\n"
    "THON1,Thôn Đông,village,XA1\n"
    "XA2,Xã Lập Lễ,commune,HUYEN\n"
)


def setup_world(world, db):  # type: ignore[no-untyped-def]
    ids = make_units(db, world.haiphong, UNITS)
    people = {"aa": "HUYEN", "bb": "XA1", "cc": "THON1", "dd": "XA2"}
    for username, code in people.items():
        make_user(db, world.haiphong, username, unit_id=ids[code])
    make_user(db, world.haiphong, "off", unit_id=ids["XA1"], is_active=False)
    # Same unit code in another province: never reached from Hải Phòng.
    other = make_units(db, world.quangninh, "Mã,Tên,Loại,Mã cấp trên\nXA1,Xã khác,commune,\n")
    make_user(db, world.quangninh, "qn", unit_id=other["XA1"])
    course = make_course(db, world.national, "cds", "Chuyển đổi số")
    db.commit()
    # Run by Hải Phòng's trainer (app.cohorts.service.managed_cohort_ids).
    return make_cohort(db, world.haiphong, course, "HP-01", created_by_id=world.users["haiphong_trainer"].id)


def enrolled(db, world) -> set[str]:  # type: ignore[no-untyped-def]
    with in_tenant(db, world.haiphong):
        return set(db.scalars(select(User.username).join(Enrolment, Enrolment.user_id == User.id)))


def test_enrol_unit_with_subunits_by_api(world, db, make_client) -> None:
    cohort = setup_world(world, db)
    admin = make_client("haiphong")
    admin.login_api("admin")
    r = admin.api("POST", f"/api/v1/cohorts/{cohort.id}/enrolments", json={"unit": "xa1"})
    assert r.status_code == 200, r.text
    assert r.json()["enrolled"] == 2
    assert enrolled(db, world) == {"bb", "cc"}  # the inactive account is left out
    r = admin.api("POST", f"/api/v1/cohorts/{cohort.id}/enrolments", json={"unit": "Huyện Thủy Nguyên"})
    assert (r.json()["enrolled"], r.json()["already_enrolled"]) == (2, 2)
    assert enrolled(db, world) == {"aa", "bb", "cc", "dd"}


def test_enrol_unit_only_and_unknown_unit(world, db, make_client) -> None:
    cohort = setup_world(world, db)
    admin = make_client("haiphong")
    admin.login_api("admin")
    r = admin.api(
        "POST", f"/api/v1/cohorts/{cohort.id}/enrolments", json={"unit": "XA1", "include_subunits": False}
    )
    assert r.json()["enrolled"] == 1
    assert enrolled(db, world) == {"bb"}
    r = admin.api("POST", f"/api/v1/cohorts/{cohort.id}/enrolments", json={"unit": "NOWHERE"})
    assert r.status_code == 404


def test_enrol_unit_page(world, db, make_client) -> None:
    cohort = setup_world(world, db)
    trainer = make_client("haiphong")
    trainer.login_page("trainer")
    page = f"/cohorts/{cohort.id}"
    r = trainer.submit(page, f"{page}/enrolments/unit", data={"unit": "THON1", "include_subunits": "1"})
    assert r.status_code == 200
    assert "Đã ghi danh: 1." in r.text
    assert enrolled(db, world) == {"cc"}

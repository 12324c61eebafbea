"""Who sees which report, the pages and API agree, exports are safe and audit-logged, visits are counted."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.reports.models import VisitDay
from app.reports.visits import VisitCounter
from app.tenancy.scoping import cross_tenant
from tests.factories import make_user


def _signed_in(make_client, slug: str, username: str):
    client = make_client(slug)
    assert client.login_page(username).status_code == 303
    return client


def test_admin_page_shows_figures_with_charts_and_tables(province, make_client) -> None:
    client = _signed_in(make_client, "haiphong", "admin")
    r = client.get("/reports?group_by=course")
    assert r.status_code == 200
    html = r.text
    assert 'role="img"' in html and '<title id="bars-t">' in html and "<svg" in html
    assert "style=" not in html.split("<main", 1)[1]  # the CSP forbids inline style
    assert "Chuyển đổi số cơ bản" in html and "<table>" in html
    assert 'href="/reports/learners?' in html
    r = client.get(f"/reports?group_by=unit&unit={province.units['X1']}")
    assert "Tổ dân phố 1" in r.text and "Phường Hoàng Văn Thụ" in r.text


def test_page_and_api_give_the_same_numbers(province, make_client) -> None:
    client = make_client("haiphong")
    client.login_api("admin")
    r = client.api("GET", "/api/v1/reports/summary?group_by=cohort")
    assert r.status_code == 200
    body = r.json()
    assert body["totals"] == {
        "assigned": 7,
        "started": 6,
        "completed": 5,
        "certified": 0,
        "completion_rate": 71.4,
        "late": 1,
        "average_score": None,
    }
    assert body["learners"] == 4
    cohort = next(i for i in body["items"] if i["key"] == str(province.cohort.id))
    assert set(cohort) >= {"key", "name", "assigned", "started", "completed", "certified", "completion_rate"}
    assert (cohort["name"], cohort["completed"]) == ("HP-01 – HP-01", 2)
    ranged = client.api("GET", "/api/v1/reports/summary?group_by=course&from=2026-03-12&to=2026-03-12").json()
    assert ranged["totals"]["completed"] == 3 and ranged["learners"] is None


def test_trainer_sees_only_their_cohorts_and_a_learner_nothing(province, db, make_client) -> None:
    trainer = make_client("haiphong")
    trainer.login_api("trainer")
    body = trainer.api("GET", "/api/v1/reports/summary?group_by=course").json()
    assert (body["totals"]["assigned"], body["totals"]["completed"]) == (3, 2)
    make_user(db, province.world.haiphong, "trainer2", roles=["trainer"])
    db.commit()
    other = make_client("haiphong")
    other.login_api("trainer2")
    assert other.api("GET", "/api/v1/reports/summary").json()["totals"]["assigned"] == 0
    learner = make_client("haiphong")
    learner.login_api("an")
    assert learner.api("GET", "/api/v1/reports/summary").status_code == 403
    assert _signed_in(make_client, "haiphong", "an").get("/reports").status_code == 403


def test_province_admin_sees_only_their_province_and_not_the_national_report(province, make_client) -> None:
    qn = make_client("quangninh")
    qn.login_api("admin")
    assert qn.api("GET", "/api/v1/reports/summary").json()["totals"]["assigned"] == 0
    assert qn.api("GET", "/api/v1/reports/tenants").status_code == 403
    hp = _signed_in(make_client, "haiphong", "admin")
    assert hp.get("/reports/national").status_code == 403
    assert hp.get("/reports/national/export.csv").status_code == 403


def test_national_admin_reads_every_province(province, make_client) -> None:
    client = make_client("national")
    client.login_api("admin")
    body = client.api("GET", "/api/v1/reports/tenants").json()
    first = body["items"][0]
    assert (first["key"], first["rank"], first["trainings"], first["learners"]) == ("haiphong", 1, 5, 4)
    assert first["coverage"]["team"] == {"covered": 1, "total": 1, "share": 100.0}
    assert body["totals"]["trainings"] == 5 and body["totals"]["learners"] == 4
    merged = client.api("GET", "/api/v1/reports/tenants?merged=true").json()
    assert merged["totals"]["trainings"] == body["totals"]["trainings"]
    # Hải Phòng absorbed Hải Dương on 1 July 2025: its row keeps the figures under the new province.
    assert merged["items"][0]["key"] == "haiphong"
    page = _signed_in(make_client, "national", "admin").get("/reports/national")
    assert (
        page.status_code == 200 and "Hải Phòng" in page.text and 'aria-labelledby="provinces-t"' in page.text
    )


def test_exports_neutralise_formulas_and_are_audit_logged(province, db, make_client) -> None:
    client = _signed_in(make_client, "haiphong", "admin")
    r = client.get("/reports/export.csv?table=summary&group_by=unit")
    assert r.status_code == 200 and r.headers["content-disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    names = [row[0] for row in rows]
    assert '\'=HYPERLINK("http://evil.example")' in names
    assert not any(name.startswith("=") for name in names)
    r = client.get("/reports/export.xlsx?table=learners&group_by=all&measure=completed")
    assert r.status_code == 200
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(r.content)).worksheets[0]
    cells = [c.value for row in sheet.iter_rows() for c in row]
    assert "'=cmd|' /C calc'!A0" in cells
    assert not any(isinstance(v, str) and v.startswith("=") for v in cells)
    with cross_tenant(db):
        events = list(
            db.scalars(
                select(AuditEvent).where(AuditEvent.action == "report.exported").order_by(AuditEvent.id)
            )
        )
    assert [(e.target, e.detail["format"], e.actor_id) for e in events] == [
        ("bao-cao-summary", "csv", province.world.users["haiphong_admin"].id),
        ("bao-cao-learners", "xlsx", province.world.users["haiphong_admin"].id),
    ]
    assert events[0].tenant_id == province.world.haiphong.id and events[0].detail["rows"] == 4


def test_visits_are_counted_in_memory_and_flushed_in_one_write(
    world, db, app, make_client, session_factory
) -> None:
    counter: VisitCounter = app.state.visit_counter
    counter.flush(session_factory)  # views of earlier tests in this process

    def stored() -> dict[int, int]:
        with cross_tenant(db):
            db.expire_all()
            return {v.tenant_id: v.count for v in db.scalars(select(VisitDay))}

    before = stored()
    client = make_client("haiphong")
    for url in ("/", "/courses", "/login"):
        assert client.get(url).status_code == 200
    client.get("/static/css/app.css")
    client.get("/api/v1/courses")
    client.get("/courses", headers={"HX-Request": "true"})
    client.get("/nowhere")  # 404
    make_client("quangninh").get("/")
    assert stored() == before  # nothing written per request
    assert counter.pending() == 4
    assert counter.flush(session_factory) == 4
    client.get("/")
    assert counter.flush(session_factory) == 1
    after = stored()
    assert after[world.haiphong.id] - before.get(world.haiphong.id, 0) == 4
    assert after[world.quangninh.id] - before.get(world.quangninh.id, 0) == 1


def test_a_new_portal_is_listed_in_the_national_report_before_any_activity(world, make_client) -> None:
    national = make_client("national")
    national.login_api("admin")
    assert (
        national.api(
            "POST", "/api/v1/tenants", json={"slug": "xa-moi", "display_name": "Cổng thử"}
        ).status_code
        == 201
    )
    rows = national.api("GET", "/api/v1/reports/tenants").json()["items"]
    row = next(r for r in rows if r["key"] == "xa-moi")
    assert (row["assigned"], row["completed"]) == (0, 0)
    assert "national" not in [r["key"] for r in rows]  # the national portal itself has no activity here

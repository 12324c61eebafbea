"""Units: import with parents in any order, cycles and unknown parents, the tree, paths and tenancy."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.errors import Invalid
from app.units import service
from app.units.models import Unit
from tests.factories import in_tenant, make_units


def run(db, tenant, text: str, *, dry_run: bool = False):
    with in_tenant(db, tenant):
        return service.import_units(db, text.encode(), lang="vi", dry_run=dry_run)


def units_by_code(db, tenant) -> dict[str, Unit]:
    with in_tenant(db, tenant):
        found = {u.code: u for u in db.scalars(select(Unit))}
        for u in found.values():
            db.expunge(u)
    return found


TREE = (
    "Mã cấp trên,Tên,Mã,Loại\n"  # columns in any order
    "X01,Thôn Đông,T01,Thôn/tổ dân phố\n"  # a child before its parents
    "HB,Phường Hoàng Văn Thụ,X01,xa phuong thi tran\n"
    ",Quận Hồng Bàng,HB,QUẬN/HUYỆN\n"
    ",Sở Y tế,SYT,Sở/ban/ngành\n"
    "X01,Tổ CNSCĐ Hoàng Văn Thụ,TCN01,Tổ CNSCĐ\n"
    ",Công ty Cổ phần Cảng,DN01,Doanh nghiệp\n"
)


def test_parents_after_children_and_materialised_paths(db, world) -> None:
    outcome = run(db, world.haiphong, TREE)
    assert (outcome.created, outcome.errors) == (6, [])
    units = units_by_code(db, world.haiphong)
    hb, x01, t01 = units["HB"], units["X01"], units["T01"]
    assert (hb.kind, x01.kind, t01.kind) == ("district", "commune", "village")
    assert (
        units["TCN01"].kind == "team"
        and units["SYT"].kind == "department"
        and units["DN01"].kind == "enterprise"
    )
    assert hb.path == f"/{hb.id}/" and x01.path == f"/{hb.id}/{x01.id}/"
    assert t01.path == f"/{hb.id}/{x01.id}/{t01.id}/" and t01.depth == 2
    with in_tenant(db, world.haiphong):
        under_hb = db.scalars(select(Unit.code).where(Unit.path.like(hb.path + "%"))).all()
    assert sorted(under_hb) == ["HB", "T01", "TCN01", "X01"]
    again = run(db, world.haiphong, TREE)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6)


def test_moving_a_unit_updates_its_subtree_paths(db, world) -> None:
    run(db, world.haiphong, TREE)
    outcome = run(db, world.haiphong, "Mã,Tên,Loại,Mã cấp trên\nX01,Phường Hoàng Văn Thụ,Xã,SYT\n")
    assert outcome.updated == 1
    units = units_by_code(db, world.haiphong)
    assert units["T01"].path == f"/{units['SYT'].id}/{units['X01'].id}/{units['T01'].id}/"


def test_cycle_and_unknown_parent_are_row_errors(db, world) -> None:
    text = (
        "Mã,Tên,Loại,Mã cấp trên\n"
        "A,Đơn vị A,department,C\n"
        "B,Đơn vị B,department,A\n"
        "C,Đơn vị C,department,B\n"
        "D,Đơn vị D,commune,KHONGCO\n"
        "E,Đơn vị E,commune,D\n"
        "F,Đơn vị F,hành tinh,\n"
        "G,Đơn vị G,commune,\n"
    )
    outcome = run(db, world.haiphong, text)
    by_row = {e.row: e.message for e in outcome.errors}
    assert all("vòng lặp" in by_row[row] for row in (2, 3, 4))
    assert "KHONGCO" in by_row[5] and "Dòng 5" in by_row[6]
    assert "hành tinh" in by_row[7]
    assert outcome.created == 1
    assert set(units_by_code(db, world.haiphong)) == {"G"}


def test_a_file_cannot_create_a_cycle_with_existing_units(db, world) -> None:
    run(db, world.haiphong, TREE)
    outcome = run(db, world.haiphong, "Mã,Tên,Loại,Mã cấp trên\nHB,Quận Hồng Bàng,district,T01\n")
    assert outcome.updated == 0 and "vòng lặp" in outcome.errors[0].message


def test_row_checks_report_each_problem_and_children_of_a_failed_row(db, world) -> None:
    text = (
        "Mã,Tên,Loại,Mã cấp trên\n"
        "A,Đơn vị A,department,\n"
        "a,Đơn vị A lặp,department,\n"  # codes match without regard to case
        "B,Đơn vị B,department,B\n"
        "C,,commune,A\n"  # no name
        "D,Đơn vị D,village,C\n"  # under the failed row
        "F,Đơn vị F,team,D\n"  # two levels under it
        "E,Đơn vị E,village,A\n"
    )
    outcome = run(db, world.haiphong, text)
    by_row = {e.row: e.message for e in outcome.errors}
    assert by_row[3] == "Mã a đã có ở dòng 2."
    assert by_row[4] == "Một đơn vị không thể là cấp trên của chính nó."
    assert by_row[5] == "Đơn vị cần có tên, tối đa 255 ký tự."
    assert (
        by_row[6] == "Dòng 5 của đơn vị cấp trên có lỗi."
        and by_row[7] == "Dòng 6 của đơn vị cấp trên có lỗi."
    )
    assert (outcome.created, outcome.error_rows) == (2, 5)
    assert set(units_by_code(db, world.haiphong)) == {"A", "E"}


def test_missing_columns_are_refused(db, world) -> None:
    with pytest.raises(Invalid):
        run(db, world.haiphong, "Tên,Loại\nSở Y tế,department\n")


def test_units_api_lists_only_this_tenant_and_admin_imports(world, db, client, make_client) -> None:
    make_units(db, world.quangninh, "Mã,Tên,Loại\nQN-SYT,Sở Y tế Quảng Ninh,department\n")
    client.login_api("admin")
    r = client.api(
        "POST",
        "/api/v1/units/import",
        files={"file": ("units.csv", TREE.encode("utf-8-sig"), "text/csv")},
        data={"dry_run": "false"},
    )
    assert r.status_code == 200 and r.json()["created"] == 6, r.text
    listed = client.api("GET", "/api/v1/units").json()
    assert listed["total"] == 6 and "QN-SYT" not in {u["code"] for u in listed["items"]}
    qn_unit = units_by_code(db, world.quangninh)["QN-SYT"]
    assert client.api("GET", f"/api/v1/units/{qn_unit.id}").status_code == 404
    # Quảng Ninh's admin token is refused on Hải Phòng's portal.
    qn = make_client("quangninh")
    stranger = make_client("haiphong")
    stranger.token = qn.login_api("admin")
    assert stranger.api("GET", "/api/v1/units").status_code == 401
    r = stranger.api("POST", "/api/v1/units/import", files={"file": ("u.csv", TREE.encode(), "text/csv")})
    assert r.status_code == 401
    learner = make_client("haiphong")
    learner.login_api("learner")
    r = learner.api("POST", "/api/v1/units/import", files={"file": ("u.csv", TREE.encode(), "text/csv")})
    assert r.status_code == 403


def test_import_api_row_errors_follow_accept_language(world, client) -> None:
    client.login_api("admin")
    bad = "Mã,Tên,Loại\n,Sở Y tế,department\n".encode()

    def first_error(lang: str) -> str:
        r = client.api(
            "POST",
            "/api/v1/units/import",
            files={"file": ("u.csv", bad, "text/csv")},
            headers={"Accept-Language": lang},
        )
        assert r.status_code == 200, r.text
        return r.json()["errors"][0]["message"]

    assert first_error("en-GB,en;q=0.8") == "A unit needs a code of at most 64 characters."
    assert first_error("vi") == "Đơn vị cần có mã, tối đa 64 ký tự."


def test_tree_page_and_import_form(world, db, client) -> None:
    client.login_page("admin")
    page = client.get("/admin")
    assert page.status_code == 200 and 'href="/admin/units"' in page.text
    token = client.csrf_from("/admin/units")
    r = client.post(
        "/admin/units/import",
        data={"csrf_token": token, "action": "import"},
        files={"file": ("units.csv", TREE.encode("utf-8"), "text/csv")},
    )
    assert r.status_code == 200 and "Hoàn tất: đã tạo 6 đơn vị" in r.text
    tree = client.get("/admin/units").text
    # A level at a time: the top of the tree, each unit with a link to the level below it.
    assert tree.index("Công ty Cổ phần Cảng") < tree.index("Quận Hồng Bàng") < tree.index("Sở Y tế")
    assert "Phường Hoàng Văn Thụ" not in tree and "Quận/huyện" in tree
    hb = units_by_code(db, world.haiphong)["HB"]
    below = client.get(f"/admin/units?parent={hb.id}").text  # without JavaScript: a page of its own
    assert "Phường Hoàng Văn Thụ" in below and "Xã/phường/thị trấn" in below and "Thôn Đông" not in below
    assert "Quận Hồng Bàng" in below  # in the trail of units above
    fragment = client.get(f"/admin/units?parent={hb.id}", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and "Phường Hoàng Văn Thụ" in fragment.text
    found = client.get("/admin/units?q=thon dong").text
    assert "Thôn Đông" in found and "Quận Hồng Bàng › Phường Hoàng Văn Thụ" in found

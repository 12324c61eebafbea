"""Real data: Vietnam's register of administrative units before July 2025 (tests/fixtures/units, 10,743 rows)
imported as a province admin would, names that differ only by their tone marks, the official communes since
1 July 2025 loaded from the shipped register, and the tree page at 10,000 units."""

from __future__ import annotations

import csv
import gzip
import io
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.core.text import fold
from app.units import official, service
from app.units.models import Unit
from app.units.service import UnitIndex, name_key
from tests.factories import in_tenant

REGISTER = Path(__file__).resolve().parents[1] / "fixtures" / "units" / "register_2025-03-01.csv.gz"
REGISTER_BYTES = gzip.decompress(REGISTER.read_bytes())


def register_rows() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(REGISTER_BYTES.decode("utf-8"))))


@pytest.fixture()
def national_register(db, world):  # type: ignore[no-untyped-def]
    with in_tenant(db, world.quangninh):
        outcome = service.import_units(db, REGISTER_BYTES, lang="vi", dry_run=False)
    return outcome


def test_the_national_register_imports_with_no_kind_error(db, world, national_register) -> None:
    assert (national_register.created, national_register.error_rows, national_register.errors) == (
        10_743,
        0,
        [],
    )
    with in_tenant(db, world.quangninh):
        kinds = dict(db.execute(select(Unit.kind, func.count()).group_by(Unit.kind)).all())
        depth = dict(db.execute(select(Unit.depth, func.count()).group_by(Unit.depth)).all())
    # Quận 49 + Huyện 508; Thành phố 87 + Thị xã 52 (district-level cities and towns); Phường, Xã, Thị trấn.
    assert kinds == {"district": 557, "city": 139, "commune": 10_047}
    assert depth == {0: 696, 1: 10_047}
    with in_tenant(db, world.quangninh):
        again = service.import_units(db, REGISTER_BYTES, lang="vi", dry_run=False)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 10_743)


def test_names_match_exactly_first_then_without_accents_only_when_unique(
    db, world, national_register
) -> None:
    with in_tenant(db, world.quangninh):
        index = service.load_index(db)
        code = {u.name + "/" + u.code: u.id for u in db.scalars(select(Unit))}
    thuong_thanh = code["Phường Thượng Thanh/00115"]  # Hà Nội
    thuong_thanh_ct = code["Phường Thường Thạnh/31198"]  # Cần Thơ: the same letters, other tones
    assert index.find("Phường Thượng Thanh") == (thuong_thanh, False)
    assert index.find("phường  thượng thanh") == (thuong_thanh, False)  # case and spaces aside
    assert index.find("Phường Thường Thạnh") == (thuong_thanh_ct, False)
    assert index.find("Phuong Thuong Thanh") == (None, True)  # without accents: two units, so ambiguous
    # A name with diacritics that match no unit is unknown, never taken for a unit without them.
    assert index.find("Phường Ân Hóa") == (None, False)
    # Tone placement is a spelling choice: Hoà = Hòa. Two units are called so (Hải Phòng, Đồng Tháp).
    assert index.find("Phường An Hòa") == (None, True)
    assert index.find("11590") == (code["Phường An Hoà/11590"], False)  # a code wins


def test_every_tone_colliding_pair_inside_a_province_resolves_to_its_own_unit() -> None:
    by_province: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    for number, row in enumerate(register_rows()):
        by_province[row["Tỉnh"]].append((number, row["Mã"], row["Tên"]))
    groups = 0
    for units in by_province.values():
        index = UnitIndex.of(units)
        exact = Counter(name_key(name) for _, _, name in units)
        folded: dict[str, set[str]] = defaultdict(set)
        for _, _, name in units:
            folded[fold(name)].add(name_key(name))
        for unit_id, _, name in units:
            if len(folded[fold(name)]) < 2:
                continue  # no other name in the province differs from this one by its tone marks alone
            unique = exact[name_key(name)] == 1
            assert index.find(name) == ((unit_id, False) if unique else (None, True)), name
            assert index.find(fold(name)) == (None, True), name  # typed without accents: which one?
        groups += sum(1 for keys in folded.values() if len(keys) > 1)
    # Names that fold alike but differ by their diacritics, inside single provinces (80 when case counts:
    # Gia Lai's "Xã AYun" and "Xã Ayun" are one name to a reader, and ambiguous by name).
    assert groups == 79


def test_the_official_register_has_the_34_provinces_and_3321_communes() -> None:
    assert len(official.provinces()) == 34
    communes = [u for p in official.provinces() for u in official.official_communes(p)]
    assert len(communes) == 3_321 and len({u.code for u in communes}) == 3_321
    kinds = Counter(u.name.split()[0] for u in communes)
    assert kinds == {"Xã": 2_621, "Phường": 687, "Đặc": 13}
    names = {u.code: u.name for u in communes}
    assert names["00226"] == "Phường Văn Miếu - Quốc Tử Giám"  # joined where the source table broke it
    assert len(official.official_communes("haiphong")) == 114


def test_the_province_admin_loads_the_official_communes_with_the_button(db, world, client) -> None:
    client.login_page("admin")
    page = client.get("/admin/units").text
    assert "Công văn 1027/CTK-CSCL" in page
    token = client.csrf_from("/admin/units")
    preview = client.post("/admin/units/official", data={"csrf_token": token, "action": "preview"})
    assert preview.status_code == 200 and "chưa có gì được lưu" in preview.text
    with in_tenant(db, world.haiphong):
        assert db.scalar(select(func.count()).select_from(Unit)) == 0
    done = client.post("/admin/units/official", data={"csrf_token": token, "action": "import"})
    assert done.status_code == 200 and "đã tạo 114 đơn vị" in done.text
    again = client.post("/admin/units/official", data={"csrf_token": token, "action": "import"})
    assert "đã tạo 0 đơn vị" in again.text
    with in_tenant(db, world.haiphong):
        units = {u.code: u for u in db.scalars(select(Unit))}
    assert len(units) == 114 and {u.kind for u in units.values()} == {"commune"}
    assert all(u.parent_id is None for u in units.values())
    # Then departments and teams below the communes, by their codes.
    commune = next(iter(units))
    with in_tenant(db, world.haiphong):
        below = service.import_units(
            db,
            f"Mã,Tên,Loại,Mã cấp trên\nT1,Tổ CNSCĐ số 1,Tổ CNSCĐ,{commune}\n".encode(),
            lang="vi",
            dry_run=False,
        )
    assert below.created == 1 and below.errors == []


def test_a_portal_that_is_not_one_of_the_34_provinces_is_told_why(db, world) -> None:
    from app.core.errors import Invalid

    with in_tenant(db, world.national), pytest.raises(Invalid) as exc:
        official.load_official_communes(db, world.national.slug, lang="vi", dry_run=True)
    assert "haiphong" in exc.value.params["provinces"]


def test_load_official_from_the_command_line(tmp_path, monkeypatch, capsys) -> None:
    from app import cli
    from app.core.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.setenv("COURSES_DIR", str(tmp_path / "none"))
    assert cli.main(["tenants", "create", "quangninh", "Quảng Ninh"]) == 0
    assert cli.main(["units", "load-official", "--tenant", "quangninh", "--dry-run"]) == 0
    assert "dry run: 54 created" in capsys.readouterr().out
    assert cli.main(["units", "load-official", "--tenant", "quangninh"]) == 0
    assert "done: 54 created" in capsys.readouterr().out
    assert cli.main(["units", "load-official", "--tenant", "quangninh"]) == 0
    assert "done: 0 created, 0 updated, 54 unchanged" in capsys.readouterr().out
    assert cli.main(["units", "load-official", "--tenant", "nowhere"]) == 2


def test_the_tree_page_opens_a_level_at_a_time_at_10000_units(db, world, client, national_register) -> None:
    client.login_page("admin")
    client.base_url = client.base_url.copy_with(host="quangninh.localhost")
    client.login_page("admin")
    page = client.get("/admin/units")
    assert page.status_code == 200
    assert len(page.content) < 64 * 1024  # 100 of the 696 districts; 1.45 MB when it held all 10,743 units
    assert "Hiển thị thêm (100/696)" in page.text and page.text.count('<li id="unit-') == 100
    with in_tenant(db, world.quangninh):
        ba_dinh = db.scalars(select(Unit).where(Unit.code == "001")).one()
    fragment = client.get(f"/admin/units?parent={ba_dinh.id}", headers={"HX-Request": "true"}).text
    assert "Phường Phúc Xá" in fragment and "<html" not in fragment
    more = client.get("/admin/units?offset=600", headers={"HX-Request": "true"}).text
    assert more.count('<li id="unit-') == 96
    found = client.get("/admin/units?q=phuc xa").text
    assert "Phường Phúc Xá" in found and "Quận Ba Đình" in found

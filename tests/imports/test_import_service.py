"""Account import at the service level: encodings, headers, checks, matching, idempotence, one transaction."""

from __future__ import annotations

import io
import unicodedata

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from app.accounts.models import User
from app.core.errors import Invalid
from app.imports import service
from app.imports.outcome import ImportOutcome
from tests.conftest import TEST_SECRET
from tests.factories import in_tenant, make_units

OPTIONS = service.ImportOptions(secret_key=TEST_SECRET)

HEADER = "Họ và tên,Tên đăng nhập,Email,Số điện thoại,Đơn vị,Chức vụ,Đối tượng,Đợt học\n"


def run(db, tenant, data: str | bytes, *, dry_run: bool = False) -> ImportOutcome:
    raw = data.encode() if isinstance(data, str) else data
    with in_tenant(db, tenant):
        return service.import_accounts(
            db, raw, tenant_id=tenant.id, lang="vi", dry_run=dry_run, options=OPTIONS
        )


def users(db, tenant) -> dict[str, User]:
    with in_tenant(db, tenant):
        found = {u.username: u for u in db.scalars(select(User))}
        for u in found.values():
            db.expunge(u)
    return found


def count(db, tenant) -> int:
    with in_tenant(db, tenant):
        return db.scalar(select(func.count()).select_from(User)) or 0


@pytest.fixture()
def units(db, world) -> dict[str, int]:
    return make_units(
        db,
        world.haiphong,
        "Mã,Tên,Loại,Mã cấp trên\nSYT,Sở Y tế,Sở/ban/ngành,\nHB,Huyện Hồng Bàng,Quận/huyện,\n"
        "X01,Xã An Lư,Xã/phường/thị trấn,HB\n",
    )


def test_vietnamese_headers_create_accounts_with_generated_usernames(db, world, units) -> None:
    text = HEADER + (
        'Nguyễn Văn An,,an.nv@haiphong.gov.vn,0901 234 567,SYT,Chuyên viên,"Cán bộ, công chức",Đợt 01\n'
        "Đặng Thị Hồng,,,+84 98 765 4321,Xã An Lư,,Người dân,Đợt 01\n"
        "Nguyễn Văn An,,an2@haiphong.gov.vn,,SYT,,Tổ CNSCĐ,\n"
    )
    preview = run(db, world.haiphong, text, dry_run=True)
    assert (preview.created, preview.updated, preview.errors) == (3, 0, [])
    assert count(db, world.haiphong) == 3  # the world's three accounts: a dry run writes nothing
    assert [r["cohort"] for r in preview.rows] == ["Đợt 01", "Đợt 01", None]

    done = run(db, world.haiphong, text)
    assert done.created == 3 and done.credentials_batch_id is not None
    made = users(db, world.haiphong)
    # "annv" is free in this tenant (the world's learner is "learner"), then "annv2".
    assert made["annv"].phone == "0901234567" and made["annv"].target_group == "civil_servant"
    assert made["annv"].unit_id == units["SYT"] and made["annv"].position == "Chuyên viên"
    assert made["hongdt"].phone == "0987654321" and made["hongdt"].unit_id == units["X01"]
    assert made["hongdt"].target_group == "citizen"
    assert made["annv2"].target_group == "digital_team_member"
    for name in ("annv", "hongdt", "annv2"):
        assert made[name].must_change_password and made[name].password_hash is None
        assert made[name].initial_secret_hash and made[name].initial_secret_expires_at
        assert made[name].tenant_id == world.haiphong.id


def test_english_headers_in_any_order_and_extra_columns_reported(db, world) -> None:
    text = "phone,Ghi chú,FULL_NAME,group,username\n0912000111,VIP,Trần Bình,citizen,binhtran\n"
    outcome = run(db, world.haiphong, text)
    assert outcome.created == 1 and outcome.ignored_columns == ["Ghi chú"]
    assert users(db, world.haiphong)["binhtran"].phone == "0912000111"


def test_missing_name_column_is_a_clear_error(db, world) -> None:
    with pytest.raises(Invalid) as exc:
        run(db, world.haiphong, "username,email\nabc,a@b.vn\n")
    assert exc.value.code == "columns"


@pytest.mark.parametrize(
    "encode",
    [
        lambda t: t.encode("utf-8"),
        lambda t: t.encode("utf-8-sig"),
        lambda t: t.replace(",", "\t").encode("utf-16"),  # Excel's "Unicode text"
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-tab"],
)
def test_encodings_excel_produces(db, world, encode) -> None:
    outcome = run(db, world.haiphong, encode("Họ và tên,Số điện thoại\nĐỗ Thị Ngọc Ánh,0933444555\n"))
    assert outcome.created == 1 and not outcome.errors
    assert users(db, world.haiphong)["anhdtn"].full_name == "Đỗ Thị Ngọc Ánh"


def test_legacy_code_page_is_refused_not_stored_as_mojibake(db, world) -> None:
    data = "Họ và tên,Số điện thoại\nNguyễn Văn Bé,0933444555\n".encode("cp1258", errors="replace")
    with pytest.raises(Invalid) as exc:
        run(db, world.haiphong, data)
    assert exc.value.code == "encoding"
    assert count(db, world.haiphong) == 3


def test_decomposed_names_are_stored_nfc(db, world) -> None:
    nfd = unicodedata.normalize("NFD", "Phạm Thị Thuỳ")
    run(db, world.haiphong, f"Họ và tên,Số điện thoại\n  {nfd}  ,0933444556\n")
    user = users(db, world.haiphong)["thuypt"]
    assert user.full_name == unicodedata.normalize("NFC", "Phạm Thị Thuỳ")


def test_row_errors_name_the_column_in_vietnamese(db, world, units) -> None:
    text = HEADER + (
        "Lê Văn Một,,khong-phai-email,0901111111,SYT,,Cán bộ,\n"
        "Lê Văn Hai,,,12345,SYT,,,\n"
        "Lê Văn Ba,,,0901111113,Sở Không Có,,,\n"
        "Lê Văn Bốn,,,0901111114,,,Người ngoài hành tinh,\n"
        ",,,0901111115,,,,\n"
        "Lê Văn Sáu,,,,,,,\n"
        "Lê Văn Bảy,,,0901111117,SYT,,,\n"
    )
    outcome = run(db, world.haiphong, text)
    by_row = {e.row: e for e in outcome.errors}
    assert by_row[2].column == "Email" and "email" in by_row[2].message.lower()
    assert by_row[3].column == "Số điện thoại" and "số điện thoại" in by_row[3].message.lower()
    assert by_row[4].column == "Đơn vị" and "Sở Không Có" in by_row[4].message
    assert by_row[5].column == "Đối tượng" and "Người ngoài hành tinh" in by_row[5].message
    assert by_row[6].column == "Họ và tên"
    assert 7 in by_row  # no username, email or phone: could not be matched next time
    assert outcome.created == 1 and set(users(db, world.haiphong)) >= {"baylv"}
    assert count(db, world.haiphong) == 4


def test_xlsx_with_numbers_for_phones(db, world, units) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["Họ và tên", "Số điện thoại", "Đơn vị", "Email"])
    ws.append(["Vũ Thị Lan", 912345000, "syt", "LAN.VT@HAIPHONG.GOV.VN"])
    buf = io.BytesIO()
    wb.save(buf)
    outcome = run(db, world.haiphong, buf.getvalue())
    assert outcome.created == 1, outcome.errors
    lan = users(db, world.haiphong)["lanvt"]
    assert lan.phone == "0912345000" and lan.unit_id == units["SYT"] and lan.email == "lan.vt@haiphong.gov.vn"


def test_duplicates_in_the_file_and_against_the_database(db, world) -> None:
    text = (
        "Họ và tên,Tên đăng nhập,Email,Số điện thoại\n"
        "Hoàng Văn Nam,namhv,nam@hp.vn,0907000001\n"
        "Hoàng Văn Nam,,nam@hp.vn,0907000002\n"  # same email as row 2
        "Nguyễn Văn An,,,0912345678\n"  # no username: matched to the world's learner by phone
        "Người Thứ Ba,khac,an@haiphong.vn,\n"  # new username, but the learner's email
    )
    outcome = run(db, world.haiphong, text)
    by_row = {e.row: e for e in outcome.errors}
    assert by_row[3].column == "Email" and "dòng 2" in by_row[3].message
    assert 4 not in by_row and outcome.rows[2]["username"] == "learner"
    # A new username with an email that already belongs to someone else is a conflict, not a match.
    assert by_row[5].column == "Email" and "learner" in by_row[5].message
    assert outcome.created == 1 and outcome.unchanged == 1


def test_same_file_twice_changes_nothing_and_an_edit_updates_one_field(db, world, units) -> None:
    text = HEADER + (
        "Nguyễn Văn An,,an.nv@haiphong.gov.vn,0901234567,SYT,Chuyên viên,Cán bộ,\n"
        "Trần Thị Bích,,,0902345678,HB,,Người dân,\n"
    )
    first = run(db, world.haiphong, text)
    assert first.created == 2
    before = users(db, world.haiphong)
    again = run(db, world.haiphong, text)
    assert (again.created, again.updated, again.unchanged, again.errors) == (0, 0, 2, [])
    assert again.credentials_batch_id is None
    assert count(db, world.haiphong) == 5

    edited = text.replace("Chuyên viên", "Trưởng phòng")
    third = run(db, world.haiphong, edited)
    assert (third.created, third.updated, third.unchanged) == (0, 1, 1)
    assert third.rows[0]["changes"] == ["position"]
    after = users(db, world.haiphong)
    assert after["annv"].position == "Trưởng phòng"
    assert after["annv"].initial_secret_hash == before["annv"].initial_secret_hash  # password untouched
    assert after["bichtt"].full_name == before["bichtt"].full_name


def test_empty_cells_never_erase_and_usernames_match_first(db, world) -> None:
    run(
        db, world.haiphong, "Họ và tên,Tên đăng nhập,Email,Số điện thoại\nLý Thu,thuly,thu@hp.vn,0903000003\n"
    )
    outcome = run(db, world.haiphong, "Họ và tên,Tên đăng nhập,Email\nLý Thị Thu,THULY,\n")
    assert outcome.updated == 1 and outcome.rows[0]["changes"] == ["full_name"]
    thu = users(db, world.haiphong)["thuly"]
    assert thu.full_name == "Lý Thị Thu" and thu.email == "thu@hp.vn" and thu.phone == "0903000003"


def test_username_generation_avoids_the_tenant_and_the_file(db, world) -> None:
    run(db, world.haiphong, "Họ và tên,Tên đăng nhập,Số điện thoại\nNguyễn Văn An,annv,0904000000\n")
    text = "Họ và tên,Tên đăng nhập,Số điện thoại\n" + "".join(
        f"Nguyễn Văn An,,09040000{i:02d}\n" for i in range(1, 4)
    )
    text += "Ngô Văn An,annv3,0904000099\n"  # an explicit username later in the file is kept free
    outcome = run(db, world.haiphong, text)
    assert not outcome.errors
    assert [r["username"] for r in outcome.rows] == ["annv2", "annv4", "annv5", "annv3"]
    assert [r["generated_username"] for r in outcome.rows] == [True, True, True, False]
    # Other tenants are not looked at: Quảng Ninh gets its own "annv".
    other = run(db, world.quangninh, "Họ và tên,Số điện thoại\nNguyễn Văn An,0904000000\n")
    assert other.rows[0]["username"] == "annv"


def test_password_column_becomes_a_one_time_password(db, world) -> None:
    text = "Họ và tên,Tên đăng nhập,Mật khẩu\nPhan Văn Tú,tupv,Matkhau2025\nPhan Văn Tư,tupv2,123\n"
    outcome = run(db, world.haiphong, text)
    assert outcome.created == 1
    assert [e.column for e in outcome.errors] == ["Mật khẩu"]
    tu = users(db, world.haiphong)["tupv"]
    assert tu.password_hash is None and tu.must_change_password
    assert tu.initial_secret_hash == service.accounts.initial_secret_hash(TEST_SECRET, "Matkhau2025")


def test_commit_is_one_transaction(db, world, monkeypatch) -> None:
    """A failure while writing (here: the credential batch, after every user insert) leaves nothing behind."""
    text = "Họ và tên,Số điện thoại\n" + "".join(f"Người Số {i},0905{i:06d}\n" for i in range(5000))

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(service.credentials, "store_batch", boom)
    monkeypatch.setattr(service, "_BATCH", 700)  # several insert batches are written before the failure
    savepoint = db.begin_nested()
    with pytest.raises(RuntimeError):
        run(db, world.haiphong, text)
    savepoint.rollback()
    assert count(db, world.haiphong) == 3
    monkeypatch.undo()
    assert run(db, world.haiphong, text).created == 5000
    assert count(db, world.haiphong) == 5003

"""What an uploaded table may hold (issue 14, item 3): rows (empty ones counted), columns, cell sizes and the
workbook's unpacked size, checked while the file is read; no `<dimension>` trusted; the file read before the
database's write lock is taken."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator

import pytest
from openpyxl import Workbook

from app.core import spreadsheets
from app.core.errors import Invalid
from app.core.spreadsheets import TableLimits, estimate_rows, read_table

HEADER = ["Họ và tên", "Tên đăng nhập"]
FAR_CELL = '<c r="BA2" t="inlineStr"><is><t>x</t></is></c>'  # column 53, past the 50 allowed


def workbook(rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rewrite_sheet(data: bytes, change: Callable[[str], str]) -> bytes:
    """The same workbook with its first sheet's XML changed (what a crafted or odd file holds)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = change(content.decode()).encode()
            target.writestr(info, content)
    return out.getvalue()


def row_gap_bomb(row_number: int) -> bytes:
    """A ~5 KB workbook whose only data row is numbered `row_number`, without a `<dimension>`."""
    data = workbook([["Lê Văn Tám", "tamlv"]])

    def change(xml: str) -> str:
        xml = re.sub(r"<dimension[^>]*/>", "", xml)
        return (
            xml.replace('r="2"', f'r="{row_number}"')
            .replace("A2", f"A{row_number}")
            .replace("B2", f"B{row_number}")
        )

    return rewrite_sheet(data, change)


def rows_of(data: bytes, limits: TableLimits = spreadsheets.DEFAULT_LIMITS) -> list[tuple[int, list[str]]]:
    return list(read_table(data, limits).rows)


def refusal(data: bytes, limits: TableLimits = spreadsheets.DEFAULT_LIMITS) -> Invalid:
    with pytest.raises(Invalid) as caught:
        rows_of(data, limits)
    return caught.value


def test_a_row_gap_bomb_is_refused_at_its_first_row() -> None:
    """Found in review: 16 s of CPU for a 2 KB file whose only row was number 20,000,000."""
    bomb = row_gap_bomb(20_000_000)
    assert len(bomb) < 6000
    error = refusal(bomb)
    assert error.code == "too_many_rows" and error.params["n"] == 200_000
    with pytest.raises(Invalid):  # the estimate that picks the background path reads the sheet too
        estimate_rows(bomb)


def test_empty_rows_count_towards_the_row_limit() -> None:
    limits = TableLimits(rows=100)
    assert rows_of(row_gap_bomb(101), limits)[-1] == (101, ["Lê Văn Tám", "tamlv"])
    assert refusal(row_gap_bomb(102), limits).code == "too_many_rows"
    csv = ("Họ và tên\n" + "\n" * 100 + "An\n").encode()
    assert refusal(csv, limits).code == "too_many_rows"


def test_rows_past_a_wrong_dimension_are_read_not_dropped() -> None:
    """Found in review: a 300,000-row file whose `<dimension>` said one row imported one row, silently."""
    data = rewrite_sheet(
        workbook([[f"Người {i}", f"nguoi{i}"] for i in range(300)]),
        lambda xml: re.sub(r'<dimension ref="[^"]*"', '<dimension ref="A1:B2"', xml),
    )
    rows = rows_of(data)
    assert len(rows) == 300 and rows[-1] == (301, ["Người 299", "nguoi299"])
    assert estimate_rows(data) == 300


def test_a_value_past_the_column_limit_is_refused_naming_its_row_and_column() -> None:
    data = rewrite_sheet(
        workbook([["Lê Văn Tám", "tamlv"]]),
        lambda xml: xml.replace(
            "</row></sheetData>", '<c r="BA2" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
        ),
    )
    error = refusal(data)
    assert error.code == "too_many_columns" and (error.params["row"], error.params["column"]) == (2, "BA")
    csv = ("Họ và tên" + "," * 60 + "x\nAn\n").encode()
    assert refusal(csv).code == "too_many_columns"


def test_empty_formatted_cells_far_to_the_right_are_no_reason_to_refuse() -> None:
    data = rewrite_sheet(
        workbook([["Lê Văn Tám", "tamlv"]]),
        lambda xml: xml.replace("</row></sheetData>", '<c r="XFD2" s="0"/></row></sheetData>'),
    )
    assert rows_of(data) == [(2, ["Lê Văn Tám", "tamlv"])]
    assert (
        read_table(("Họ và tên,Tên đăng nhập" + "," * 80 + "\nAn,an" + "," * 80 + "\n").encode()).headers[:2]
        == HEADER
    )


def test_a_row_wider_than_any_excel_sheet_is_refused_before_it_is_built() -> None:
    cells = "<c/>" * 20_000
    data = rewrite_sheet(
        workbook([]), lambda xml: xml.replace("</sheetData>", f'<row r="2">{cells}</row></sheetData>')
    )
    assert refusal(data).code == "format"


def test_a_cell_past_the_size_limit_is_refused_naming_its_row_and_column() -> None:
    long_name = "A" * 2001
    for data in (workbook([["An", long_name]]), f"Họ và tên,Tên đăng nhập\nAn,{long_name}\n".encode()):
        error = refusal(data)
        assert error.code == "cell_too_long" and (error.params["row"], error.params["column"]) == (2, "B")


def test_a_workbook_that_unpacks_past_the_limit_is_refused_before_it_is_opened() -> None:
    data = workbook([["An", "x" * 1000] for _ in range(300)])
    error = refusal(data, TableLimits(unpacked_bytes=100_000))
    assert error.code == "too_large_unpacked"


def test_a_document_type_declaration_is_refused() -> None:
    data = rewrite_sheet(workbook([]), lambda xml: '<!DOCTYPE x [<!ENTITY a "aaaa">]>' + xml)
    with pytest.raises(Invalid):
        rows_of(data)


def test_reading_longer_than_the_time_limit_is_refused(monkeypatch) -> None:
    clock: Iterator[float] = iter(range(0, 10_000, 30))
    monkeypatch.setattr(spreadsheets.time, "monotonic", lambda: float(next(clock)))
    data = ("Họ và tên\n" + "An\n" * 5000).encode()
    assert refusal(data, TableLimits(seconds=60)).code == "too_slow"


# Over HTTP -----------------------------------------------------------------------------------------------


def upload(client, path: str, data: bytes, **form: str):  # type: ignore[no-untyped-def]
    name = "ds.xlsx" if data.startswith(b"PK") else "ds.csv"
    return client.api("POST", path, files={"file": (name, data, "application/octet-stream")}, data=form)


@pytest.mark.parametrize("path", ["/api/v1/users/import", "/api/v1/units/import"])
def test_both_imports_refuse_the_bomb_with_a_clear_message(world, client, path: str) -> None:
    """The units import had no row limit at all."""
    client.login_api("admin")
    r = upload(client, path, row_gap_bomb(20_000_000), dry_run="true")
    assert r.status_code == 422 and r.json()["code"] == "too_many_rows", r.text
    assert "200.000" in r.json()["detail"] or "200000" in r.json()["detail"]


def test_limits_come_from_the_settings(world, app, client, monkeypatch) -> None:
    monkeypatch.setattr(app.state.settings, "import_max_rows", 3)
    client.login_api("admin")
    csv = "Mã,Tên,Loại\n" + "".join(f"X{i},Xã {i},commune\n" for i in range(4))
    r = upload(client, "/api/v1/units/import", csv.encode(), dry_run="true")
    assert r.status_code == 422 and r.json()["code"] == "too_many_rows"


def test_the_file_is_read_before_the_write_lock_is_taken(world, client, monkeypatch) -> None:
    """Found in review: a dry run held the database's write lock for its whole parse (a completion on another
    portal waited 30 s, then got a 503)."""
    from app.core import db as core_db
    from app.core import deps as core_deps
    from app.imports import service as imports_service
    from app.units import routes_api as units_routes

    events: list[str] = []
    real_begin, real_read, real_load = (
        core_db.begin_write,
        imports_service.read_table,
        units_routes.load_table,
    )

    def begin(session):  # type: ignore[no-untyped-def]
        events.append("lock")
        return real_begin(session)

    def read(*args, **kwargs):  # type: ignore[no-untyped-def]
        table = real_read(*args, **kwargs)
        rows = list(table.rows)
        events.append("read")
        return spreadsheets.Table(table.headers, iter(rows), table.kind)

    def load(*args, **kwargs):  # type: ignore[no-untyped-def]
        table = real_load(*args, **kwargs)
        events.append("read")
        return table

    monkeypatch.setattr(core_db, "begin_write", begin)
    monkeypatch.setattr(core_deps, "begin_write", begin)
    monkeypatch.setattr(imports_service, "read_table", read)
    monkeypatch.setattr(units_routes, "load_table", load)
    client.login_api("admin")
    accounts = "Họ và tên,Tên đăng nhập\nLê Văn Tám,tamlv\n".encode()
    units = "Mã,Tên,Loại\nX1,Xã Một,commune\n".encode()
    for path, data in (("/api/v1/users/import", accounts), ("/api/v1/units/import", units)):
        for dry_run, expected in (("true", ["read"]), ("false", ["read", "lock"])):
            events.clear()
            r = upload(client, path, data, dry_run=dry_run)
            assert r.status_code == 200, r.text
            assert events == expected, (path, dry_run, events)

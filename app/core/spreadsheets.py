"""Reading uploaded tables (CSV in UTF-8/UTF-16, XLSX) and writing spreadsheets that cannot inject formulas.

Admins upload what Excel saves: "CSV UTF-8" (with a BOM), plain UTF-8 CSV, "Unicode text" (UTF-16 with a BOM,
tab-separated) or an XLSX workbook. Anything else — a legacy code page such as Windows-1258 — is refused
with a clear message instead of being guessed, so no mojibake ever reaches the database.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from app.core.errors import N_, Invalid
from app.core.text import printable

_XLSX_MAGIC = b"PK\x03\x04"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_XLS_MAGIC = b"\xd0\xcf\x11\xe0"
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# OWASP "CSV injection": a cell starting with one of these is run as a formula by spreadsheet programs.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Table:
    """An uploaded table: header cells and an iterator over data rows with their spreadsheet row number."""

    headers: list[str]
    rows: Iterator[tuple[int, list[str]]]
    kind: str  # "csv" | "xlsx"


def cell_text(value: Any) -> str:
    """A cell as text: Excel's numbers (phones typed as numbers) lose their `.0`, dates become dd/mm/yyyy."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y") if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def decode_text(data: bytes) -> str:
    """Decode an uploaded text file: UTF-8 (BOM optional) or UTF-16 with a BOM; anything else is refused."""
    if data.startswith(_UTF8_BOM):
        encoding = "utf-8-sig"
    elif data.startswith(_UTF16_BOMS):
        encoding = "utf-16"
    else:
        encoding = "utf-8"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise Invalid(
            N_(
                "The file is not in UTF-8 (byte {position}). In Excel choose “Save as” → “CSV UTF-8 "
                "(comma delimited)” or “Unicode text”, or upload the .xlsx workbook itself."
            ),
            code="encoding",
            position=exc.start + 1,
        ) from exc


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_table(data: bytes) -> Table:
    text = decode_text(data)
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    try:
        headers = next(reader)
    except StopIteration:
        raise Invalid(N_("The file is empty."), code="empty") from None
    except csv.Error as exc:
        raise Invalid(N_("The file is not a readable CSV file."), code="format") from exc

    def rows() -> Iterator[tuple[int, list[str]]]:
        number = 1
        try:
            for record in reader:
                number += 1
                yield number, record
        except csv.Error as exc:
            raise Invalid(
                N_("The CSV file cannot be read after row {row}."), code="format", row=number
            ) from exc

    return Table([h.strip() for h in headers], rows(), "csv")


def _xlsx_table(data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds of errors for a damaged workbook
        raise Invalid(N_("The Excel workbook cannot be opened."), code="format") from exc
    sheet = workbook.worksheets[0]
    values = sheet.iter_rows(values_only=True)
    try:
        headers = [cell_text(v).strip() for v in next(values)]
    except StopIteration:
        workbook.close()
        raise Invalid(N_("The file is empty."), code="empty") from None
    while headers and not headers[-1]:
        headers.pop()

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for number, record in enumerate(values, start=2):
                yield number, [cell_text(v) for v in record]
        finally:
            workbook.close()

    return Table(headers, rows(), "xlsx")


def read_table(data: bytes) -> Table:
    """Open an uploaded CSV or XLSX file (recognised by its content, not its name)."""
    if not data.strip():
        raise Invalid(N_("The file is empty."), code="empty")
    if data.startswith(_XLSX_MAGIC):
        return _xlsx_table(data)
    if data.startswith(_XLS_MAGIC):
        raise Invalid(
            N_("Old Excel files (.xls) are not supported. Save the file as .xlsx or “CSV UTF-8” first."),
            code="format",
        )
    return _csv_table(data)


def estimate_rows(data: bytes) -> int:
    """A cheap upper estimate of the number of data rows, to decide whether to run in the background."""
    if data.startswith(_XLSX_MAGIC):
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True)
            count = max(0, (workbook.worksheets[0].max_row or 0) - 1)
            workbook.close()
            return count
        except Exception:
            return 0
    if data.startswith(_UTF16_BOMS):
        return data.count(b"\n\x00") or data.count(b"\x00\n")
    return data.count(b"\n")


def safe_cell(value: Any) -> Any:
    """A cell a spreadsheet program opens safely, whatever was stored: invisible characters (which XLSX
    cannot even hold) removed, and formulas neutralised: text starting with =, +, -, @ (or tab/CR) gets a
    leading apostrophe."""
    if not isinstance(value, str):
        return value
    value = printable(value)
    if value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def write_xlsx(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str = "Sheet1") -> bytes:
    """A one-sheet XLSX workbook, streamed (100,000 rows stay small in memory); every cell neutralised."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append([safe_cell(h) for h in headers])
    for row in rows:
        sheet.append([safe_cell(v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def write_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 CSV with a BOM (so Excel opens Vietnamese text correctly); every cell is neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_cell(h) for h in headers])
    for row in rows:
        writer.writerow([safe_cell("" if v is None else v) for v in row])
    return _UTF8_BOM + out.getvalue().encode("utf-8")


def fold_key(value: str) -> str:
    """Fold a header or code word for matching: `Sở/ban/ngành` → `so ban nganh`."""
    from app.core.text import fold

    return " ".join("".join(ch if ch.isalnum() else " " for ch in fold(value)).split())


def match_headers(
    headers: Sequence[str], aliases: dict[str, str]
) -> tuple[dict[str, int], list[str], list[str]]:
    """Map header cells to fields through folded aliases.

    Returns (field → column index, ignored header labels, fields that appear twice).
    """
    columns: dict[str, int] = {}
    ignored: list[str] = []
    doubled: list[str] = []
    for index, label in enumerate(headers):
        if not label.strip():
            continue
        field = aliases.get(fold_key(label))
        if field is None:
            ignored.append(label)
        elif field in columns:
            doubled.append(label)
        else:
            columns[field] = index
    return columns, ignored, doubled

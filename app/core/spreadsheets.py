"""Reading uploaded tables (CSV in UTF-8/UTF-16, XLSX) and writing spreadsheets that cannot inject formulas.

Admins upload what Excel saves: "CSV UTF-8" (with a BOM), plain UTF-8 CSV, "Unicode text" (UTF-16 with a BOM,
tab-separated) or an XLSX workbook. Anything else — a legacy code page such as Windows-1258 — is refused
with a clear message instead of being guessed, so no mojibake ever reaches the database.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from xml.parsers import expat

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


@dataclass(frozen=True)
class TableLimits:
    """What an uploaded table may hold (docs/limits.md), checked while it is read, before any row is used.

    A sheet's rows are counted by their numbers, empty ones included: a 2 KB workbook whose only row is
    number 20,000,000 is refused at once instead of walking twenty million empty rows. `<dimension>` is never
    trusted. Columns are those holding a value.
    """

    rows: int = 200_000
    columns: int = 50
    cell_chars: int = 2000
    seconds: float = 60.0
    unpacked_bytes: int = 300 * 1024 * 1024

    @classmethod
    def of(cls, settings: Any) -> TableLimits:
        return cls(
            rows=settings.import_max_rows,
            columns=settings.import_max_columns,
            cell_chars=settings.import_max_cell_chars,
            seconds=settings.import_max_parse_seconds,
            unpacked_bytes=settings.import_max_unpacked_mb * 1024 * 1024,
        )


DEFAULT_LIMITS = TableLimits()
# Excel's own widest sheet: a row with more cells than this is not a worksheet but a trap.
_EXCEL_MAX_COLUMN = 16_384
_CHECK_EVERY = 1000  # rows between two looks at the clock


class _Reading:
    """The limits of one read, and its clock."""

    def __init__(self, limits: TableLimits) -> None:
        self.limits = limits
        self.deadline = time.monotonic() + limits.seconds

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise Invalid(
                N_("Reading the file took longer than {n} seconds. Please split it into smaller files."),
                code="too_slow",
                n=int(self.limits.seconds),
            )

    def check_row(self, number: int) -> None:
        """`number`: the sheet's row number (the header is row 1)."""
        if number - 1 > self.limits.rows:
            raise Invalid(
                N_("The file has more than {n} rows (empty rows count too). Please split it."),
                code="too_many_rows",
                n=self.limits.rows,
            )
        if number % _CHECK_EVERY == 0:
            self.check_time()

    def check_cells(self, number: int, record: Sequence[str]) -> None:
        width = len(record)
        while width and not record[width - 1].strip():
            width -= 1
        if width > self.limits.columns:
            self.too_many_columns(number, width)
        for index, text in enumerate(record[:width]):
            if len(text) > self.limits.cell_chars:
                raise Invalid(
                    N_("Row {row}, column {column}: a cell holds more than {n} characters."),
                    code="cell_too_long",
                    row=number,
                    column=column_name(index + 1),
                    n=self.limits.cell_chars,
                )

    def too_many_columns(self, number: int, column: int) -> None:
        raise Invalid(
            N_("Row {row} has a value in column {column}: a file may use at most {n} columns."),
            code="too_many_columns",
            row=number,
            column=column_name(column),
            n=self.limits.columns,
        )


def column_name(index: int) -> str:
    """1 → A, 27 → AA: the column as a spreadsheet program shows it."""
    name = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


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


def _csv_table(data: bytes, reading: _Reading) -> Table:
    text = decode_text(data)
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    try:
        headers = next(reader)
    except StopIteration:
        raise Invalid(N_("The file is empty."), code="empty") from None
    except csv.Error as exc:
        raise Invalid(N_("The file is not a readable CSV file."), code="format") from exc
    reading.check_cells(1, headers)

    def rows() -> Iterator[tuple[int, list[str]]]:
        number = 1
        try:
            for record in reader:
                number += 1
                reading.check_row(number)
                reading.check_cells(number, record)
                yield number, record
        except csv.Error as exc:
            raise Invalid(
                N_("The CSV file cannot be read after row {row}."), code="format", row=number
            ) from exc

    return Table([h.strip() for h in headers], rows(), "csv")


def _open_workbook(data: bytes, reading: _Reading) -> Any:
    """The workbook, read-only, once its parts' unpacked size is known to be within the limit."""
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError) as exc:
        raise Invalid(N_("The Excel workbook cannot be opened."), code="format") from exc
    if unpacked > reading.limits.unpacked_bytes:
        raise Invalid(
            N_(
                "The Excel workbook unpacks to more than {n} MB. Remove what the import does not need "
                "(pictures, other sheets) or save it as “CSV UTF-8”."
            ),
            code="too_large_unpacked",
            n=reading.limits.unpacked_bytes // (1024 * 1024),
        )
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds of errors for a damaged workbook
        raise Invalid(N_("The Excel workbook cannot be opened."), code="format") from exc


def _scan_sheet(sheet: Any, reading: _Reading) -> tuple[int, int]:
    """Walk the first sheet's XML once, without building it, before openpyxl reads it: its last row number
    (empty rows and any `<dimension>` aside) and the last column holding a value, each checked against the
    limits. openpyxl pads every missing row and cell, so a row numbered 20,000,000 or a cell in column XFD
    costs it millions of steps; here they cost one."""
    state = {"row": 0, "cells": 0, "column": 0, "width": 0}

    def start(name: str, attrs: dict[str, str]) -> None:
        tag = name.rpartition(" ")[2]
        if tag == "c":
            ref = attrs.get("r", "")
            letters = ref.rstrip("0123456789")
            state["column"] = _column_index(letters) if letters else state["column"] + 1
            state["cells"] += 1
            if state["column"] > _EXCEL_MAX_COLUMN or state["cells"] > _EXCEL_MAX_COLUMN:
                raise Invalid(N_("The Excel workbook cannot be opened."), code="format")
        elif tag in ("v", "is"):  # the cell holds a value
            if state["column"] > reading.limits.columns:
                reading.too_many_columns(state["row"], state["column"])
            state["width"] = max(state["width"], state["column"])
        elif tag == "row":
            number = attrs.get("r", "")
            state["row"] = int(number) if number.isascii() and number.isdigit() else state["row"] + 1
            state["cells"] = state["column"] = 0
            reading.check_row(state["row"])

    def refuse(*_: Any) -> None:
        raise Invalid(N_("The Excel workbook cannot be opened."), code="format")

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = start
    parser.StartDoctypeDeclHandler = refuse  # no DTD, so no entity can expand
    parser.EntityDeclHandler = refuse
    try:
        with sheet._get_source() as source:  # the sheet's part in the archive (openpyxl keeps it private)
            while chunk := source.read(1024 * 1024):
                parser.Parse(chunk, False)
                reading.check_time()
            parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise Invalid(N_("The Excel workbook cannot be opened."), code="format") from exc
    return state["row"], state["width"]


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters.upper()[:4]:
        if not "A" <= letter <= "Z":
            return _EXCEL_MAX_COLUMN + 1
        index = index * 26 + ord(letter) - 64
    return index if len(letters) <= 3 else _EXCEL_MAX_COLUMN + 1


def _xlsx_table(data: bytes, reading: _Reading) -> Table:
    workbook = _open_workbook(data, reading)
    try:
        sheet = workbook.worksheets[0]
        _last_row, width = _scan_sheet(sheet, reading)
        sheet.reset_dimensions()  # its <dimension> may lie: rows past it were silently dropped
        values = sheet.iter_rows(max_col=max(width, 1), values_only=True)
        headers = [cell_text(v).strip() for v in next(values)]
    except StopIteration:
        workbook.close()
        raise Invalid(N_("The file is empty."), code="empty") from None
    except BaseException:
        workbook.close()
        raise
    reading.check_cells(1, headers)
    while headers and not headers[-1]:
        headers.pop()

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for number, record in enumerate(values, start=2):
                reading.check_row(number)
                texts = [cell_text(v) for v in record]
                reading.check_cells(number, texts)
                yield number, texts
        finally:
            workbook.close()

    return Table(headers, rows(), "xlsx")


def read_table(data: bytes, limits: TableLimits = DEFAULT_LIMITS) -> Table:
    """Open an uploaded CSV or XLSX file (recognised by its content, not its name), within `limits`."""
    if not data.strip():
        raise Invalid(N_("The file is empty."), code="empty")
    reading = _Reading(limits)
    if data.startswith(_XLSX_MAGIC):
        return _xlsx_table(data, reading)
    if data.startswith(_XLS_MAGIC):
        raise Invalid(
            N_("Old Excel files (.xls) are not supported. Save the file as .xlsx or “CSV UTF-8” first."),
            code="format",
        )
    return _csv_table(data, reading)


def load_table(data: bytes, limits: TableLimits = DEFAULT_LIMITS) -> Table:
    """`read_table`, every row read now (and checked against the limits): for a caller that must finish
    reading before it takes the database's write lock."""
    table = read_table(data, limits)
    return Table(table.headers, iter(list(table.rows)), table.kind)


def estimate_rows(data: bytes, limits: TableLimits = DEFAULT_LIMITS) -> int:
    """The number of data rows, empty ones included, to decide whether to run in the background: a CSV's
    line breaks, a workbook's last row number (read from the sheet itself, never from `<dimension>`)."""
    if data.startswith(_XLSX_MAGIC):
        reading = _Reading(limits)
        workbook = _open_workbook(data, reading)
        try:
            last_row, _width = _scan_sheet(workbook.worksheets[0], reading)
        finally:
            workbook.close()
        return max(0, last_row - 1)
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

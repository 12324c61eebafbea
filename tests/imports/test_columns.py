"""The header row of an account or unit file: one rule for both imports (app/imports/columns.py)."""

from __future__ import annotations

import pytest

from app.core.errors import Invalid
from app.core.spreadsheets import read_table
from app.imports.columns import read_columns
from app.imports.constants import ACCOUNT_HEADER_ALIASES
from app.imports.outcome import ImportOutcome
from app.units.constants import UNIT_HEADER_ALIASES

UNIT_REQUIRED = {"code": "Mã", "name": "Tên", "kind": "Loại"}


def columns_of(header: str, aliases: dict[str, str], required: dict[str, str]):
    outcome = ImportOutcome(lang="vi")
    columns, labels = read_columns(read_table(f"{header}\n".encode()), aliases, required, outcome)
    return columns, labels, outcome.ignored_columns


def test_fields_are_found_in_either_language_and_keep_the_files_own_header() -> None:
    columns, labels, ignored = columns_of("Ghi chú,FULL_NAME,Số điện thoại", ACCOUNT_HEADER_ALIASES, {})
    assert columns == {"full_name": 1, "phone": 2}
    # Errors name the column as the admin wrote it.
    assert labels == {"full_name": "FULL_NAME", "phone": "Số điện thoại"}
    assert ignored == ["Ghi chú"]


def test_a_field_given_twice_refuses_the_file_naming_the_second_column() -> None:
    with pytest.raises(Invalid) as exc:
        columns_of("Họ và tên,Email,full_name", ACCOUNT_HEADER_ALIASES, {})
    assert exc.value.code == "columns" and exc.value.params == {"column": "full_name"}


def test_every_missing_required_column_is_named_at_once() -> None:
    with pytest.raises(Invalid) as exc:
        columns_of("Tên,Mã cấp trên", UNIT_HEADER_ALIASES, UNIT_REQUIRED)
    assert exc.value.code == "columns" and exc.value.params == {"columns": "Mã, Loại"}

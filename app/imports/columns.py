"""An import file's header row matched to the import's fields: one rule for the account and unit imports."""

from __future__ import annotations

from app.core.errors import N_, Invalid
from app.core.spreadsheets import Table, match_headers
from app.imports.outcome import ImportOutcome


def read_columns(
    table: Table, aliases: dict[str, str], required: dict[str, str], outcome: ImportOutcome
) -> tuple[dict[str, int], dict[str, str]]:
    """(field → column index, field → the file's own header text) for the header row.

    A column given twice, or a required one missing (`required`: field → the label to name it by), refuses
    the whole file: no row could be read right. Columns the import does not know are listed in the outcome.
    """
    columns, ignored, doubled = match_headers(table.headers, aliases)
    if doubled:
        raise Invalid(N_("The column {column} appears twice."), code="columns", column=doubled[0])
    missing = [label for name, label in required.items() if name not in columns]
    if missing:
        raise Invalid(
            N_("The file has no column {columns}. The first row must hold the column names."),
            code="columns",
            columns=", ".join(missing),
        )
    outcome.ignored_columns = ignored
    return columns, {name: table.headers[i] for name, i in columns.items()}

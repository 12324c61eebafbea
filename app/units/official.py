"""The official commune-level units since 1 July 2025, shipped with the project (app/units/data/README.md:
Công văn 1027/CTK-CSCL, 3,321 communes of the 34 provinces): a province portal loads its own.

The communes go in through the units import (`service.import_units`), so the rules are the import's: the
GSO's code is the unit's code, nothing happens twice, a unit already holding a code is updated to the official
name and kind and moved to the top of the tree (there are no districts since July 2025), and departments,
villages and teams can then be imported below the communes by their codes.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlalchemy.orm import Session

from app.core.errors import N_, Invalid
from app.core.spreadsheets import Table
from app.imports.outcome import ImportOutcome
from app.units import service

REGISTER = Path(__file__).resolve().parent / "data" / "communes_2025.csv"
# The register's date and source, as the pages and the CLI say them.
REGISTER_SOURCE = "Công văn 1027/CTK-CSCL, 25/06/2025 (hiệu lực 01/07/2025)"


@dataclass(frozen=True, slots=True)
class OfficialUnit:
    province: str  # the province portal's slug
    code: str  # the GSO's 5-digit code
    name: str
    kind: str


@cache
def _register() -> dict[str, tuple[OfficialUnit, ...]]:
    by_province: dict[str, list[OfficialUnit]] = {}
    with REGISTER.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            unit = OfficialUnit(row["province"], row["code"], row["name"], row["kind"])
            by_province.setdefault(unit.province, []).append(unit)
    return {province: tuple(units) for province, units in by_province.items()}


def provinces() -> tuple[str, ...]:
    """The 34 provinces' slugs."""
    return tuple(sorted(_register()))


def official_communes(province: str) -> tuple[OfficialUnit, ...]:
    """A province's communes, wards and special zones (by its portal slug), in code order."""
    units = _register().get(province)
    if not units:
        raise Invalid(
            N_(
                "The official register has no communes for “{province}”: it lists the 34 provinces since"
                " 1 July 2025 by their portal addresses ({provinces})."
            ),
            code="official_province",
            province=province,
            provinces=", ".join(provinces()),
        )
    return units


def load_official_communes(session: Session, province: str, *, lang: str, dry_run: bool) -> ImportOutcome:
    """Load a province's official communes into the session's portal (a preview when `dry_run`)."""
    units = official_communes(province)
    rows = iter([(number, [u.code, u.name, u.kind]) for number, u in enumerate(units, 2)])
    table = Table(headers=["Mã", "Tên", "Loại"], rows=rows, kind="csv")
    return service.import_units(session, table, lang=lang, dry_run=dry_run)

"""Units: listing, the tree, lookup by code or name, import from CSV/XLSX (children may precede parents)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Table as SqlTable
from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.core.collation import sort_key
from app.core.db import utcnow
from app.core.errors import N_, Invalid, NotFound
from app.core.spreadsheets import Table, fold_key, read_table
from app.core.text import fold, nfc, normalise_tones
from app.imports.columns import read_columns
from app.imports.outcome import CREATE, ERROR, UNCHANGED, UPDATE, ImportOutcome
from app.tenancy.scoping import bound_tenant_id
from app.units.constants import (
    KIND_ALIASES,
    MAX_CODE,
    MAX_NAME,
    UNIT_HEADER_ALIASES,
    UNIT_KINDS,
    UNIT_REQUIRED,
)
from app.units.models import Unit

_UNIT = cast(SqlTable, Unit.__table__)

HEADER_LABELS = {"code": "Mã", "name": "Tên", "kind": "Loại", "parent": "Mã cấp trên"}


def code_key(code: str) -> str:
    """Codes match without regard to case or accents (`syt` is `SYT`)."""
    return fold(nfc(code))


@lru_cache(maxsize=256)  # a file spells its few kinds the same way on every row
def clean_kind(value: str) -> str | None:
    return KIND_ALIASES.get(fold_key(value))


def get_unit(session: Session, unit_id: int) -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(N_("Unit not found."))
    return unit


def find_unit(session: Session, value: str) -> Unit:
    """A unit by code (preferred) or by its exact name, as an admin would type it."""
    unit_id, ambiguous = load_index(session).find(value or "")
    if ambiguous:
        raise Invalid(N_("Several units have this name: use the unit code."), code="unit_ambiguous")
    if unit_id is None:
        raise NotFound(N_("No unit with this code or name."), code="unit_not_found")
    return get_unit(session, unit_id)


def list_units(
    session: Session, *, q: str | None = None, kind: str | None = None, limit: int = 100, offset: int = 0
) -> tuple[list[Unit], int]:
    stmt = select(Unit)
    if q:
        # `%` and `_` typed in a search are the characters themselves, not wildcards.
        needle = fold(q)
        stmt = stmt.where(
            or_(
                Unit.name_folded.contains(needle, autoescape=True),
                func.lower(Unit.code).contains(needle, autoescape=True),
            )
        )
    if kind:
        stmt = stmt.where(Unit.kind == kind)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    units = session.scalars(stmt.order_by(Unit.path, Unit.id).limit(limit).offset(offset))
    return list(units), total


@dataclass
class TreeNode:
    unit: Unit
    depth: int
    members: int = 0
    members_total: int = 0
    children: list[TreeNode] = field(default_factory=list)
    child_count: int = 0


@dataclass
class TreeLevel:
    """One level of the unit tree as the page shows it: a page of siblings in Vietnamese order, each with its
    number of direct children and of accounts in its branch."""

    nodes: list[TreeNode]
    total: int
    offset: int
    limit: int
    parent: Unit | None = None
    ancestors: list[Unit] = field(default_factory=list)

    @property
    def next_offset(self) -> int | None:
        return self.offset + self.limit if self.offset + self.limit < self.total else None


def tree_level(session: Session, parent_id: int | None, *, offset: int = 0, limit: int = 100) -> TreeLevel:
    """The children of a unit (None: the top of the tree), `limit` at a time: a page stays small with
    10,000 units, and the page opens a level when asked (htmx, or a link without JavaScript)."""
    parent = get_unit(session, parent_id) if parent_id is not None else None
    siblings = list(
        session.execute(
            select(Unit.id, Unit.name, Unit.code).where(
                Unit.parent_id.is_(None) if parent_id is None else Unit.parent_id == parent_id
            )
        )
    )
    siblings.sort(key=lambda row: (sort_key(row.name), row.code))
    page_ids = [row.id for row in siblings[offset : offset + limit]]
    units = {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_(page_ids)))} if page_ids else {}
    nodes = [TreeNode(units[i], units[i].depth) for i in page_ids]
    _count_children_and_members(session, nodes)
    return TreeLevel(nodes, len(siblings), offset, limit, parent, ancestors_of(session, parent))


def _count_children_and_members(session: Session, nodes: list[TreeNode]) -> None:
    """Direct children per node, and accounts in each node's branch (from the units' paths)."""
    if not nodes:
        return
    by_id = {n.unit.id: n for n in nodes}
    children = session.execute(
        select(Unit.parent_id, func.count()).where(Unit.parent_id.in_(by_id)).group_by(Unit.parent_id)
    )
    for parent_id, count in children:
        if parent_id is not None:
            by_id[parent_id].child_count = count
    members = session.execute(
        select(Unit.id, Unit.path, func.count(User.id))
        .join(User, User.unit_id == Unit.id)
        .group_by(Unit.id, Unit.path)
    )
    for unit_id, path, count in members:
        if unit_id in by_id:
            by_id[unit_id].members = count
        for ancestor in path.strip("/").split("/"):
            node = by_id.get(int(ancestor)) if ancestor.isdigit() else None
            if node is not None:
                node.members_total += count


def ancestors_of(session: Session, unit: Unit | None) -> list[Unit]:
    """The units above `unit`, from the top of the tree (from its materialised path)."""
    if unit is None:
        return []
    ids = [int(part) for part in unit.path.strip("/").split("/")[:-1] if part.isdigit()]
    found = {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_(ids)))} if ids else {}
    return [found[i] for i in ids if i in found]


def search_tree(session: Session, q: str, *, limit: int = 50) -> tuple[list[tuple[Unit, list[str]]], int]:
    """Units whose name or code contains `q` (accents and case aside), each with the names above it."""
    units, total = list_units(session, q=q, limit=limit)
    ids = {int(p) for u in units for p in u.path.strip("/").split("/")[:-1] if p.isdigit()}
    names: dict[int, str] = {}
    if ids:
        names = {
            unit_id: name
            for unit_id, name in session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(ids)))
        }
    found = []
    for unit in units:
        above = [names.get(int(p), "") for p in unit.path.strip("/").split("/")[:-1] if p.isdigit()]
        found.append((unit, above))
    found.sort(key=lambda item: (sort_key(item[0].name), item[0].code))
    return found, total


def name_key(name: str) -> str:
    """How unit names match exactly: NFC, case and spacing aside, and the tone mark's placement (`Hoà` is
    `Hòa`: both spellings are correct and both appear in the official registers)."""
    return normalise_tones(nfc(name)).lower()


def accent_free(value: str) -> bool:
    """Whether a name was typed without any diacritic (`Phuong Thuong Thanh`), as some keyboards and old
    spreadsheets do."""
    return fold(value) == nfc(value).lower()


@dataclass
class UnitIndex:
    """Every unit of the tenant by code and by name, loaded once for an import.

    A name matches exactly first (`name_key`). Only a name typed without diacritics falls back to the
    accent-free form, and only when one unit has it: the register holds names that differ by their tone marks
    alone (`Phường Thượng Thanh`, `Phường Thường Thạnh`), so a name written with diacritics that match no unit
    (`Phường Ân Hóa`) is unknown, never taken for another (`Phường An Hoà`).
    """

    by_code: dict[str, int]
    by_name: dict[str, list[int]]
    by_folded: dict[str, list[int]]
    names: dict[int, str]

    def find(self, value: str) -> tuple[int | None, bool]:
        """(unit id, ambiguous): a code wins over a name; a name several units share is ambiguous."""
        unit_id = self.by_code.get(code_key(value))
        if unit_id is not None:
            return unit_id, False
        ids = self.by_name.get(name_key(value), [])
        if not ids and accent_free(value):
            ids = self.by_folded.get(fold(value), [])
        if len(ids) == 1:
            return ids[0], False
        return None, len(ids) > 1

    @classmethod
    def of(cls, units: Iterable[tuple[int, str, str]]) -> UnitIndex:
        """An index of (id, code, name) rows."""
        by_code: dict[str, int] = {}
        by_name: dict[str, list[int]] = defaultdict(list)
        by_folded: dict[str, list[int]] = defaultdict(list)
        names: dict[int, str] = {}
        for unit_id, code, name in units:
            by_code[code_key(code)] = unit_id
            by_name[name_key(name)].append(unit_id)
            by_folded[fold(name)].append(unit_id)
            names[unit_id] = name
        return cls(by_code, dict(by_name), dict(by_folded), names)


def load_index(session: Session) -> UnitIndex:
    return UnitIndex.of(session.execute(select(Unit.id, Unit.code, Unit.name)))


@dataclass(slots=True)
class _UnitRow:
    row: int
    code: str
    key: str
    name: str
    kind: str
    parent_key: str | None
    parent: str = ""
    ok: bool = True


@dataclass
class _UnitFile:
    rows: list[_UnitRow]
    # Code key → the row that gives the code first: the one that counts when the tree is checked.
    in_file: dict[str, _UnitRow]


def import_units(session: Session, data: bytes | Table, *, lang: str, dry_run: bool) -> ImportOutcome:
    """Create or update units from a file (or a table already read: `load_table`); rows with errors are
    reported and skipped.

    Four steps: parse each row on its own, validate the tree the file and the portal make together, plan what
    each valid row does (the preview), then, unless this is a dry run, apply the plan.
    """
    outcome = ImportOutcome(lang=lang, dry_run=dry_run)
    table = data if isinstance(data, Table) else read_table(data)
    required = {name: HEADER_LABELS[name] for name in UNIT_REQUIRED}
    columns, labels = read_columns(table, UNIT_HEADER_ALIASES, required, outcome)
    labels.setdefault("parent", "parent")
    parsed = _parse_unit_rows(table, columns, labels, outcome)
    existing = _existing_units(session)
    _check_tree(parsed, existing, labels["parent"], outcome)
    valid = _plan_units(parsed.rows, existing, outcome)
    if dry_run or not valid:
        return outcome
    _apply_units(session, valid, existing)
    return outcome


@dataclass(slots=True)
class _Existing:
    """A unit as the import needs it (read with one Core query: no ORM objects for 10,000 units)."""

    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    path: str
    depth: int


def _existing_units(session: Session) -> dict[str, _Existing]:
    """The portal's units by code key. Raw Core, so the tenant is named here (the import's few reviewed
    statements, like the accounts import's)."""
    t = _UNIT
    rows = session.execute(
        select(t.c.id, t.c.code, t.c.name, t.c.kind, t.c.parent_id, t.c.path, t.c.depth).where(
            t.c.tenant_id == bound_tenant_id(session)
        )
    )
    return {code_key(row.code): _Existing(*row) for row in rows}


def _parse_unit_rows(
    table: Table, columns: dict[str, int], labels: dict[str, str], outcome: ImportOutcome
) -> _UnitFile:
    """Every non-blank row, checked on its own (see `_check_unit_row`)."""

    def cell(record: list[str], name: str) -> str:
        index = columns.get(name)
        return nfc(record[index]) if index is not None and index < len(record) else ""

    rows: list[_UnitRow] = []
    seen: dict[str, int] = {}
    for number, record in table.rows:
        if not any(v.strip() for v in record):
            continue
        outcome.total += 1
        code, name, kind_text, parent = (cell(record, f) for f in ("code", "name", "kind", "parent"))
        item = _UnitRow(number, code, code_key(code), name, "", code_key(parent) if parent else None, parent)
        _check_unit_row(item, kind_text, seen, labels, outcome)
        rows.append(item)
    return _UnitFile(rows, {r.key: r for r in rows if r.key and seen.get(r.key) == r.row})


def _check_unit_row(
    item: _UnitRow, kind_text: str, seen: dict[str, int], labels: dict[str, str], outcome: ImportOutcome
) -> None:
    """A code (given once in the file), a name, a known kind, and not its own parent. Sets `item.kind`."""
    number = item.row
    if not item.code or len(item.code) > MAX_CODE:
        outcome.error(
            number, labels["code"], N_("A unit needs a code of at most {n} characters."), n=MAX_CODE
        )
        item.ok = False
    elif item.key in seen:
        outcome.error(
            number,
            labels["code"],
            N_("The code {code} already appears in row {row}."),
            code=item.code,
            row=seen[item.key],
        )
        item.ok = False
    else:
        seen[item.key] = number
    if not item.name or len(item.name) > MAX_NAME:
        outcome.error(
            number, labels["name"], N_("A unit needs a name of at most {n} characters."), n=MAX_NAME
        )
        item.ok = False
    kind = clean_kind(kind_text)
    if kind is None:
        outcome.error(
            number,
            labels["kind"],
            N_("Unknown unit kind “{kind}”. Use one of: {kinds}."),
            kind=kind_text,
            kinds=", ".join(UNIT_KINDS),
        )
        item.ok = False
    else:
        item.kind = kind
    if item.parent_key is not None and item.parent_key == item.key:
        outcome.error(number, labels["parent"], N_("A unit cannot be its own parent."))
        item.ok = False


def _check_tree(
    parsed: _UnitFile, existing: dict[str, _Existing], parent_label: str, outcome: ImportOutcome
) -> None:
    """The tree after the import must hold: every parent known, no cycle, no parent whose own row failed."""
    parent_of = _parents_after_import(parsed.in_file, existing)
    _check_parents_known(parsed.rows, parent_of, parent_label, outcome)
    display = {key: u.code for key, u in existing.items()} | {r.key: r.code for r in parsed.in_file.values()}
    _check_no_cycles(parsed.rows, parent_of, display, parent_label, outcome)
    _check_parent_rows_valid(parsed.rows, parsed.in_file, parent_label, outcome)


def _parents_after_import(
    in_file: dict[str, _UnitRow], existing: dict[str, _Existing]
) -> dict[str, str | None]:
    """Code key → parent code key: the database's parents, overridden by the file's."""
    by_id = {u.id: u for u in existing.values()}
    parent_of: dict[str, str | None] = {
        key: code_key(by_id[u.parent_id].code) if u.parent_id in by_id else None
        for key, u in existing.items()
    }
    for r in in_file.values():
        parent_of[r.key] = r.parent_key
    return parent_of


def _check_parents_known(
    rows: list[_UnitRow], parent_of: dict[str, str | None], parent_label: str, outcome: ImportOutcome
) -> None:
    for r in rows:
        if r.ok and r.parent_key is not None and r.parent_key not in parent_of:
            outcome.error(
                r.row,
                parent_label,
                N_("The parent unit {code} is neither in the file nor in the portal."),
                code=r.parent,
            )
            r.ok = False


def _check_no_cycles(
    rows: list[_UnitRow],
    parent_of: dict[str, str | None],
    display: dict[str, str],
    parent_label: str,
    outcome: ImportOutcome,
) -> None:
    """Walk up from each row; meeting a unit already on the way is a cycle, reported with its codes."""
    for r in rows:
        if not r.ok:
            continue
        chain = [r.key]
        current = parent_of.get(r.key)
        while current is not None and current not in chain and len(chain) <= len(parent_of):
            chain.append(current)
            current = parent_of.get(current)
        if current is not None and current in chain:
            loop = chain[chain.index(current) :]
            outcome.error(
                r.row,
                parent_label,
                N_("The parents form a cycle: {codes}."),
                codes=" → ".join(display.get(k, k) for k in [*loop, current]),
            )
            r.ok = False


def _check_parent_rows_valid(
    rows: list[_UnitRow], in_file: dict[str, _UnitRow], parent_label: str, outcome: ImportOutcome
) -> None:
    """A row whose parent row failed cannot be placed either (down the tree, however deep)."""
    changed = True
    while changed:
        changed = False
        for r in rows:
            parent_row = in_file.get(r.parent_key or "")
            if r.ok and parent_row is not None and not parent_row.ok:
                outcome.error(
                    r.row, parent_label, N_("The parent unit's row {row} has an error."), row=parent_row.row
                )
                r.ok = False
                changed = True


def _plan_units(
    rows: list[_UnitRow], existing: dict[str, _Existing], outcome: ImportOutcome
) -> list[_UnitRow]:
    """What each row does (create, update, unchanged, or its error), counted and listed; the valid rows."""
    for r in rows:
        if not r.ok:
            outcome.add_row({"row": r.row, "action": ERROR, "code": r.code, "name": r.name})
            continue
        action = _unit_action(r, existing)
        if action == CREATE:
            outcome.created += 1
        elif action == UPDATE:
            outcome.updated += 1
        else:
            outcome.unchanged += 1
        outcome.add_row({"row": r.row, "action": action, "code": r.code, "name": r.name, "kind": r.kind})
    return [r for r in rows if r.ok]


def _unit_action(r: _UnitRow, existing: dict[str, _Existing]) -> str:
    unit = existing.get(r.key)
    if unit is None:
        return CREATE
    parent_unit = existing.get(r.parent_key) if r.parent_key else None
    moved = (r.parent_key is None and unit.parent_id is not None) or (
        r.parent_key is not None and (parent_unit is None or unit.parent_id != parent_unit.id)
    )
    return UPDATE if unit.name != r.name or unit.kind != r.kind or moved else UNCHANGED


def _apply_units(session: Session, valid: list[_UnitRow], existing: dict[str, _Existing]) -> None:
    """Write the valid rows with a few executemany statements: new units, changed names and kinds, then every
    parent, path and depth that differs (the tree is acyclic: `_check_tree`). 10,743 rows: about a second."""
    tenant_id = bound_tenant_id(session)
    conn = session.connection()
    t = _UNIT
    now = utcnow()
    new_rows = [r for r in valid if r.key not in existing]
    units = dict(existing)
    if new_rows:
        created = [
            {
                "tenant_id": tenant_id,  # Core insert: no ORM stamping, so the tenant is named here
                "code": r.code,
                "name": r.name,
                "name_folded": fold(r.name),
                "kind": r.kind,
                "parent_id": None,
                "path": "/",
                "depth": 0,
                "created_at": now,
            }
            for r in new_rows
        ]
        # The new ids come back in the rows' order (insertmanyvalues): nothing needs reading back.
        new_ids = conn.execute(insert(t).returning(t.c.id, sort_by_parameter_order=True), created).scalars()
        for r, unit_id in zip(new_rows, new_ids, strict=True):
            units[r.key] = _Existing(unit_id, r.code, r.name, r.kind, None, "/", 0)
    renamed = [
        {"b_id": existing[r.key].id, "b_name": r.name, "b_name_folded": fold(r.name), "b_kind": r.kind}
        for r in valid
        if r.key in existing and (existing[r.key].name != r.name or existing[r.key].kind != r.kind)
    ]
    _update_many(session, renamed, tenant_id)
    parent_of = {u.id: u.parent_id for u in units.values()}
    for r in valid:
        parent = units.get(r.parent_key) if r.parent_key else None
        parent_of[units[r.key].id] = parent.id if parent else None
    paths = tree_paths(parent_of)
    moved = [
        {"b_id": u.id, "b_parent_id": parent_of[u.id], "b_path": paths[u.id][0], "b_depth": paths[u.id][1]}
        for u in units.values()
        if (u.parent_id, u.path, u.depth) != (parent_of[u.id], *paths[u.id])
    ]
    _update_many(session, moved, tenant_id)
    session.expire_all()  # units the session may hold were written around it


def _update_many(session: Session, rows: list[dict[str, Any]], tenant_id: int | None) -> None:
    """One executemany UPDATE of the portal's units: each row's `b_id` and `b_<column>` values."""
    if not rows:
        return
    columns = [key[2:] for key in rows[0] if key != "b_id"]
    stmt = (
        update(_UNIT)
        .where(_UNIT.c.tenant_id == tenant_id, _UNIT.c.id == bindparam("b_id"))
        .values({column: bindparam(f"b_{column}") for column in columns})
    )
    session.connection().execute(stmt, rows)


def tree_paths(parent_of: dict[int, int | None]) -> dict[int, tuple[str, int]]:
    """Each unit's materialised path (`/12/57/301/`) and depth from the parent links (an acyclic tree)."""
    paths: dict[int, tuple[str, int]] = {}
    for unit_id in parent_of:
        chain = [unit_id]
        while (parent := parent_of.get(chain[-1])) is not None and parent not in paths:
            chain.append(parent)
        top_parent = parent_of.get(chain[-1])
        prefix, depth = paths[top_parent] if top_parent is not None else ("/", -1)
        for item in reversed(chain):
            prefix, depth = f"{prefix}{item}/", depth + 1
            paths[item] = (prefix, depth)
    return paths

"""Units: listing, the tree, lookup by code or name, import from CSV/XLSX (children may precede parents)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.core.collation import sort_key
from app.core.errors import N_, Invalid, NotFound
from app.core.spreadsheets import Table, fold_key, read_table
from app.core.text import fold, nfc
from app.imports.columns import read_columns
from app.imports.outcome import CREATE, ERROR, UNCHANGED, UPDATE, ImportOutcome
from app.units.constants import (
    KIND_ALIASES,
    MAX_CODE,
    MAX_NAME,
    UNIT_HEADER_ALIASES,
    UNIT_KINDS,
    UNIT_REQUIRED,
)
from app.units.models import Unit

HEADER_LABELS = {"code": "Mã", "name": "Tên", "kind": "Loại", "parent": "Mã cấp trên"}


def code_key(code: str) -> str:
    """Codes match without regard to case or accents (`syt` is `SYT`)."""
    return fold(nfc(code))


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


def unit_tree(session: Session) -> list[TreeNode]:
    """The whole tree, children sorted by name, with direct and rolled-up account counts."""
    units = list(session.scalars(select(Unit)))
    counts = dict(
        session.execute(
            select(User.unit_id, func.count()).where(User.unit_id.is_not(None)).group_by(User.unit_id)
        ).all()
    )
    nodes = {u.id: TreeNode(u, u.depth, counts.get(u.id, 0)) for u in units}
    roots: list[TreeNode] = []
    for node in nodes.values():
        parent = nodes.get(node.unit.parent_id) if node.unit.parent_id else None
        (parent.children if parent else roots).append(node)

    def finish(node: TreeNode) -> int:
        node.children.sort(key=lambda n: (sort_key(n.unit.name), n.unit.code))
        node.members_total = node.members + sum(finish(c) for c in node.children)
        return node.members_total

    roots.sort(key=lambda n: (sort_key(n.unit.name), n.unit.code))
    for root in roots:
        finish(root)
    return roots


@dataclass
class UnitIndex:
    """Every unit of the tenant by folded code and by folded name, loaded once for an import."""

    by_code: dict[str, int]
    by_name: dict[str, list[int]]
    names: dict[int, str]

    def find(self, value: str) -> tuple[int | None, bool]:
        """(unit id, ambiguous): a code wins over a name; a name shared by several units is ambiguous."""
        unit_id = self.by_code.get(code_key(value))
        if unit_id is not None:
            return unit_id, False
        ids = self.by_name.get(fold(value), [])
        if len(ids) == 1:
            return ids[0], False
        return None, len(ids) > 1


def load_index(session: Session) -> UnitIndex:
    by_code: dict[str, int] = {}
    by_name: dict[str, list[int]] = defaultdict(list)
    names: dict[int, str] = {}
    for unit_id, code, name, name_folded in session.execute(
        select(Unit.id, Unit.code, Unit.name, Unit.name_folded)
    ):
        by_code[code_key(code)] = unit_id
        by_name[name_folded].append(unit_id)
        names[unit_id] = name
    return UnitIndex(by_code, dict(by_name), names)


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
    existing = {code_key(u.code): u for u in session.scalars(select(Unit))}
    _check_tree(parsed, existing, labels["parent"], outcome)
    valid = _plan_units(parsed.rows, existing, outcome)
    if dry_run or not valid:
        return outcome
    _apply_units(session, valid, existing)
    return outcome


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
    parsed: _UnitFile, existing: dict[str, Unit], parent_label: str, outcome: ImportOutcome
) -> None:
    """The tree after the import must hold: every parent known, no cycle, no parent whose own row failed."""
    parent_of = _parents_after_import(parsed.in_file, existing)
    _check_parents_known(parsed.rows, parent_of, parent_label, outcome)
    display = {key: u.code for key, u in existing.items()} | {r.key: r.code for r in parsed.in_file.values()}
    _check_no_cycles(parsed.rows, parent_of, display, parent_label, outcome)
    _check_parent_rows_valid(parsed.rows, parsed.in_file, parent_label, outcome)


def _parents_after_import(in_file: dict[str, _UnitRow], existing: dict[str, Unit]) -> dict[str, str | None]:
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


def _plan_units(rows: list[_UnitRow], existing: dict[str, Unit], outcome: ImportOutcome) -> list[_UnitRow]:
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


def _unit_action(r: _UnitRow, existing: dict[str, Unit]) -> str:
    unit = existing.get(r.key)
    if unit is None:
        return CREATE
    parent_unit = existing.get(r.parent_key) if r.parent_key else None
    moved = (r.parent_key is None and unit.parent_id is not None) or (
        r.parent_key is not None and (parent_unit is None or unit.parent_id != parent_unit.id)
    )
    return UPDATE if unit.name != r.name or unit.kind != r.kind or moved else UNCHANGED


def _apply_units(session: Session, valid: list[_UnitRow], existing: dict[str, Unit]) -> None:
    """Write the valid rows: units first (new ones need ids), then their parents, then every path."""
    for r in valid:
        unit = existing.get(r.key)
        if unit is None:
            unit = Unit(code=r.code, name=r.name, name_folded=fold(r.name), kind=r.kind)
            session.add(unit)
            existing[r.key] = unit
        else:
            unit.name, unit.name_folded, unit.kind = r.name, fold(r.name), r.kind
    session.flush()
    for r in valid:
        new_parent = existing.get(r.parent_key) if r.parent_key else None
        existing[r.key].parent_id = new_parent.id if new_parent else None
    rebuild_paths(session, list(existing.values()))
    session.flush()


def rebuild_paths(session: Session, units: list[Unit]) -> None:
    """Recompute every unit's materialised path and depth from the parent links (the tree is acyclic)."""
    by_id = {u.id: u for u in units}
    paths: dict[int, str] = {}

    def path_of(unit: Unit) -> str:
        known = paths.get(unit.id)
        if known is not None:
            return known
        chain = [unit]
        while chain[-1].parent_id is not None and chain[-1].parent_id not in paths:
            chain.append(by_id[chain[-1].parent_id])
        top = chain[-1]
        prefix = paths[top.parent_id] if top.parent_id is not None else "/"
        for item in reversed(chain):
            prefix = f"{prefix}{item.id}/"
            paths[item.id] = prefix
        return paths[unit.id]

    for unit in units:
        path = path_of(unit)
        depth = path.count("/") - 2
        if unit.path != path or unit.depth != depth:
            unit.path, unit.depth = path, depth

"""Bulk account import: parse and check every row, match against the tenant's accounts, then apply in one go.

Speed comes from doing the per-row work in Python against dicts loaded once (usernames, emails, phones and
units of the tenant), and writing with a few executemany statements; no per-row query, no per-row argon2.
The writes bypass the ORM, so they carry `tenant_id` explicitly and filter updates by it (reviewed place).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from app.accounts import service as accounts
from app.accounts.constants import LEARNER
from app.accounts.models import User
from app.accounts.usernames import UsernameAllocator
from app.audit import service as audit
from app.cohorts import service as cohorts_service
from app.cohorts.models import Cohort
from app.core.db import utcnow
from app.core.errors import N_, DomainError, Invalid
from app.core.spreadsheets import DEFAULT_LIMITS, TableLimits, fold_key, match_headers, read_table
from app.core.text import fold, nfc
from app.imports import credentials
from app.imports.constants import (
    ACCOUNT_HEADER_ALIASES,
    FIELD_LABELS,
    GROUP_ALIASES,
    MAX_COHORT,
    MAX_NAME,
    MAX_POSITION,
)
from app.imports.outcome import CREATE, ERROR, UNCHANGED, UPDATE, ImportOutcome
from app.progress.models import Enrolment
from app.units import service as units_service

_BATCH = 2000
# Fields an import may change on an existing account (never the username, roles or password).
UPDATABLE = ("full_name", "email", "phone", "unit_id", "position", "target_group")

ProgressFn = Callable[[int], None]


@dataclass(frozen=True)
class ImportOptions:
    secret_key: str
    password_min_length: int = 8
    initial_password_days: int = 30
    credentials_hours: int = 24
    preview_rows: int | None = None
    max_rows: int = 200_000
    # The importing administrator's rank (app.accounts.service.check_rank): accounts above it are not changed.
    max_rank: int | None = None
    table: TableLimits = DEFAULT_LIMITS


@dataclass(slots=True)
class AccountRow:
    row: int
    full_name: str = ""
    username: str | None = None
    email: str | None = None
    phone: str | None = None
    unit_id: int | None = None
    position: str | None = None
    target_group: str | None = None
    password: str | None = None
    cohort: str | None = None
    cohort_id: int | None = None
    ok: bool = True


@dataclass
class ParsedFile:
    rows: list[AccountRow]
    labels: dict[str, str]
    unit_names: dict[int, str]
    outcome: ImportOutcome
    generated: set[int] = field(default_factory=set)
    max_rank: int | None = None


def clean_group(value: str) -> str | None:
    return GROUP_ALIASES.get(fold_key(value))


def parse_accounts(
    session: Session,
    data: bytes,
    *,
    lang: str,
    dry_run: bool,
    options: ImportOptions,
    progress: ProgressFn | None = None,
) -> ParsedFile:
    """Read the file and check each row on its own (formats, unit, group). Reads units only."""
    outcome = ImportOutcome(lang=lang, dry_run=dry_run, rows_limit=options.preview_rows)
    table = read_table(data, options.table)
    columns, ignored, doubled = match_headers(table.headers, ACCOUNT_HEADER_ALIASES)
    if doubled:
        raise Invalid(N_("The column {column} appears twice."), code="columns", column=doubled[0])
    if "full_name" not in columns:
        raise Invalid(
            N_("The file has no column {columns}. The first row must hold the column names."),
            code="columns",
            columns=FIELD_LABELS["full_name"],
        )
    outcome.ignored_columns = ignored
    labels = {f: table.headers[i] for f, i in columns.items()}
    for f, label in FIELD_LABELS.items():
        labels.setdefault(f, label)
    index = units_service.load_index(session) if "unit" in columns else None
    col = [(f, columns[f]) for f in FIELD_LABELS if f in columns]
    err = outcome.error
    rows: list[AccountRow] = []
    for number, record in table.rows:
        width = len(record)
        values = {f: (record[i] if i < width else "") for f, i in col}
        if not any(v.strip() for v in values.values()):
            continue
        outcome.total += 1
        if outcome.total > options.max_rows:
            raise Invalid(
                N_("The file has more than {n} rows. Please split it."),
                code="too_many_rows",
                n=options.max_rows,
            )
        r = AccountRow(number)
        name = nfc(values.get("full_name", ""))
        if not name:
            err(number, labels["full_name"], N_("The full name is required."))
            r.ok = False
        elif len(name) > MAX_NAME:
            err(number, labels["full_name"], N_("The full name is longer than {n} characters."), n=MAX_NAME)
            r.ok = False
        r.full_name = name
        raw = values.get("username", "").strip()
        if raw:
            try:
                r.username = accounts.clean_username(raw)
            except DomainError as exc:
                err(number, labels["username"], exc.message, **exc.params)
                r.ok = False
        raw = values.get("email", "").strip()
        if raw:
            try:
                r.email = accounts.clean_email(raw)
            except DomainError as exc:
                err(number, labels["email"], exc.message, **exc.params)
                r.ok = False
        raw = values.get("phone", "").strip()
        if raw:
            try:
                r.phone = accounts.clean_phone(raw)
            except DomainError as exc:
                err(number, labels["phone"], exc.message, **exc.params)
                r.ok = False
        raw = nfc(values.get("unit", ""))
        if raw and index is not None:
            unit_id, ambiguous = index.find(raw)
            if unit_id is None:
                message = (
                    N_("Several units are called “{unit}”: use the unit's code.")
                    if ambiguous
                    else N_("Unknown unit “{unit}”: use a code or a name from the unit list.")
                )
                err(number, labels["unit"], message, unit=raw)
                r.ok = False
            r.unit_id = unit_id
        raw = nfc(values.get("position", ""))
        if len(raw) > MAX_POSITION:
            err(number, labels["position"], N_("The position is longer than {n} characters."), n=MAX_POSITION)
            r.ok = False
        r.position = raw or None
        raw = nfc(values.get("group", ""))
        if raw:
            r.target_group = clean_group(raw)
            if r.target_group is None:
                err(number, labels["group"], N_("Unknown target group “{group}”."), group=raw)
                r.ok = False
        raw = values.get("password", "").strip()
        if raw:
            try:
                accounts.check_password_policy(
                    raw, min_length=options.password_min_length, username=r.username
                )
                r.password = raw
            except DomainError as exc:
                err(number, labels["password"], exc.message, **exc.params)
                r.ok = False
        raw = nfc(values.get("cohort", ""))
        if len(raw) > MAX_COHORT:
            err(number, labels["cohort"], N_("The cohort is longer than {n} characters."), n=MAX_COHORT)
            r.ok = False
        r.cohort = raw or None
        if r.ok and not (r.username or r.email or r.phone):
            err(
                number,
                labels["username"],
                N_(
                    "Give a username, an email or a phone number, so that importing the file again "
                    "finds this account instead of creating it twice."
                ),
            )
            r.ok = False
        rows.append(r)
        if progress is not None and outcome.total % 1000 == 0:
            progress(outcome.total)
    return ParsedFile(rows, labels, index.names if index else {}, outcome, max_rank=options.max_rank)


@dataclass
class Plan:
    creates: list[AccountRow] = field(default_factory=list)
    updates: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    # Rows to enrol in their `Đợt học` cohort: (username once known, cohort id).
    enrolments: list[AccountRow] = field(default_factory=list)


def plan_accounts(session: Session, parsed: ParsedFile) -> Plan:
    """Match rows to accounts (username, then email, then phone), find duplicates, generate usernames."""
    outcome, labels = parsed.outcome, parsed.labels
    err = outcome.error
    existing = session.execute(
        select(
            User.id,
            User.username,
            User.email,
            User.phone,
            User.full_name,
            User.unit_id,
            User.position,
            User.target_group,
            User.roles,
        )
    ).all()
    by_username = {u.username: i for i, u in enumerate(existing)}
    by_email = {u.email: i for i, u in enumerate(existing) if u.email}
    by_phone = {u.phone: i for i, u in enumerate(existing) if u.phone}
    explicit = {r.username for r in parsed.rows if r.ok and r.username}
    allocator = UsernameAllocator(set(by_username) | explicit)
    claimed: dict[str, dict[str, int]] = {"username": {}, "email": {}, "phone": {}}
    claimed_account: dict[int, int] = {}
    cohorts = cohorts_service.find_by_code_or_title(session, [r.cohort for r in parsed.rows if r.cohort])
    plan = Plan()

    for r in parsed.rows:
        if r.ok:
            for f in ("username", "email", "phone"):
                value = getattr(r, f)
                if value and value in claimed[f]:
                    err(
                        r.row,
                        labels[f],
                        N_("Same {column} as row {row}."),
                        column=labels[f],
                        row=claimed[f][value],
                    )
                    r.ok = False
        match: int | None = None
        if r.ok:
            if r.username:
                match = by_username.get(r.username)
            else:
                match = by_email.get(r.email) if r.email else None
                if match is None and r.phone:
                    match = by_phone.get(r.phone)
            for f, lookup in (("email", by_email), ("phone", by_phone)):
                value = getattr(r, f)
                other = lookup.get(value) if value else None
                if other is not None and other != match:
                    err(
                        r.row,
                        labels[f],
                        N_("This {column} already belongs to the account {username}."),
                        column=labels[f],
                        username=existing[other].username,
                    )
                    r.ok = False
            if r.ok and r.cohort:
                cohort = cohorts.get(cohorts_service.cohort_key(r.cohort))
                if cohort is None:
                    err(
                        r.row,
                        labels["cohort"],
                        N_("There is no cohort with the code or title {code} in this portal."),
                        code=r.cohort,
                    )
                    r.ok = False
                else:
                    r.cohort_id = cohort.id
            if r.ok and match is not None and _above(parsed, existing[match].roles):
                err(
                    r.row,
                    labels["username"],
                    N_(
                        "The account {username} belongs to someone whose role is above yours: an import"
                        " cannot change it."
                    ),
                    username=existing[match].username,
                )
                r.ok = False
            if r.ok and match is not None and match in claimed_account:
                err(
                    r.row,
                    labels["username"],
                    N_("Row {row} is already the account {username}."),
                    row=claimed_account[match],
                    username=existing[match].username,
                )
                r.ok = False
        if not r.ok:
            outcome.add_row({"row": r.row, "action": ERROR, "full_name": r.full_name, "cohort": r.cohort})
            continue
        detail: dict[str, Any]
        if match is None:
            if not r.username:
                r.username = allocator.allocate(r.full_name)
                parsed.generated.add(r.row)
            plan.creates.append(r)
            outcome.created += 1
            detail = {"action": CREATE, "changes": []}
        else:
            current = existing[match]
            r.username = current.username
            changes = {
                f: v
                for f, v in (
                    ("full_name", r.full_name),
                    ("email", r.email),
                    ("phone", r.phone),
                    ("unit_id", r.unit_id),
                    ("position", r.position),
                    ("target_group", r.target_group),
                )
                # An empty cell never erases what the account already has.
                if v is not None and v != "" and v != getattr(current, f)
            }
            if changes:
                plan.updates.append((current.id, changes))
                outcome.updated += 1
                detail = {"action": UPDATE, "changes": sorted(changes)}
            else:
                outcome.unchanged += 1
                detail = {"action": UNCHANGED, "changes": []}
            claimed_account[match] = r.row
        for f in ("username", "email", "phone"):
            value = getattr(r, f)
            if value:
                claimed[f].setdefault(value, r.row)
        outcome.add_row(
            {
                "row": r.row,
                **detail,
                "username": r.username,
                "generated_username": r.row in parsed.generated,
                "full_name": r.full_name,
                "email": r.email,
                "phone": r.phone,
                "unit": parsed.unit_names.get(r.unit_id) if r.unit_id else None,
                "target_group": r.target_group,
                "cohort": r.cohort,
            }
        )
    outcome.errors.sort(key=lambda e: e.row)
    plan.enrolments = [r for r in parsed.rows if r.ok and r.cohort_id is not None]
    outcome.enrolled = _count_new_enrolments(session, plan.enrolments, {c.id: c for c in cohorts.values()})
    return plan


def _above(parsed: ParsedFile, roles: list[str]) -> bool:
    return parsed.max_rank is not None and accounts.rank_of(roles) > parsed.max_rank


def _count_new_enrolments(session: Session, rows: list[AccountRow], cohorts: dict[int, Cohort]) -> int:
    """How many of these rows the cohort column would newly enrol (new accounts always; others if not yet)."""
    if not rows:
        return 0
    course_of = {c.id: c.course_id for c in cohorts.values()}
    ids = accounts.ids_by_username(session, (r.username for r in rows if r.username))
    taken: set[tuple[int, int]] = set()
    user_ids = sorted(set(ids.values()))
    for start in range(0, len(user_ids), accounts.IN_LIST_CHUNK):
        taken.update(
            session.execute(
                select(Enrolment.user_id, Enrolment.course_id).where(
                    Enrolment.user_id.in_(user_ids[start : start + accounts.IN_LIST_CHUNK]),
                    Enrolment.course_id.in_(set(course_of.values())),
                    Enrolment.cohort_id.is_not(None),
                )
            ).all()
        )
    count = 0
    for r in rows:
        user_id = ids.get(r.username or "")
        if user_id is None or (user_id, course_of[r.cohort_id or 0]) not in taken:
            count += 1
    return count


def enrol_in_cohorts(session: Session, rows: list[AccountRow]) -> int:
    """Enrol imported rows in their cohorts, in the import's transaction; returns new enrolments."""
    by_cohort: dict[int, set[str]] = {}
    for r in rows:
        if r.cohort_id is not None and r.username:
            by_cohort.setdefault(r.cohort_id, set()).add(r.username)
    enrolled = 0
    for cohort_id, usernames in by_cohort.items():
        cohort = cohorts_service.get_cohort(session, cohort_id)
        user_ids = accounts.ids_by_username(session, usernames).values()
        enrolled += cohorts_service.enrol_user_ids(session, cohort, user_ids).enrolled
    return enrolled


def _chunks(items: list[AccountRow], size: int) -> Iterator[list[AccountRow]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def apply_plan(
    session: Session,
    parsed: ParsedFile,
    plan: Plan,
    *,
    tenant_id: int,
    options: ImportOptions,
    actor_id: int | None,
) -> int | None:
    """Write the plan (inside the caller's transaction). Returns the credential batch id, if any."""
    conn = session.connection()
    table = cast(Table, User.__table__)
    now = utcnow()
    expires = now + dt.timedelta(days=options.initial_password_days)
    issued: list[list[str]] = []
    for chunk in _chunks(plan.creates, _BATCH):
        values = []
        for r in chunk:
            secret = r.password or accounts.generate_initial_secret()
            values.append(
                {
                    "tenant_id": tenant_id,  # Core insert: no ORM stamping, so the tenant is set here
                    "username": r.username,
                    "full_name": r.full_name,
                    "name_folded": fold(r.full_name),
                    "email": r.email,
                    "phone": r.phone,
                    "position": r.position,
                    "target_group": r.target_group,
                    "unit_id": r.unit_id,
                    "date_of_birth": None,
                    "gender": None,
                    "roles": [LEARNER],
                    "password_hash": None,
                    "is_active": True,
                    "must_change_password": True,
                    "token_version": 0,
                    "created_at": now,
                    "last_login_at": None,
                    "initial_secret_hash": accounts.initial_secret_hash(options.secret_key, secret),
                    "initial_secret_expires_at": expires,
                }
            )
            issued.append(
                [
                    r.username or "",
                    r.full_name,
                    parsed.unit_names.get(r.unit_id, "") if r.unit_id else "",
                    secret,
                ]
            )
        conn.execute(insert(table), values)
    by_fields: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for user_id, changes in plan.updates:
        if "full_name" in changes:
            changes = {**changes, "name_folded": fold(changes["full_name"])}
        key = tuple(sorted(changes))
        by_fields[key].append({"b_id": user_id, **{f"b_{f}": v for f, v in changes.items()}})
    for fields, params in by_fields.items():
        stmt = (
            update(table)
            .where(table.c.id == bindparam("b_id"), table.c.tenant_id == tenant_id)
            .values({f: bindparam(f"b_{f}") for f in fields})
        )
        conn.execute(stmt, params)
    batch_id = None
    if issued:
        batch = credentials.store_batch(
            session,
            issued,
            secret_key=options.secret_key,
            hours=options.credentials_hours,
            password_expires_at=expires,
            actor_id=actor_id,
        )
        batch_id = batch.id
    return batch_id


def import_accounts(
    session: Session,
    data: bytes,
    *,
    tenant_id: int,
    lang: str,
    dry_run: bool,
    options: ImportOptions,
    actor_id: int | None = None,
    client_address: str | None = None,
    progress: ProgressFn | None = None,
) -> ImportOutcome:
    """The whole import in the caller's transaction: a dry run writes nothing, a commit all valid rows."""
    parsed = parse_accounts(session, data, lang=lang, dry_run=dry_run, options=options, progress=progress)
    return finish_import(
        session,
        parsed,
        tenant_id=tenant_id,
        options=options,
        actor_id=actor_id,
        client_address=client_address,
    )


def finish_import(
    session: Session,
    parsed: ParsedFile,
    *,
    tenant_id: int,
    options: ImportOptions,
    actor_id: int | None,
    client_address: str | None,
) -> ImportOutcome:
    plan = plan_accounts(session, parsed)
    outcome = parsed.outcome
    if outcome.dry_run or not (plan.creates or plan.updates or outcome.enrolled):
        return outcome
    if plan.creates or plan.updates:
        outcome.credentials_batch_id = apply_plan(
            session, parsed, plan, tenant_id=tenant_id, options=options, actor_id=actor_id
        )
    outcome.enrolled = enrol_in_cohorts(session, plan.enrolments)
    audit.record(
        session,
        "admin.accounts_imported",
        actor_id=actor_id,
        target=f"credential_batch:{outcome.credentials_batch_id}" if outcome.credentials_batch_id else None,
        client_address=client_address,
        detail={
            "created": outcome.created,
            "updated": outcome.updated,
            "unchanged": outcome.unchanged,
            "enrolled": outcome.enrolled,
            "error_rows": outcome.error_rows,
        },
    )
    session.flush()
    return outcome

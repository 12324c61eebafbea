"""Bulk account import: parse and check every row, match against the tenant's accounts, then apply in one go.

Speed comes from doing the per-row work in Python against dicts loaded once (usernames, emails, phones and
units of the tenant), and writing with a few executemany statements; no per-row query, no per-row argon2.
The writes bypass the ORM, so they carry `tenant_id` explicitly and filter updates by it (reviewed place).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
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
from app.core.spreadsheets import DEFAULT_LIMITS, TableLimits, fold_key, read_table
from app.core.text import fold, nfc
from app.imports import credentials
from app.imports.columns import read_columns
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
    required = {"full_name": FIELD_LABELS["full_name"]}
    columns, labels = read_columns(table, ACCOUNT_HEADER_ALIASES, required, outcome)
    for f, label in FIELD_LABELS.items():
        labels.setdefault(f, label)
    index = units_service.load_index(session) if "unit" in columns else None
    check = _RowCheck(labels, index, options, outcome)
    col = [(f, columns[f]) for f in FIELD_LABELS if f in columns]
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
        rows.append(check.row(number, values))
        if progress is not None and outcome.total % 1000 == 0:
            progress(outcome.total)
    return ParsedFile(rows, labels, index.names if index else {}, outcome, max_rank=options.max_rank)


@dataclass
class _RowCheck:
    """One row's cells, each cleaned and checked on its own; a problem is reported under the file's column."""

    labels: dict[str, str]
    units: units_service.UnitIndex | None
    options: ImportOptions
    outcome: ImportOutcome

    def row(self, number: int, values: dict[str, str]) -> AccountRow:
        r = AccountRow(number)
        r.full_name = self.full_name(r, nfc(values.get("full_name", "")))
        r.username = self.cleaned(r, "username", accounts.clean_username, values.get("username", ""))
        r.email = self.cleaned(r, "email", accounts.clean_email, values.get("email", ""))
        r.phone = self.cleaned(r, "phone", accounts.clean_phone, values.get("phone", ""))
        r.unit_id = self.unit(r, nfc(values.get("unit", "")))
        position = nfc(values.get("position", ""))
        if len(position) > MAX_POSITION:
            self.fail(r, "position", N_("The position is longer than {n} characters."), n=MAX_POSITION)
        r.position = position or None
        r.target_group = self.group(r, nfc(values.get("group", "")))
        r.password = self.password(r, values.get("password", "").strip())
        cohort = nfc(values.get("cohort", ""))
        if len(cohort) > MAX_COHORT:
            self.fail(r, "cohort", N_("The cohort is longer than {n} characters."), n=MAX_COHORT)
        r.cohort = cohort or None
        if r.ok and not (r.username or r.email or r.phone):
            self.fail(
                r,
                "username",
                N_(
                    "Give a username, an email or a phone number, so that importing the file again "
                    "finds this account instead of creating it twice."
                ),
            )
        return r

    def fail(self, r: AccountRow, column: str, message: str, /, **params: Any) -> None:
        self.outcome.error(r.row, self.labels[column], message, **params)
        r.ok = False

    def full_name(self, r: AccountRow, name: str) -> str:
        if not name:
            self.fail(r, "full_name", N_("The full name is required."))
        elif len(name) > MAX_NAME:
            self.fail(r, "full_name", N_("The full name is longer than {n} characters."), n=MAX_NAME)
        return name

    def cleaned(self, r: AccountRow, column: str, clean: Callable[[str], str | None], raw: str) -> str | None:
        """A username, email or phone in its stored form (the accounts service's rule), or None."""
        raw = raw.strip()
        if not raw:
            return None
        try:
            return clean(raw)
        except DomainError as exc:
            self.fail(r, column, exc.message, **exc.params)
            return None

    def unit(self, r: AccountRow, raw: str) -> int | None:
        if not raw or self.units is None:
            return None
        unit_id, ambiguous = self.units.find(raw)
        if unit_id is None:
            message = (
                N_("Several units are called “{unit}”: use the unit's code.")
                if ambiguous
                else N_("Unknown unit “{unit}”: use a code or a name from the unit list.")
            )
            self.fail(r, "unit", message, unit=raw)
        return unit_id

    def group(self, r: AccountRow, raw: str) -> str | None:
        if not raw:
            return None
        group = clean_group(raw)
        if group is None:
            self.fail(r, "group", N_("Unknown target group “{group}”."), group=raw)
        return group

    def password(self, r: AccountRow, raw: str) -> str | None:
        """An initial password the admin chose: it must pass the policy (checked against the username)."""
        if not raw:
            return None
        try:
            accounts.check_password_policy(
                raw, min_length=self.options.password_min_length, username=r.username
            )
        except DomainError as exc:
            self.fail(r, "password", exc.message, **exc.params)
            return None
        return raw


@dataclass
class Plan:
    creates: list[AccountRow] = field(default_factory=list)
    updates: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    # Rows to enrol in their `Đợt học` cohort: (username once known, cohort id).
    enrolments: list[AccountRow] = field(default_factory=list)


def plan_accounts(session: Session, parsed: ParsedFile) -> Plan:
    """Match rows to accounts (username, then email, then phone), find duplicates, generate usernames."""
    outcome = parsed.outcome
    matcher = _AccountMatcher.load(session, parsed)
    plan = Plan()
    for r in parsed.rows:
        match = matcher.match(r)
        if not r.ok:
            outcome.add_row({"row": r.row, "action": ERROR, "full_name": r.full_name, "cohort": r.cohort})
            continue
        detail = matcher.plan_create(r, plan) if match is None else matcher.plan_update(r, match, plan)
        matcher.claim(r)
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
    cohorts = {c.id: c for c in matcher.cohorts.values()}
    outcome.enrolled = _count_new_enrolments(session, plan.enrolments, cohorts)
    return plan


_CONTACTS = ("username", "email", "phone")


@dataclass
class _AccountMatcher:
    """The tenant's accounts, loaded once, and what the rows planned so far have claimed of them."""

    parsed: ParsedFile
    # Rows of (id, username, email, phone, full_name, unit_id, position, group, roles).
    existing: Sequence[Any]
    by_username: dict[str, int]
    by_email: dict[str, int]
    by_phone: dict[str, int]
    allocator: UsernameAllocator
    cohorts: dict[str, Cohort]
    # Value → the first row that gave it, per contact field; account index → the row that is that account.
    claimed: dict[str, dict[str, int]] = field(default_factory=lambda: {f: {} for f in _CONTACTS})
    claimed_account: dict[int, int] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, parsed: ParsedFile) -> _AccountMatcher:
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
        explicit = {r.username for r in parsed.rows if r.ok and r.username}
        return cls(
            parsed,
            existing,
            by_username,
            by_email={u.email: i for i, u in enumerate(existing) if u.email},
            by_phone={u.phone: i for i, u in enumerate(existing) if u.phone},
            allocator=UsernameAllocator(set(by_username) | explicit),
            cohorts=cohorts_service.find_by_code_or_title(
                session, [r.cohort for r in parsed.rows if r.cohort]
            ),
        )

    def fail(self, r: AccountRow, column: str, message: str, /, **params: Any) -> None:
        self.parsed.outcome.error(r.row, self.parsed.labels[column], message, **params)
        r.ok = False

    def match(self, r: AccountRow) -> int | None:
        """The account this row is (an index into `existing`), or None for a new one.

        Also checks what only the whole file and the portal can tell: a username, email or phone given twice
        in the file, or already another account's; an unknown cohort; two rows that are one account.
        """
        if r.ok:
            self.check_unique_in_file(r)
        if not r.ok:
            return None
        match = self.find_account(r)
        self.check_contacts_free(r, match)
        if r.ok and r.cohort:
            self.resolve_cohort(r)
        if r.ok and match is not None and self.above_importer(match):
            self.fail(
                r,
                "username",
                N_(
                    "The account {username} belongs to someone whose role is above yours: an import"
                    " cannot change it."
                ),
                username=self.existing[match].username,
            )
        if r.ok and match is not None and match in self.claimed_account:
            self.fail(
                r,
                "username",
                N_("Row {row} is already the account {username}."),
                row=self.claimed_account[match],
                username=self.existing[match].username,
            )
        return match

    def above_importer(self, match: int) -> bool:
        """The account's rank is above the importing administrator's (app.accounts.service.check_rank)."""
        rank = self.parsed.max_rank
        return rank is not None and accounts.rank_of(self.existing[match].roles) > rank

    def check_unique_in_file(self, r: AccountRow) -> None:
        for f in _CONTACTS:
            value = getattr(r, f)
            if value and value in self.claimed[f]:
                label = self.parsed.labels[f]
                self.fail(r, f, N_("Same {column} as row {row}."), column=label, row=self.claimed[f][value])

    def find_account(self, r: AccountRow) -> int | None:
        """By username when the row gives one (a new account otherwise), else by email, then by phone."""
        if r.username:
            return self.by_username.get(r.username)
        match = self.by_email.get(r.email) if r.email else None
        if match is None and r.phone:
            match = self.by_phone.get(r.phone)
        return match

    def check_contacts_free(self, r: AccountRow, match: int | None) -> None:
        """The row's email and phone may belong to no account but the one it is."""
        for f, lookup in (("email", self.by_email), ("phone", self.by_phone)):
            value = getattr(r, f)
            other = lookup.get(value) if value else None
            if other is not None and other != match:
                self.fail(
                    r,
                    f,
                    N_("This {column} already belongs to the account {username}."),
                    column=self.parsed.labels[f],
                    username=self.existing[other].username,
                )

    def resolve_cohort(self, r: AccountRow) -> None:
        cohort = self.cohorts.get(cohorts_service.cohort_key(r.cohort or ""))
        if cohort is None:
            self.fail(
                r,
                "cohort",
                N_("There is no cohort with the code or title {code} in this portal."),
                code=r.cohort,
            )
        else:
            r.cohort_id = cohort.id

    def plan_create(self, r: AccountRow, plan: Plan) -> dict[str, Any]:
        if not r.username:
            r.username = self.allocator.allocate(r.full_name)
            self.parsed.generated.add(r.row)
        plan.creates.append(r)
        self.parsed.outcome.created += 1
        return {"action": CREATE, "changes": []}

    def plan_update(self, r: AccountRow, match: int, plan: Plan) -> dict[str, Any]:
        """The row's non-empty cells that differ from the account (an empty cell never erases a value)."""
        current = self.existing[match]
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
            if v is not None and v != "" and v != getattr(current, f)
        }
        self.claimed_account[match] = r.row
        if not changes:
            self.parsed.outcome.unchanged += 1
            return {"action": UNCHANGED, "changes": []}
        plan.updates.append((current.id, changes))
        self.parsed.outcome.updated += 1
        return {"action": UPDATE, "changes": sorted(changes)}

    def claim(self, r: AccountRow) -> None:
        """Later rows may not give this row's username, email or phone again."""
        for f in _CONTACTS:
            value = getattr(r, f)
            if value:
                self.claimed[f].setdefault(value, r.row)


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

"""The `onetouch` command: serve, migrate, seed, tenants, users (incl. import), units and courses."""

from __future__ import annotations

import argparse
import contextlib
import socket
import sys
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE

from app.core.db import make_engine, make_session_factory
from app.core.errors import DomainError
from app.core.settings import Settings


def _session(settings: Settings):  # type: ignore[no-untyped-def]
    import app.models  # noqa: F401 - every table, so foreign keys between domains resolve

    engine = make_engine(settings.database_url)
    return make_session_factory(engine)()


# The first minute: after uvicorn's "Uvicorn running on …", the addresses that open each portal.
ANNOUNCED_PORTALS_MAX = 12
ANNOUNCE_WAIT_SECONDS = 120.0


def _is_local_bind(host: str) -> bool:
    """Bound where this computer's own browser connects by name (`localhost`, `*.localhost`)."""
    from app.tenancy.service import ip_literal

    ip = ip_literal(host.strip("[]"))
    return host == "localhost" or (ip is not None and (ip.is_loopback or ip.is_unspecified))


def _host_header(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def first_minute_text(
    settings: Settings,
    portals: list[tuple[str, str]] | None,
    host: str,
    port: int,
    *,
    lan_address: str | None,
) -> str:
    """The block `onetouch serve` prints once the server listens: each portal's address, the demo sign-ins."""
    from app.tenancy.service import addresses_seen_from

    if not portals:
        return "\nNo portals yet: run `onetouch migrate` and `onetouch seed` (or `make run`).\n"
    local = _is_local_bind(host)
    addresses = addresses_seen_from(_host_header("localhost" if local else host, port), "http", settings)
    shown = portals if len(portals) <= ANNOUNCED_PORTALS_MAX else portals[: ANNOUNCED_PORTALS_MAX - 1]
    width = max(len(name) for _, name in shown)
    lines = ["", "OneTouch is ready. Open a portal in your browser:"]
    lines += [f"  {name.ljust(width)}  {addresses.url(slug)}" for slug, name in shown]
    if len(shown) < len(portals):
        lines.append(f"  … and {len(portals) - len(shown)} more (`onetouch tenants list`)")
    if local:
        loopback = _host_header("::1" if ":" in host else "127.0.0.1", port)
        lines.append(f"  http://{loopback} opens the national portal too, with links to the provinces.")
    elif addresses.lan:
        lines.append(f"  (names under {addresses.lan} are looked up on the Internet)")
    lines += _phone_lines(settings, host, port, lan_address)
    lines += _demo_lines(portals)
    return "\n".join([*lines, ""])


def _phone_lines(settings: Settings, host: str, port: int, lan_address: str | None) -> list[str]:
    """How a phone on the same Wi-Fi opens the demo (the LAN address serves the national portal)."""
    from app.tenancy.service import addresses_seen_from

    if not lan_address or not _is_local_bind(host):
        return []
    address = _host_header(lan_address, port)
    if host not in ("0.0.0.0", "::"):  # noqa: S104 - comparing, not binding
        return [
            "A phone on the same Wi-Fi: serve on every interface (`HOST=0.0.0.0 make run`, or",
            f"`onetouch serve --host 0.0.0.0`), then open {address} on the phone.",
        ]
    lan = addresses_seen_from(address, "http", settings)
    lines = [f"A phone on the same Wi-Fi: http://{address} (the national portal, linking to the provinces"]
    if lan.lan:
        return [*lines, f"  at {lan.url('<slug>')}, names looked up on the Internet through {lan.lan})"]
    return [*lines, ")"]


def _demo_lines(portals: list[tuple[str, str]]) -> list[str]:
    """The demo sign-ins, when `onetouch seed` made the demo portals."""
    from app.seed import DEMO_PASSWORD, DEMO_TENANTS, DEMO_USERS_NATIONAL, DEMO_USERS_PROVINCE

    if not {demo.slug for demo in DEMO_TENANTS} <= {slug for slug, _ in portals}:
        return []
    national = ", ".join(user[0] for user in DEMO_USERS_NATIONAL)
    province = ", ".join(user[0] for user in DEMO_USERS_PROVINCE)
    return [
        f"Demo sign-ins (every password is {DEMO_PASSWORD}):",
        f"  national portal: {national} · each province: {province}",
    ]


def _lan_address() -> str | None:
    """This computer's IPv4 address on its network: the source of a route out (UDP connect: no packet)."""
    import ipaddress

    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.254.254.254", 9))
            address = str(probe.getsockname()[0])
    except OSError:
        return None
    return None if ipaddress.ip_address(address).is_loopback else address


def _active_portals(settings: Settings) -> list[tuple[str, str]] | None:
    from sqlalchemy.exc import SQLAlchemyError

    from app.tenancy.service import active_portals

    try:
        with _session(settings) as session:
            return active_portals(session)
    except SQLAlchemyError:  # not migrated yet: the block says what to run
        return None


def _print_block(text: str) -> None:
    print(text, flush=True)


def _accepts(host: str, port: int) -> bool:
    target = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)  # noqa: S104
    try:
        with socket.create_connection((target, port), timeout=1):
            return True
    except OSError:
        return False


def _announce_when_listening(host: str, port: int, text: str) -> None:
    """Several workers: uvicorn's parent logs "Uvicorn running on …" when it binds, before the workers
    listen; print the block once, here in the parent, when the first worker accepts connections."""
    import threading
    import time

    if _accepts(host, port):
        return  # something else holds the port: uvicorn will say so and stop

    def wait() -> None:
        deadline = time.monotonic() + ANNOUNCE_WAIT_SECONDS
        while time.monotonic() < deadline:
            if _accepts(host, port):
                _print_block(text)
                return
            time.sleep(0.2)

    threading.Thread(target=wait, name="announce", daemon=True).start()


class _AnnouncingServer(uvicorn.Server):
    """uvicorn's server, printing the first-minute block once it listens (after "Uvicorn running on …")."""

    def __init__(self, config: uvicorn.Config, announce: Callable[[int], str] | None) -> None:
        super().__init__(config)
        self.announce = announce

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and self.announce is not None:
            real_port = int(self.servers[0].sockets[0].getsockname()[1])  # the port bound, even for --port 0
            _print_block(self.announce(real_port))


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    workers = args.workers or settings.workers
    options: dict[str, Any] = {
        "factory": True,
        "host": host,
        "port": port,
        "workers": workers,
        "reload": False,
        "proxy_headers": True,
        "access_log": False,
    }
    announce = None
    if not settings.is_production:  # production sits behind a proxy, on its own names: no block
        portals, lan_address = _active_portals(settings), _lan_address()
        announce = partial(first_minute_text, settings, portals, host, lan_address=lan_address)
    if workers > 1:
        if announce is not None and port:
            _announce_when_listening(host, port, announce(port))
        uvicorn.run("app.main:create_app", **options)
        return 0
    server = _AnnouncingServer(uvicorn.Config("app.main:create_app", **options), announce)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C: uvicorn has already shut down cleanly
        server.run()
    return 0 if server.started else STARTUP_FAILURE


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from app.core.migrate import upgrade

    upgrade(settings.database_url, args.revision)
    print(f"database at {args.revision}")
    return 0


def cmd_seed(args: argparse.Namespace, settings: Settings) -> int:
    if settings.is_production:
        print("refusing to seed demo accounts with ENV=production", file=sys.stderr)
        return 2
    if args.profile == "national-2022":
        import time

        from app.reports import national2022

        started = time.perf_counter()
        with _session(settings) as session:
            made = national2022.generate(session, scale=args.scale, lesson_progress=args.lesson_progress)
            session.commit()
        print(
            f"national-2022: {made['tenants']} tenants, {made['learners']} learners, "
            f"{made['trainings']} trainings in {time.perf_counter() - started:.1f} s"
        )
        return 0
    from app.seed import seed_demo

    with _session(settings) as session:
        created = seed_demo(session, settings=settings)
        session.commit()
    print(
        f"seeded: {created['tenants']} tenants, {created['users']} users, "
        f"{created['lessons']} course lessons and {created['cohorts']} cohorts created or updated"
    )
    return 0


def cmd_tenants_create(args: argparse.Namespace, settings: Settings) -> int:
    from app.tenancy import service

    with _session(settings) as session:
        tenant = service.create_tenant(
            session,
            slug=args.slug,
            display_name=args.name,
            colour=args.colour,
            self_registration=args.self_registration,
        )
        session.commit()
        print(f"created tenant {tenant.slug} ({tenant.display_name})")
    return 0


def cmd_tenants_list(args: argparse.Namespace, settings: Settings) -> int:
    from app.tenancy import service

    with _session(settings) as session:
        tenants, _ = service.list_tenants(session, limit=10_000)
        for t in tenants:
            print(f"{t.slug}\t{t.display_name}\t{'active' if t.is_active else 'inactive'}")
    return 0


def cmd_users_create(args: argparse.Namespace, settings: Settings) -> int:
    from app.accounts import service as accounts
    from app.accounts.constants import NATIONAL_ADMIN
    from app.tenancy import service as tenants
    from app.tenancy.scoping import bind_tenant

    with _session(settings) as session:
        tenant = tenants.get_by_slug(session, args.tenant)
        if tenant is None:
            print(f"no tenant {args.tenant!r}", file=sys.stderr)
            return 2
        if args.role == NATIONAL_ADMIN and not tenant.is_national:
            print("national_admin belongs to the national tenant", file=sys.stderr)
            return 2
        bind_tenant(session, tenant.id, national_tenant_id=tenants.national_tenant_id(session))
        user = accounts.create_user(
            session,
            username=args.username,
            full_name=args.full_name or args.username,
            password=args.password,
            roles=[args.role],
            email=args.email,
            phone=args.phone,
            password_min_length=settings.password_min_length,
        )
        session.commit()
        print(f"created {user.username} in {tenant.slug} with role {args.role}")
    return 0


def _bound_session(settings: Settings, slug: str):  # type: ignore[no-untyped-def]
    from app.tenancy import service as tenants
    from app.tenancy.scoping import bind_tenant

    session = _session(settings)
    tenant = tenants.get_by_slug(session, slug)
    if tenant is None:
        session.close()
        return None, None
    bind_tenant(session, tenant.id, national_tenant_id=tenants.national_tenant_id(session))
    session.commit()  # end the look-up, so the import's transaction can start as a writer (BEGIN IMMEDIATE)
    return session, tenant


def _read_file(name: str) -> bytes | None:
    from pathlib import Path

    try:
        return Path(name).read_bytes()
    except OSError as exc:
        print(f"cannot read {name}: {exc.strerror}", file=sys.stderr)
        return None


def _print_outcome(outcome) -> None:  # type: ignore[no-untyped-def]
    for error in outcome.errors:
        print(f"row {error.row}, {error.column}: {error.message}", file=sys.stderr)
    if outcome.ignored_columns:
        print("ignored columns: " + ", ".join(outcome.ignored_columns), file=sys.stderr)
    mode = "dry run" if outcome.dry_run else "done"
    print(
        f"{mode}: {outcome.created} created, {outcome.updated} updated, {outcome.unchanged} unchanged, "
        f"{outcome.error_rows} rows with errors"
    )


def cmd_users_import(args: argparse.Namespace, settings: Settings) -> int:
    """Import accounts from a file; prints where the one-time passwords can be downloaded (once)."""
    from app.core.db import write_from_here
    from app.imports import service
    from app.imports.deps import import_options

    data = _read_file(args.file)
    if data is None:
        return 2
    session, tenant = _bound_session(settings, args.tenant)
    if session is None or tenant is None:
        print(f"no tenant {args.tenant!r}", file=sys.stderr)
        return 2
    with session:
        options = import_options(settings, preview=False)
        # Read the file first: the write lock (SQLite's only one) is held for the writes alone.
        parsed = service.parse_accounts(session, data, lang="vi", dry_run=args.dry_run, options=options)
        write_from_here(session)
        outcome = service.finish_import(
            session, parsed, tenant_id=tenant.id, options=options, actor_id=None, client_address="cli"
        )
        session.commit()
    _print_outcome(outcome)
    if outcome.credentials_batch_id:
        print(
            f"one-time passwords: download once within {settings.credentials_download_hours} h from "
            f"Administration on the portal (batch {outcome.credentials_batch_id})"
        )
    return 0


def cmd_units_import(args: argparse.Namespace, settings: Settings) -> int:
    from app.core.db import begin_write
    from app.core.spreadsheets import TableLimits, load_table
    from app.units import service

    data = _read_file(args.file)
    if data is None:
        return 2
    session, tenant = _bound_session(settings, args.tenant)
    if session is None or tenant is None:
        print(f"no tenant {args.tenant!r}", file=sys.stderr)
        return 2
    with session:
        table = load_table(data, TableLimits.of(settings))  # read before the write lock is taken
        begin_write(session)
        outcome = service.import_units(session, table, lang="vi", dry_run=args.dry_run)
        session.commit()
    _print_outcome(outcome)
    return 0


def cmd_units_load_official(args: argparse.Namespace, settings: Settings) -> int:
    """Load the province's communes from the official register shipped with the project."""
    from app.core.db import begin_write
    from app.units import official

    session, tenant = _bound_session(settings, args.tenant)
    if session is None or tenant is None:
        print(f"no tenant {args.tenant!r}", file=sys.stderr)
        return 2
    with session:
        begin_write(session)
        outcome = official.load_official_communes(
            session, args.province or tenant.slug, lang="vi", dry_run=args.dry_run
        )
        session.commit()
    print(f"official register: {official.REGISTER_SOURCE}")
    _print_outcome(outcome)
    return 0


def _national_session(settings: Settings):  # type: ignore[no-untyped-def]
    from app.tenancy import service as tenants
    from app.tenancy.scoping import bind_tenant

    session = _session(settings)
    national_id = tenants.national_tenant_id(session)
    if national_id is None:
        session.close()
        print(
            "no national tenant yet: run `onetouch seed` or `onetouch tenants create national …`",
            file=sys.stderr,
        )
        return None
    bind_tenant(session, national_id, national_tenant_id=national_id)
    return session


def cmd_courses_import(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from app.catalog.files import import_folder
    from app.catalog.storage import DiskStorage

    session = _national_session(settings)
    if session is None:
        return 2
    with session:
        stats = import_folder(
            session,
            Path(args.path),
            DiskStorage(settings.media_dir),
            max_bytes=settings.media_max_upload_mb * 1024 * 1024,
        )
        session.commit()
    print(
        f"courses: {len(stats.slugs)} read, {stats.courses_created} created, "
        f"{stats.courses_updated} updated; "
        f"lessons: {stats.lessons_created} created, {stats.lessons_updated} updated, "
        f"{stats.lessons_unchanged} unchanged, {stats.lessons_removed} removed"
    )
    return 0


def cmd_courses_export(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from app.catalog.files import export_course
    from app.catalog.storage import DiskStorage

    session = _national_session(settings)
    if session is None:
        return 2
    with session:
        out = export_course(session, args.slug, Path(args.dir), DiskStorage(settings.media_dir))
    print(f"exported {args.slug} to {out}")
    return 0


def cmd_reports_rebuild(args: argparse.Namespace, settings: Settings) -> int:
    """Recompute the stored report counters from the enrolments (all tenants, or one)."""
    from sqlalchemy import select

    from app.reports import counters
    from app.tenancy.models import Tenant
    from app.tenancy.scoping import cross_tenant

    with _session(settings) as session, cross_tenant(session):
        stmt = select(Tenant).order_by(Tenant.slug)
        if args.tenant:
            stmt = stmt.where(Tenant.slug == args.tenant)
        found = list(session.scalars(stmt))
        if not found:
            print(f"no tenant {args.tenant!r}", file=sys.stderr)
            return 2
        for tenant in found:
            counters.rebuild(session, tenant.id)
            session.commit()
            print(f"rebuilt {tenant.slug}")
    return 0


def cmd_reports_national(args: argparse.Namespace, settings: Settings) -> int:
    """Print the national report (the same figures as the page and `GET /api/v1/reports/tenants`)."""
    import datetime as dt

    from app.core import i18n
    from app.reports import service, tables

    lang = args.lang
    with _session(settings) as session:
        filters = service.Filters(
            dt.date.fromisoformat(args.date_from) if args.date_from else None,
            dt.date.fromisoformat(args.date_to) if args.date_to else None,
        )
        report = service.national_report(session, filters, merged=args.merged)
        headers, rows = tables.national_table(report, lambda m: i18n.translate(lang, m))
    if args.csv:
        from app.core.spreadsheets import write_csv

        sys.stdout.write(write_csv(headers, rows).decode("utf-8-sig"))
        return 0
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers[:5])]
    print("  ".join(str(h).ljust(w) for h, w in zip(headers[:5], widths, strict=True)))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row[:5], widths, strict=True)))
    print(
        f"provinces: {report.provinces.completed} trainings; learners: {report.learners}; "
        f"visits: {report.visits}"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="onetouch", description="OneTouch MOOC platform")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="serve HTTP (no auto-reload)")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--workers", type=int)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("migrate", help="upgrade the database schema")
    p.add_argument("revision", nargs="?", default="head")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("seed", help="create the demo tenants, accounts and courses (idempotent)")
    p.add_argument(
        "--profile",
        choices=["demo", "national-2022"],
        default="demo",
        help="national-2022: 63 provinces + ministries shaped like the ministry's 2022 figures",
    )
    p.add_argument("--scale", type=float, default=1.0, help="national-2022: multiply every figure")
    p.add_argument("--lesson-progress", action="store_true", help="national-2022: also lesson-progress rows")
    p.set_defaults(func=cmd_seed)

    reports = sub.add_parser("reports", help="report counters and the national report").add_subparsers(
        dest="reports_cmd", required=True
    )
    p = reports.add_parser("rebuild", help="recompute the stored report counters from the enrolments")
    p.add_argument("--tenant", help="only this tenant (slug)")
    p.set_defaults(func=cmd_reports_rebuild)
    p = reports.add_parser("national", help="print the national report, ranked by trainings")
    p.add_argument("--from", dest="date_from")
    p.add_argument("--to", dest="date_to")
    p.add_argument("--merged", action="store_true", help="group former provinces under their successors")
    p.add_argument("--csv", action="store_true")
    p.add_argument("--lang", default="vi", choices=["vi", "en"])
    p.set_defaults(func=cmd_reports_national)

    tenants = sub.add_parser("tenants", help="manage tenants").add_subparsers(
        dest="tenants_cmd", required=True
    )
    p = tenants.add_parser("create")
    p.add_argument("slug")
    p.add_argument("name")
    p.add_argument("--colour", default="#0b5394")
    p.add_argument("--self-registration", action="store_true")
    p.set_defaults(func=cmd_tenants_create)
    p = tenants.add_parser("list")
    p.set_defaults(func=cmd_tenants_list)

    courses = sub.add_parser("courses", help="course folders (courses/README.md)").add_subparsers(
        dest="courses_cmd", required=True
    )
    p = courses.add_parser("import", help="load every course folder under PATH into the national catalog")
    p.add_argument("path")
    p.set_defaults(func=cmd_courses_import)
    p = courses.add_parser("export", help="write a national course to DIR/SLUG/ in the course file format")
    p.add_argument("slug")
    p.add_argument("dir")
    p.set_defaults(func=cmd_courses_export)

    users = sub.add_parser("users", help="manage accounts").add_subparsers(dest="users_cmd", required=True)
    p = users.add_parser("create")
    p.add_argument("--tenant", required=True)
    p.add_argument("--username", required=True)
    p.add_argument("--password", required=True)
    p.add_argument(
        "--role", default="learner", choices=["learner", "trainer", "tenant_admin", "national_admin"]
    )
    p.add_argument("--full-name")
    p.add_argument("--email")
    p.add_argument("--phone")
    p.set_defaults(func=cmd_users_create)
    p = users.add_parser("import", help="create and update accounts from a CSV/XLSX file")
    p.add_argument("file")
    p.add_argument("--tenant", required=True)
    p.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
    p.set_defaults(func=cmd_users_import)

    units = sub.add_parser("units", help="manage units").add_subparsers(dest="units_cmd", required=True)
    p = units.add_parser("import", help="create and update units from a CSV/XLSX file")
    p.add_argument("file")
    p.add_argument("--tenant", required=True)
    p.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
    p.set_defaults(func=cmd_units_import)
    p = units.add_parser(
        "load-official",
        help="load the province's communes, wards and special zones since 1 July 2025 (shipped register)",
    )
    p.add_argument("--tenant", required=True)
    p.add_argument("--province", help="the province's slug in the register, when it is not the portal's slug")
    p.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
    p.set_defaults(func=cmd_units_load_official)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    settings = Settings()
    try:
        return int(args.func(args, settings))
    except DomainError as exc:
        from app.core import i18n

        print("error: " + i18n.translate("en", exc.message, **exc.params), file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())

"""The `onetouch` command: serve, migrate, seed, tenants, users (incl. import), units and courses."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from app.core.db import make_engine, make_session_factory
from app.core.errors import DomainError
from app.core.settings import Settings


def _session(settings: Settings):  # type: ignore[no-untyped-def]
    import app.models  # noqa: F401 - every table, so foreign keys between domains resolve

    engine = make_engine(settings.database_url)
    return make_session_factory(engine)()


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers or settings.workers,
        reload=False,
        proxy_headers=True,
        access_log=False,
    )
    return 0


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

"""Benchmark the reports at national scale on PostgreSQL.

    .venv/bin/python bench/reports.py [--scale 9.6] [--runs 9] [--keep]

Builds database `onetouch_bench_reports` (created and dropped here) with the `national-2022` profile scaled to
about 1,000,000 learners and 5,000,000+ lesson-progress rows, generated set-based (`generate_series`,
`INSERT … SELECT`) with the big tables' secondary indexes dropped during the load and created afterwards.
Then times, as the pages do (median of several runs, fresh session each):
- the national report (every tenant ranked, totals, coverage, team members, visits);
- the largest tenant's report by unit (rolled up the tree), and by course.
"""

from __future__ import annotations

import sys

# This folder holds http.py (the HTTP benchmark): take it off the import path so it cannot shadow the standard
# library's `http` (urllib, segno and others import it).
if sys.path and sys.path[0] and __file__.startswith(sys.path[0].rstrip("/") + "/"):
    sys.path.pop(0)

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_DB = "onetouch_bench_reports"
URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_DB}"
BIG_TABLES = ("user_account", "enrolment", "lesson_progress")


def recreate_database() -> None:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {PG_DB}"))
        conn.execute(text(f"CREATE DATABASE {PG_DB}"))
    admin.dispose()


def drop_database() -> None:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {PG_DB}"))
    admin.dispose()


def timed(fn, runs: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), min(samples)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=9.6)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    import app.models  # noqa: F401
    from app.core.db import make_engine, make_session_factory
    from app.core.migrate import upgrade
    from app.reports import national2022, service
    from app.reports.service import Filters
    from app.tenancy.scoping import bind_tenant

    recreate_database()
    upgrade(URL)
    engine = make_engine(URL)
    factory = make_session_factory(engine)

    started = time.perf_counter()
    with engine.begin() as conn:
        indexes = conn.execute(
            text(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i "
                "WHERE i.tablename = ANY(:t) AND i.indexname NOT IN "
                "(SELECT conname FROM pg_constraint)"
            ),
            {"t": list(BIG_TABLES)},
        ).all()
        for name, _ in indexes:
            conn.execute(text(f'DROP INDEX "{name}"'))
    with factory() as session:
        made = national2022.generate(session, scale=args.scale, lesson_progress=True)
        session.commit()
    loaded = time.perf_counter()
    with engine.begin() as conn:
        for _, definition in indexes:
            conn.execute(text(definition))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
        counts = {
            t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
            for t in (*BIG_TABLES, "unit", "report_counter", "report_daily")
        }
    generation = time.perf_counter() - started
    print(
        f"dataset: {made['tenants']} tenants, {counts['user_account']:,} accounts, "
        f"{counts['enrolment']:,} enrolments ({made['trainings']:,} trainings), "
        f"{counts['lesson_progress']:,} lesson-progress rows, {counts['unit']:,} units; "
        f"counters: {counts['report_counter']:,} + {counts['report_daily']:,} daily rows"
    )
    print(
        f"generation: {generation:.1f} s (load + counters {loaded - started:.1f} s, "
        f"indexes + analyze {generation - (loaded - started):.1f} s)"
    )

    with factory() as session:
        largest = session.execute(
            text(
                "SELECT t.id, t.slug FROM report_tenant r JOIN tenant t ON t.id = r.tenant_id "
                "ORDER BY r.assigned DESC LIMIT 1"
            )
        ).one()

    def national() -> None:
        with factory() as session:
            report = service.national_report(session, Filters())
            assert report.rows

    def tenant(group_by: str) -> None:
        with factory() as session:
            bind_tenant(session, largest.id)
            report = service.tenant_report(session, group_by, Filters())
            assert report.rows
            service.coverage(session)
            service.learners_with_completion(session, largest.id)

    national()
    median, best = timed(national, args.runs)
    print(f"national report: median {median:.1f} ms (best {best:.1f} ms) over {args.runs} runs")
    for group_by in ("unit", "course"):
        tenant(group_by)
        median, best = timed(lambda g=group_by: tenant(g), args.runs)
        print(
            f"{largest.slug} by {group_by}: median {median:.1f} ms (best {best:.1f} ms) over {args.runs} runs"
        )
    engine.dispose()
    if not args.keep:
        drop_database()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

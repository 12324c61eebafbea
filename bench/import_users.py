"""Benchmark the account import: N realistic rows, dry run then commit, on SQLite and PostgreSQL.

    .venv/bin/python bench/import_users.py 10000 100000 [--db sqlite|postgresql|both] [--xlsx]

Each (database, N) runs in a fresh subprocess on a fresh database (SQLite in a temporary folder; PostgreSQL
database `onetouch_bench_units`, created and dropped here), so the peak RSS printed is that run's own.
The file has ~2% in-file duplicates and ~2% bad rows (bad phones, emails, unknown units).
"""

from __future__ import annotations

import sys

# This folder holds http.py (the HTTP benchmark): take it off the import path so it cannot shadow the standard
# library's `http` (urllib, segno and others import it).
if sys.path and sys.path[0] and __file__.startswith(sys.path[0].rstrip("/") + "/"):
    sys.path.pop(0)

import argparse
import io
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_DB = "onetouch_bench_units"

SURNAMES = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Ngọc", "Quang", "Thu", "Xuân", "Đình", "Kim"]
GIVEN = [
    "An",
    "Bình",
    "Châu",
    "Dũng",
    "Giang",
    "Hà",
    "Hải",
    "Hạnh",
    "Hồng",
    "Hùng",
    "Hương",
    "Khánh",
    "Lan",
    "Linh",
    "Long",
    "Mai",
    "Nam",
    "Nga",
    "Phúc",
    "Phương",
    "Quân",
    "Sơn",
    "Tâm",
    "Thảo",
    "Trang",
    "Tú",
    "Yến",
]
GROUPS = ["Cán bộ, công chức", "Người dân", "Tổ CNSCĐ", "Doanh nghiệp", "Lãnh đạo xã", "civil_servant"]
N_UNITS = 300


def units_csv() -> bytes:
    lines = ["Mã,Tên,Loại,Mã cấp trên"]
    for d in range(10):
        lines.append(f"H{d:02d},Huyện số {d},Quận/huyện,")
    for c in range(N_UNITS - 10):
        lines.append(f"X{c:03d},Xã {random.choice(GIVEN)} {c},Xã/phường/thị trấn,H{c % 10:02d}")
    return "\n".join(lines).encode()


def accounts_csv(n: int, seed: int = 7) -> bytes:
    rnd = random.Random(seed)
    out = io.StringIO()
    out.write("Họ và tên,Số điện thoại,Email,Đơn vị,Chức vụ,Đối tượng,Đợt học\n")
    for i in range(n):
        name = f"{rnd.choice(SURNAMES)} {rnd.choice(MIDDLE)} {rnd.choice(GIVEN)}"
        phone = f"09{i:08d}"
        email = f"u{i}@haiphong.gov.vn" if i % 3 else ""
        unit = f"X{rnd.randrange(N_UNITS - 10):03d}"
        roll = rnd.random()
        if roll < 0.02 and i > 0:  # a duplicate of an earlier row's phone
            phone = f"09{rnd.randrange(i):08d}"
        elif roll < 0.03:
            phone = "12345"
        elif roll < 0.035:
            email = "khong-hop-le@"
        elif roll < 0.04:
            unit = "KHONG-CO"
        out.write(f'{name},{phone},{email},{unit},Chuyên viên,"{rnd.choice(GROUPS)}",Đợt 01\n')
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(data: bytes) -> bytes:
    import csv

    from app.core.spreadsheets import write_xlsx

    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    return write_xlsx(rows[0], rows[1:])


def worker(url: str, n: int, xlsx: bool) -> dict[str, float]:
    from app.catalog import service as catalog
    from app.cohorts.models import Cohort
    from app.core.db import begin_write, make_engine, make_session_factory
    from app.core.migrate import upgrade
    from app.imports import service
    from app.tenancy import service as tenants
    from app.tenancy.scoping import bind_tenant
    from app.units import service as units

    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with factory() as s:
        tenant = tenants.create_tenant(s, slug="haiphong", display_name="Hải Phòng")
        s.commit()
        tenant_id = tenant.id
    with factory() as s:
        bind_tenant(s, tenant_id)
        units.import_units(s, units_csv(), lang="vi", dry_run=False)
        # The cohort the file's `Đợt học` column names: every valid row is enrolled in the same commit.
        course = catalog.create_course(s, title="Chuyển đổi số cơ bản", slug="cds-co-ban")
        catalog.add_lesson(s, catalog.add_module(s, course, title="Phần 1"), title="Bài 1")
        s.add(Cohort(course_id=course.id, code="HP-CDS-01", title="Đợt 01"))
        s.commit()
    data = accounts_csv(n)
    if xlsx:
        data = to_xlsx(data)
    options = service.ImportOptions(secret_key="bench-secret-key-0123456789abcdef0123456789")
    results: dict[str, float] = {}
    for label, dry_run in (("dry_run", True), ("commit", False), ("again", False)):
        with factory() as s:
            bind_tenant(s, tenant_id)
            begin_write(s)
            start = time.perf_counter()
            outcome = service.import_accounts(
                s, data, tenant_id=tenant_id, lang="vi", dry_run=dry_run, options=options
            )
            s.commit()
            results[label] = time.perf_counter() - start
            results[f"{label}_created"] = outcome.created
            results[f"{label}_unchanged"] = outcome.unchanged
            results[f"{label}_error_rows"] = outcome.error_rows
            results[f"{label}_enrolled"] = outcome.enrolled
    results["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    engine.dispose()
    return results


def pg_reset(create: bool) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)"))
        if create:
            conn.execute(text(f"CREATE DATABASE {PG_DB}"))
    admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="*", type=int, default=[10_000])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--xlsx", action="store_true", help="upload an XLSX workbook instead of CSV")
    parser.add_argument("--worker", nargs=2, metavar=("URL", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0], int(args.worker[1]), args.xlsx)))
        return 0
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    print(
        f"{'db':<11}{'rows':>8}{'fmt':>6}{'dry run s':>11}{'rows/s':>9}{'commit s':>10}{'rows/s':>9}"
        f"{'again s':>9}{'peak MB':>9}  created/errors/enrolled"
    )
    for db in dbs:
        for n in args.sizes:
            with tempfile.TemporaryDirectory() as tmp:
                if db == "sqlite":
                    url = f"sqlite:///{tmp}/bench.db"
                else:
                    pg_reset(create=True)
                    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_DB}"
                cmd = [sys.executable, __file__, "--worker", url, str(n)] + (["--xlsx"] if args.xlsx else [])
                try:
                    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
                finally:
                    if db == "postgresql":
                        pg_reset(create=False)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"{db:<11}{n:>8}{'xlsx' if args.xlsx else 'csv':>6}"
                f"{r['dry_run']:>11.2f}{n / r['dry_run']:>9.0f}"
                f"{r['commit']:>10.2f}{n / r['commit']:>9.0f}{r['again']:>9.2f}{r['peak_rss_mb']:>9.0f}  "
                f"{int(r['commit_created'])}/{int(r['commit_error_rows'])}/{int(r['commit_enrolled'])}, "
                f"again created {int(r['again_created'])}, enrolled {int(r['again_enrolled'])}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark the units import with the national register as people have it: 10,743 rows (696 districts and
10,047 communes, tests/fixtures/units/register_2025-03-01.csv.gz), then the unit tree page over them.

    .venv/bin/python bench/units_import.py [--db sqlite|postgresql] [--repeat 3]

Each run is a fresh subprocess on a fresh database (bench/harness.py: SQLite in a temporary folder, or a
PostgreSQL database created and dropped around it: `BENCH_PG_DB`, here `onetouch_realdata_bench` by default).
Printed: the preview (dry run), the import that creates every unit, the same file again (nothing to change),
the official 2025 communes of one province (`load-official`), and the tree page's size and time with every
unit in one portal.
"""

from __future__ import annotations

import sys

# This folder holds http.py (the HTTP benchmark): take it off the import path so it cannot shadow the standard
# library's `http`.
if sys.path and sys.path[0] and __file__.startswith(sys.path[0].rstrip("/") + "/"):
    sys.path.pop(0)

import argparse
import gzip
import json
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))
os.environ.setdefault("BENCH_PG_DB", "onetouch_realdata_bench")

from harness import database  # noqa: E402

REGISTER = ROOT / "tests" / "fixtures" / "units" / "register_2025-03-01.csv.gz"
PASSWORD = "Bench-units-2026"


def worker(url: str) -> dict[str, float]:
    from app.accounts import service as accounts
    from app.core.db import begin_write, make_engine, make_session_factory
    from app.core.migrate import upgrade
    from app.tenancy import service as tenants
    from app.tenancy.scoping import bind_tenant
    from app.units import official
    from app.units import service as units

    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with factory() as s:
        national = tenants.create_tenant(s, slug="vietnam", display_name="Cả nước")
        haiphong = tenants.create_tenant(s, slug="haiphong", display_name="Hải Phòng")
        s.commit()
        national_id, haiphong_id = national.id, haiphong.id
    data = gzip.decompress(REGISTER.read_bytes())
    results: dict[str, float] = {}
    for label, dry_run in (("dry_run", True), ("commit", False), ("again", False)):
        with factory() as s:
            bind_tenant(s, national_id)
            begin_write(s)
            start = time.perf_counter()
            outcome = units.import_units(s, data, lang="vi", dry_run=dry_run)
            s.commit()
            results[label] = time.perf_counter() - start
            results[f"{label}_created"] = outcome.created
            results[f"{label}_errors"] = outcome.error_rows
    with factory() as s:
        bind_tenant(s, haiphong_id)
        begin_write(s)
        start = time.perf_counter()
        outcome = official.load_official_communes(s, "haiphong", lang="vi", dry_run=False)
        s.commit()
        results["official"] = time.perf_counter() - start
        results["official_created"] = outcome.created
    with factory() as s:
        bind_tenant(s, national_id)
        accounts.create_user(
            s, username="admin", full_name="Quản trị", password=PASSWORD, roles=["tenant_admin"]
        )
        s.commit()
    engine.dispose()
    results.update(tree_page(url))
    return results


def tree_page(url: str) -> dict[str, float]:
    """The admin's unit tree page over the whole register, through the app (best of 5 requests)."""
    from starlette.testclient import TestClient

    from app.core.settings import Settings
    from app.main import create_app

    settings = Settings(database_url=url, secret_key="bench-secret-key-0123456789abcdef0123", _env_file=None)  # type: ignore[call-arg]
    client = TestClient(create_app(settings), base_url="http://vietnam.localhost", follow_redirects=False)
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    data = {"identifier": "admin", "password": PASSWORD, "csrf_token": token.group(1), "next": "/"}
    assert client.post("/login", data=data).status_code == 303
    times = []
    for _ in range(5):
        start = time.perf_counter()
        response = client.get("/admin/units")
        times.append(time.perf_counter() - start)
    assert response.status_code == 200, response.status_code
    body = response.content
    gzipped = len(gzip.compress(body))
    return {"tree_s": min(times), "tree_kb": len(body) / 1024, "tree_gzip_kb": gzipped / 1024}


def run_once(db: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp, database(db, Path(tmp)) as url:
        out = subprocess.run(
            [sys.executable, __file__, "--worker", url], check=True, capture_output=True, text=True
        ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--worker", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker)))
        return 0
    print(f"units import, {args.db}: 10,743 rows of the national register (best of {args.repeat})")
    runs = [run_once(args.db) for _ in range(args.repeat)]
    best = {key: min(r[key] for r in runs) for key in runs[0]}
    print(f"  preview (dry run)      {best['dry_run']:6.2f} s   errors {int(best['dry_run_errors'])}")
    print(f"  import (creates all)   {best['commit']:6.2f} s   created {int(best['commit_created'])}")
    print(f"  same file again        {best['again']:6.2f} s   created {int(best['again_created'])}")
    official = int(best["official_created"])
    print(f"  official communes      {best['official']:6.2f} s   created {official} (Hải Phòng)")
    print(
        f"  tree page (10,743)     {best['tree_s']:6.2f} s   {best['tree_kb']:.1f} KB HTML,"
        f" {best['tree_gzip_kb']:.1f} KB gzipped"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

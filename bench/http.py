"""HTTP benchmark: the production server on loopback, driven by wrk, every figure next to the bare ceiling.

    .venv/bin/python bench/http.py [--db sqlite|postgres] [--workers N] [--duration S] [--connections C]
                                   [--learners N] [--only NAME,...] [--redis]

It builds a fresh database with `bench/dataset.py` (SQLite in a temporary folder, or the PostgreSQL database
`onetouch_bench_perf`, created here and dropped at the end), starts `onetouch serve --workers N` with
`ENV=production`, a random `SECRET_KEY`, `LOG_REQUESTS=false` and `BENCH_ENDPOINTS=1` (which adds the bare
ASGI `/__bench/hello`, the ceiling), and runs wrk against each endpoint in `ENDPOINTS`. Only 127.0.0.1 is
contacted; every wrk run has a fixed duration and a hard timeout, and the server is stopped at the end.
See bench/README.md.
"""

from __future__ import annotations

import sys

# This file is named like the standard library's `http` package: take its folder off the import path first.
if sys.path and sys.path[0] and __file__.startswith(sys.path[0].rstrip("/") + "/"):
    sys.path.pop(0)

import argparse
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT / "bench"))  # after the standard library, for `dataset`
sys.path.insert(0, str(ROOT))

import dataset  # noqa: E402
from harness import (  # noqa: E402
    REDIS_URL,
    database,
    free_port,
    server,
    server_env,
)


def ensure_wrk() -> str:
    """wrk from Debian's packages, installed with apt-get when missing (network: the package mirror only)."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: installing Debian's package", flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)
    install = [*sudo, "apt-get", "install", "-y", "-qq", "wrk"]
    subprocess.run(install, check=True, env=env, stdout=subprocess.DEVNULL)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk could not be installed; install Debian's `wrk` package")
    return found


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str  # `{lesson}` is replaced by a random lesson id per request
    auth: str | None = None  # None | "cookie" (pages) | "bearer" (API)
    users: str = "readers"  # whose tokens: "readers" (enrolled, read) or "writers" (enrolled, complete)
    body: str = ""  # `{username}` and `{password}` are replaced per request
    connections: int | None = None  # override --connections (sign-in is argon2-bound by design)


# The endpoints measured, in order. The first is the ceiling every other figure is divided by.
ENDPOINTS: list[Endpoint] = [
    Endpoint("hello (bare ASGI ceiling)", "GET", "/__bench/hello"),
    Endpoint("lesson page (HTML)", "GET", "/lessons/{lesson}", auth="cookie"),
    Endpoint("lesson API", "GET", "/api/v1/lessons/{lesson}", auth="bearer"),
    Endpoint("catalog page", "GET", "/courses", auth="cookie"),
    Endpoint("catalog API", "GET", "/api/v1/courses", auth="bearer"),
    Endpoint(
        "lesson complete (POST)", "POST", "/api/v1/lessons/{lesson}/complete", auth="bearer", users="writers"
    ),
    Endpoint(
        "sign-in (argon2id)",
        "POST",
        "/api/v1/auth/token",
        users="readers",
        body="username={username}&password={password}",
        connections=16,
    ),
    # QUIZ: add quiz submission here once quizzes exist, e.g.
    # Endpoint("quiz submit (POST)", "POST", "/api/v1/attempts/{attempt}/submit", auth="bearer",
    #          users="writers", body='{"answers": {...}}'),
]

LUA = r"""
local users = %(users)s
local lessons = %(lessons)s
local method, path_t, auth, body_t, password = %(method)s, %(path)s, %(auth)s, %(body)s, %(password)s
local counter = 0

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end

function request()
  local u = users[math.random(#users)]
  local path = string.gsub(path_t, "{lesson}", tostring(lessons[math.random(#lessons)]))
  local headers = { ["Host"] = u[1] }
  if auth == "cookie" then
    headers["Cookie"] = "ot_session=" .. u[2]
  elseif auth == "bearer" then
    headers["Authorization"] = "Bearer " .. u[2]
  end
  local body = nil
  if body_t ~= "" then
    body = string.gsub(string.gsub(body_t, "{username}", u[3]), "{password}", password)
    headers["Content-Type"] = "application/x-www-form-urlencoded"
  end
  return wrk.format(method, path, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCHJSON {\"requests\": %%d, \"duration_us\": %%d, \"p50_us\": %%d, \"p99_us\": %%d, " ..
    "\"non2xx3xx\": %%d, \"socket_errors\": %%d}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal for this ASCII content


def write_lua(path: Path, ep: Endpoint, ds: dataset.Dataset) -> None:
    pool = ds.readers if ep.users == "readers" else ds.writers
    users = (
        "{"
        + ",".join(f"{{{lua_string(u.host)},{lua_string(u.token)},{lua_string(u.username)}}}" for u in pool)
        + "}"
    )
    path.write_text(
        LUA
        % {
            "users": users,
            "lessons": "{" + ",".join(str(i) for i in ds.lesson_ids) + "}",
            "method": lua_string(ep.method),
            "path": lua_string(ep.path),
            "auth": lua_string(ep.auth or ""),
            "body": lua_string(ep.body),
            "password": lua_string(ds.password),
        }
    )


def run_wrk(port: int, script: Path, *, duration: int, connections: int, threads: int) -> dict[str, float]:
    cmd = [ensure_wrk(), f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s"]
    cmd += ["-s", str(script)]
    cmd.append(f"http://127.0.0.1:{port}")
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60, check=False)
    line = next((x for x in out.stdout.splitlines() if x.startswith("BENCHJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {out.stdout}\n{out.stderr}")
    data = json.loads(line[len("BENCHJSON ") :])
    if not data["requests"]:
        print(f"  (wrk completed no request in {duration} s)", flush=True)
    data["rps"] = data["requests"] / (data["duration_us"] / 1e6) if data["duration_us"] else 0.0
    return data


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--duration", type=int, default=10, help="seconds per endpoint (after a 2 s warm-up)")
    p.add_argument("--connections", type=int, default=100)
    p.add_argument("--threads", type=int, default=2, help="wrk threads")
    p.add_argument("--learners", type=int, default=2000, help="learners per province")
    p.add_argument("--only", default="", help="comma-separated name prefixes (the ceiling always runs)")
    p.add_argument("--redis", action="store_true", help=f"set REDIS_URL={REDIS_URL} (shared caches)")
    p.add_argument("--json", type=Path, help="also write the results here")
    args = p.parse_args(argv)

    secret = secrets.token_urlsafe(48)
    endpoints = ENDPOINTS
    if args.only:
        wanted = [w.strip().lower() for w in args.only.split(",") if w.strip()]
        endpoints = [ENDPOINTS[0]] + [
            e for e in ENDPOINTS[1:] if any(e.name.lower().startswith(w) for w in wanted)
        ]
    with tempfile.TemporaryDirectory(prefix="onetouch-bench-") as d, database(args.db, Path(d)) as url:
        tmp = Path(d)
        t0 = time.perf_counter()
        ds = dataset.build(url, secret_key=secret, learners=args.learners)
        print(f"dataset: {ds.counts} in {time.perf_counter() - t0:.1f} s", flush=True)
        port = free_port()
        env = server_env(url, secret, tmp, args.redis)
        results: list[tuple[Endpoint, dict[str, float]]] = []
        with server(env, args.workers, port, tmp / "server.log"):
            for ep in endpoints:
                script = tmp / "bench.lua"
                write_lua(script, ep, ds)
                conns = ep.connections or args.connections
                run_wrk(port, script, duration=2, connections=conns, threads=args.threads)  # warm-up
                r = run_wrk(port, script, duration=args.duration, connections=conns, threads=args.threads)
                r["connections"] = conns
                results.append((ep, r))
                print(f"  {ep.name:28} {r['rps']:9.0f} req/s", flush=True)
        log_tail = (tmp / "server.log").read_text(errors="replace").splitlines()[-5:]
    ceiling = results[0][1]["rps"]
    print()
    print(
        f"db={args.db} workers={args.workers} redis={'on' if args.redis else 'off'} "
        f"connections={args.connections} duration={args.duration}s cores={os.cpu_count()}"
    )
    print(f"{'endpoint':30} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>7} {'conns':>5} {'errors':>7}")
    for ep, r in results:
        errors = int(r["non2xx3xx"] + r["socket_errors"])
        print(
            f"{ep.name:30} {r['rps']:9.0f} {r['p50_us'] / 1000:8.1f} {r['p99_us'] / 1000:8.1f} "
            f"{r['rps'] / ceiling:7.1%} {int(r['connections']):5d} {errors:7d}"
        )
    if any(r["non2xx3xx"] for _, r in results):
        print("server log tail:", *log_tail, sep="\n  ")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "db": args.db,
                    "workers": args.workers,
                    "ceiling_rps": ceiling,
                    "results": [{"endpoint": ep.name, **r, "ratio": r["rps"] / ceiling} for ep, r in results],
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

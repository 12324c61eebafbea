"""HTTP benchmark: the production server on loopback, driven by wrk, every figure next to the bare ceiling.

    .venv/bin/python bench/http.py [--db sqlite|postgres] [--workers N] [--duration S] [--connections C]
                                   [--learners N] [--quiz-takers N] [--only NAME,...] [--redis]

It builds a fresh database with `bench/dataset.py` (SQLite in a temporary folder, or the PostgreSQL database
`onetouch_bench_perf`, created here and dropped at the end), starts `onetouch serve --workers N` with
`ENV=production`, a random `SECRET_KEY`, `LOG_REQUESTS=false` and `BENCH_ENDPOINTS=1` (which adds the bare
ASGI `/__bench/hello`, the ceiling), and runs wrk against each endpoint in `ENDPOINTS`. Only 127.0.0.1 is
contacted; every wrk run has a fixed duration and a hard timeout, and the server is stopped at the end.
Quiz submission submits a different pre-started attempt with every request (never one twice) and checks the
graded rows in the database afterwards. See bench/README.md.
"""

from __future__ import annotations

import sys

# This file is named like the standard library's `http` package: take its folder off the import path first.
if sys.path and sys.path[0] and __file__.startswith(sys.path[0].rstrip("/") + "/"):
    sys.path.pop(0)

import argparse
import datetime as dt
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
    path: (
        str  # `{lesson}`: a random lesson id per request; `{attempt}`: the next unused attempt (users="quiz")
    )
    auth: str | None = None  # None | "cookie" (pages) | "bearer" (API)
    # Whose tokens: "readers" (enrolled, read), "writers" (enrolled, complete), or "quiz": each request takes
    # the next of the dataset's pre-started attempts, never one twice, with its taker's token and answers.
    users: str = "readers"
    body: str = ""  # form body; `{username}` and `{password}` are replaced per request (users="quiz": JSON)
    connections: int | None = None  # override --connections (sign-in is argon2-bound by design)


QUIZ_TAKERS = 700  # per province: 3 provinces x 3 quizzes x 700 = 6,300 attempts, one per submission

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
    # Each request submits (and the server grades and stores) a different in-progress attempt.
    Endpoint("quiz submit (POST)", "POST", "/api/v1/attempts/{attempt}/submit", auth="bearer", users="quiz"),
]

LUA = r"""
local users = %(users)s
local lessons = %(lessons)s
-- Pre-started attempts {taker index in users, attempt id, JSON body}; empty unless the endpoint is "quiz".
-- Thread t (0-based) of n takes attempts[base + t + k*n + 1] for its k-th request (k = 0, 1, ...): disjoint
-- per thread, each used once. `base` skips those an earlier run (the warm-up) may have used.
local attempts = %(attempts)s
local base, nthreads = %(base)d, %(threads)d
local method, path_t, auth, body_t, password = %(method)s, %(path)s, %(auth)s, %(body)s, %(password)s

tid = 0        -- set per thread by setup()
used = 0       -- attempts this thread has taken
exhausted = 0  -- requests made after this thread's share ran out (sent to a 404: counted as errors)
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000) + tid)
end

function request()
  local u, path, body
  if #attempts > 0 then
    local i = base + tid + used * nthreads + 1
    if i > #attempts then
      exhausted = exhausted + 1
      u, path = users[1], "/api/v1/attempts/0/submit"
    else
      used = used + 1
      local a = attempts[i]
      u, path, body = users[a[1]], string.gsub(path_t, "{attempt}", tostring(a[2])), a[3]
    end
  else
    u = users[math.random(#users)]
    path = string.gsub(path_t, "{lesson}", tostring(lessons[math.random(#lessons)]))
  end
  local headers = { ["Host"] = u[1] }
  if auth == "cookie" then
    headers["Cookie"] = "ot_session=" .. u[2]
  elseif auth == "bearer" then
    headers["Authorization"] = "Bearer " .. u[2]
  end
  if body ~= nil then
    headers["Content-Type"] = "application/json"
  elseif body_t ~= "" then
    body = string.gsub(string.gsub(body_t, "{username}", u[3]), "{password}", password)
    headers["Content-Type"] = "application/x-www-form-urlencoded"
  end
  return wrk.format(method, path, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  local most, out = 0, 0
  for _, t in ipairs(threads) do
    most = math.max(most, t:get("used"))
    out = out + t:get("exhausted")
  end
  io.write(string.format(
    "BENCHJSON {\"requests\": %%d, \"duration_us\": %%d, \"p50_us\": %%d, \"p99_us\": %%d, " ..
    "\"non2xx3xx\": %%d, \"socket_errors\": %%d, \"next_base\": %%d, \"exhausted\": %%d}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout, base + nthreads * most, out))
end
"""


def lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal for this ASCII content


def write_lua(path: Path, ep: Endpoint, ds: dataset.Dataset, *, threads: int, base: int = 0) -> None:
    pool = {"readers": ds.readers, "writers": ds.writers, "quiz": ds.quiz_takers}[ep.users]
    attempts = ds.attempts if ep.users == "quiz" else []
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
            "attempts": "{"
            + ",".join(f"{{{a.taker + 1},{a.attempt_id},{lua_string(a.body)}}}" for a in attempts)
            + "}",
            "base": base,
            "threads": threads,
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


def check_deadline(ds: dataset.Dataset, duration: int) -> None:
    """Refuse to measure late attempts: past its deadline (and grace) a submission is graded differently."""
    deadlines = [a.deadline for a in ds.attempts if a.deadline is not None]
    if deadlines:
        left = (min(deadlines) - dt.datetime.now(dt.UTC)).total_seconds()
        if left < duration + 2 + 30:
            raise SystemExit(
                f"the quiz attempts reach their time limit in {left:.0f} s, before the run ends: "
                "use a shorter --duration or fewer endpoints"
            )


def check_quiz_rows(url: str, ds: dataset.Dataset, warm: dict[str, float], run: dict[str, float]) -> str:
    """What the quiz submissions left in the database, against what wrk saw answered 2xx."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        # Only the quiz takers have attempts in this benchmark: the dataset's, graded or still open.
        rows = dict(conn.execute(text("SELECT status, count(*) FROM quiz_attempt GROUP BY status")).all())
    engine.dispose()
    answered = sum(int(x["requests"] - x["non2xx3xx"]) for x in (warm, run))
    taken = min(int(run["next_base"]), len(ds.attempts))
    return (
        f"quiz submit: {answered} answered 2xx (warm-up + run), {rows.get('submitted', 0)} attempts graded "
        f"and stored (target: at least as many, at most the {taken} taken; the rest were in flight at the "
        f"end), {rows.get('timed_out', 0)} timed out (target 0), {len(ds.attempts) - taken} of "
        f"{len(ds.attempts)} left unused, {int(warm['exhausted'] + run['exhausted'])} requests found none"
    )


# The learning path's mechanisms (docs/performance.md): each can be switched off to measure what it buys.
MECHANISMS = (
    "FAST_DISPATCH",
    "ASSEMBLE_PAGES",
    "BUFFER_LESSON_VISITS",
    "DRIVER_STATEMENTS",
    "SQLITE_BACKGROUND_CHECKPOINTS",
    "DB_ASYNC",
)
SQLITE_ONLY = ("DRIVER_STATEMENTS", "SQLITE_BACKGROUND_CHECKPOINTS")
POSTGRES_ONLY = ("DB_ASYNC",)
ABLATION_ENDPOINTS = ("lesson page", "lesson api", "lesson complete", "quiz submit")


def configurations(db: str, ablation: bool) -> list[tuple[str, dict[str, str]]]:
    """(name, settings) to measure: as configured; or, for the ablation, every mechanism on, each one off
    alone, and none (DB_ASYNC only means something on PostgreSQL)."""
    if not ablation:
        return [("as configured", {})]
    excluded = SQLITE_ONLY if db == "postgres" else POSTGRES_ONLY
    names = [m for m in MECHANISMS if m not in excluded]
    every = {m: "true" for m in names}
    return [
        ("all", every),
        *[(f"no {m.lower()}", {**every, m: "false"}) for m in names],
        ("none", {m: "false" for m in names}),
    ]


@dataclass
class Run:
    """One configuration's results, and where the next run starts taking quiz attempts."""

    results: list[tuple[Endpoint, dict[str, float]]]
    quiz_check: str | None
    log_tail: list[str]
    quiz_base: int


def measure(
    args: argparse.Namespace,
    ds: dataset.Dataset,
    url: str,
    env: dict[str, str],
    endpoints: list[Endpoint],
    tmp: Path,
    quiz_base: int,
) -> Run:
    port = free_port()
    results: list[tuple[Endpoint, dict[str, float]]] = []
    quiz_check: str | None = None
    with server(env, args.workers, port, tmp / "server.log"):
        for ep in endpoints:
            script = tmp / "bench.lua"
            conns = ep.connections or args.connections
            if ep.users == "quiz":
                check_deadline(ds, args.duration)
            write_lua(script, ep, ds, threads=args.threads, base=quiz_base)
            warm = run_wrk(port, script, duration=2, connections=conns, threads=args.threads)
            # The measured run takes the attempts the warm-up left (a new Lua state counts from `base`).
            write_lua(script, ep, ds, threads=args.threads, base=int(warm["next_base"]))
            r = run_wrk(port, script, duration=args.duration, connections=conns, threads=args.threads)
            r["connections"] = conns
            results.append((ep, r))
            print(f"  {ep.name:28} {r['rps']:9.0f} req/s", flush=True)
            if ep.users == "quiz":
                quiz_check = check_quiz_rows(url, ds, warm, r)
                quiz_base = int(r["next_base"])
    log_tail = (tmp / "server.log").read_text(errors="replace").splitlines()[-5:]
    return Run(results, quiz_check, log_tail, quiz_base)


def report(args: argparse.Namespace, name: str, run: Run) -> None:
    ceiling = run.results[0][1]["rps"]
    print()
    print(
        f"[{name}] db={args.db} workers={args.workers} redis={'on' if args.redis else 'off'} "
        f"connections={args.connections} duration={args.duration}s cores={os.cpu_count()}"
    )
    print(f"{'endpoint':30} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>7} {'conns':>5} {'errors':>7}")
    for ep, r in run.results:
        errors = int(r["non2xx3xx"] + r["socket_errors"])
        print(
            f"{ep.name:30} {r['rps']:9.0f} {r['p50_us'] / 1000:8.1f} {r['p99_us'] / 1000:8.1f} "
            f"{r['rps'] / ceiling:7.1%} {int(r['connections']):5d} {errors:7d}"
        )
    if run.quiz_check:
        print(run.quiz_check)
    if any(r["non2xx3xx"] for _, r in run.results):
        print("server log tail:", *run.log_tail, sep="\n  ")


def ablation_table(runs: list[tuple[str, Run]]) -> None:
    """Ratio to the same run's ceiling, per endpoint and configuration."""
    print()
    print("ablation: ratio to each run's own ceiling (req/s in brackets)")
    names = [name for name, _ in runs]
    print(f"{'endpoint':24}" + "".join(f"{n:>26}" for n in names))
    for i, (ep, _) in enumerate(runs[0][1].results[1:], start=1):
        cells = []
        for _, run in runs:
            ceiling = run.results[0][1]["rps"]
            r = run.results[i][1]
            cells.append(f"{r['rps'] / ceiling:7.1%} ({r['rps']:6.0f})")
        print(f"{ep.name:24}" + "".join(f"{c:>26}" for c in cells))


def select_endpoints(args: argparse.Namespace) -> list[Endpoint]:
    only = args.only or (",".join(ABLATION_ENDPOINTS) if args.ablation else "")
    if not only:
        return ENDPOINTS
    wanted = [w.strip().lower() for w in only.split(",") if w.strip()]
    return [ENDPOINTS[0]] + [e for e in ENDPOINTS[1:] if any(e.name.lower().startswith(w) for w in wanted)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--duration", type=int, default=10, help="seconds per endpoint (after a 2 s warm-up)")
    p.add_argument("--connections", type=int, default=100)
    p.add_argument("--threads", type=int, default=2, help="wrk threads")
    p.add_argument("--learners", type=int, default=2000, help="learners per province")
    p.add_argument(
        "--bench-users",
        type=int,
        default=2000,
        help="readers and writers per province: enough that writers do not run out of lessons to complete "
        "(a writer finishes a course after a few)",
    )
    p.add_argument(
        "--quiz-takers",
        type=int,
        default=QUIZ_TAKERS,
        help="quiz takers per province, each with one open attempt per quiz (the quiz submission's supply)",
    )
    p.add_argument("--only", default="", help="comma-separated name prefixes (the ceiling always runs)")
    p.add_argument("--redis", action="store_true", help=f"set REDIS_URL={REDIS_URL} (shared caches)")
    p.add_argument(
        "--ablation",
        action="store_true",
        help="measure with every mechanism, each one off alone, and none (" + ", ".join(MECHANISMS) + ")",
    )
    p.add_argument("--json", type=Path, help="also write the results here")
    args = p.parse_args(argv)

    secret = secrets.token_urlsafe(48)
    endpoints = select_endpoints(args)
    configs = configurations(args.db, args.ablation)
    runs: list[tuple[str, Run]] = []
    with tempfile.TemporaryDirectory(prefix="onetouch-bench-") as d, database(args.db, Path(d)) as url:
        tmp = Path(d)
        t0 = time.perf_counter()
        takers = args.quiz_takers if any(e.users == "quiz" for e in endpoints) else 0
        ds = dataset.build(
            url, secret_key=secret, learners=args.learners, bench_users=args.bench_users, quiz_takers=takers
        )
        print(f"dataset: {ds.counts} in {time.perf_counter() - t0:.1f} s", flush=True)
        quiz_base = 0
        for name, overrides in configs:
            print(f"[{name}] {overrides or ''}", flush=True)
            env = server_env(url, secret, tmp, args.redis, overrides)
            run = measure(args, ds, url, env, endpoints, tmp, quiz_base)
            quiz_base = run.quiz_base
            runs.append((name, run))
    for name, run in runs:
        report(args, name, run)
    if args.ablation:
        ablation_table(runs)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "db": args.db,
                    "workers": args.workers,
                    "runs": {
                        name: {
                            "ceiling_rps": run.results[0][1]["rps"],
                            "results": [
                                {"endpoint": ep.name, **r, "ratio": r["rps"] / run.results[0][1]["rps"]}
                                for ep, r in run.results
                            ],
                        }
                        for name, run in runs
                    },
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The database goes away under load: 503s with a clear message, self-recovery, no acknowledged write lost.

Runs its own PostgreSQL cluster (initdb into a temporary folder, a spare port, its own socket folder; as
the `postgres` OS user when run as root), never the shared server. Two uvicorn workers serve the app;
threads complete lessons, take quizzes (start an attempt, submit answers) and sign in while the cluster is
stopped with `pg_ctl stop -m immediate` (a crash) and started again. A missing `initdb` fails in CI (which
has PostgreSQL) and skips elsewhere.
"""

from __future__ import annotations

import glob
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import missing_service

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT / "bench"))  # appended: bench/http.py must not shadow the standard library's http
import dataset  # noqa: E402 - bench/dataset.py: tenants, the shipped courses, enrolled learners, tokens
import harness  # noqa: E402 - bench/harness.py: free ports, stopping a server

OUTAGE_SECONDS = 4.0
RECOVERY_LIMIT_SECONDS = 15.0


def pg_bin(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))[-1:]), None
    )
    if not found:
        missing_service(f"{name} not found: install the PostgreSQL server binaries")
    return found


class Cluster:
    """A throw-away PostgreSQL cluster on 127.0.0.1:port."""

    def __init__(self, root: Path, port: int) -> None:
        self.root, self.port = root, port
        self.data, self.log = root / "data", root / "postgres.log"
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.as_postgres, *args], capture_output=True, text=True, timeout=60, check=check, cwd=self.root
        )

    def init(self) -> None:
        if self.as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self.run(pg_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=60"
        self.run(pg_bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start")

    def stop(self, mode: str = "immediate") -> None:
        self.run(pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/onetouch_faults"


@pytest.fixture()
def cluster() -> Iterator[Cluster]:
    root = Path(tempfile.mkdtemp(prefix="onetouch-pg-"))
    c = Cluster(root, harness.free_port())
    try:
        c.init()
        c.start()
        admin = create_engine(c.url.replace("/onetouch_faults", "/postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE onetouch_faults"))
        admin.dispose()
        yield c
    finally:
        c.stop()
        shutil.rmtree(root, ignore_errors=True)


def http(
    method: str,
    port: int,
    path: str,
    host: str,
    *,
    token: str = "",
    body: bytes | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> tuple[int, str]:
    headers = {"Host": host}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        headers["Content-Type"] = content_type
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=20) as r:  # noqa: S310 - loopback only
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError as exc:  # connection reset etc.: recorded, never counted as acknowledged
        return 0, str(exc)


@contextmanager
def served_app(cluster: Cluster, secret: str) -> Iterator[int]:
    """Two uvicorn workers of the app on the cluster, in production mode; yields their port once ready."""
    port = harness.free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
        "ENV": "production",
        "SECRET_KEY": secret,
        "DATABASE_URL": cluster.url,
        "LOG_REQUESTS": "false",
        "DB_POOL_TIMEOUT": "5",
        "MEDIA_DIR": str(cluster.root / "media"),
    }
    cmd = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--workers", "2"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    server_log = cluster.root / "server.log"
    with server_log.open("wb") as out:
        server = subprocess.Popen(
            cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 30
        while http("GET", port, "/readyz", "localhost")[0] != 200:
            assert server.poll() is None, server_log.read_text()[-2000:]
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        yield port
    finally:
        harness.stop(server)


class Load:
    """Threads that complete lessons, sign in and take quizzes until stopped, recording every answer."""

    def __init__(self, port: int, ds: dataset.Dataset) -> None:
        self.port, self.ds = port, ds
        self.stop = threading.Event()
        self.lock = threading.Lock()
        # (answered at, user id, lesson id, status, body, sent at)
        self.completions: list[tuple[float, int, int, int, str, float]] = []
        # (answered at, status, body)
        self.sign_ins: list[tuple[float, int, str]] = []
        # (answered at, "start" | "submit", attempt id (0 for a start), status, body, sent at)
        self.quiz_calls: list[tuple[float, str, int, int, str, float]] = []
        self.threads = [threading.Thread(target=self.complete_lessons, args=(i,)) for i in range(6)]
        self.threads.append(threading.Thread(target=self.sign_in))
        # Readers take the quizzes (the completing threads use the writers), each thread its own readers.
        self.threads += [
            threading.Thread(target=self.take_quizzes, args=(i, ds.readers[i::2])) for i in range(2)
        ]

    @contextmanager
    def running(self) -> Iterator[Load]:
        for t in self.threads:
            t.start()
        try:
            yield self
        finally:
            self.stop.set()
            for t in self.threads:
                t.join(timeout=30)

    def complete_lessons(self, seed: int) -> None:
        rnd = random.Random(seed)
        while not self.stop.is_set():
            user = rnd.choice(self.ds.writers)
            lesson = rnd.choice(self.ds.lesson_ids)
            sent = time.monotonic()
            path = f"/api/v1/lessons/{lesson}/complete"
            status, body = http("POST", self.port, path, user.host, token=user.token)
            with self.lock:
                self.completions.append((time.monotonic(), user.user_id, lesson, status, body, sent))
            if status != 200:
                time.sleep(0.05)

    def sign_in(self) -> None:
        while not self.stop.is_set():
            user = random.choice(self.ds.readers)
            form = urllib.parse.urlencode({"username": user.username, "password": self.ds.password}).encode()
            status, body = http("POST", self.port, "/api/v1/auth/token", user.host, body=form)
            with self.lock:
                self.sign_ins.append((time.monotonic(), status, body))
            time.sleep(0.1)

    def take_quizzes(self, seed: int, users: list[dataset.BenchUser]) -> None:
        """Start an attempt, answer what it drew (some right), submit; never past an attempt limit."""
        rnd = random.Random(seed)
        pairs = [(u, q) for u in users for q in self.ds.quizzes]
        rnd.shuffle(pairs)
        # Attempts that may exist per (user, quiz): a start answered 201, or not answered 2xx (the attempt
        # may have been made all the same). Counting those too keeps every start within the limit.
        used: Counter[tuple[int, int]] = Counter()
        spent: set[tuple[int, int]] = set()
        i = 0
        while not self.stop.is_set() and len(spent) < len(pairs):
            user, quiz = pairs[i % len(pairs)]
            i += 1
            pair = (user.user_id, quiz.quiz_id)
            if pair in spent:
                continue
            status, body = self.start_attempt(user, quiz)
            if status != 200:  # 200 is the attempt a failed submission left active
                used[pair] += 1
                if quiz.max_attempts is not None and used[pair] >= quiz.max_attempts:
                    spent.add(pair)
            if status not in (200, 201):
                time.sleep(0.05)
                continue
            if self.submit(user, quiz, json.loads(body), rnd) != 200:
                time.sleep(0.05)

    def start_attempt(self, user: dataset.BenchUser, quiz: dataset.BenchQuiz) -> tuple[int, str]:
        sent = time.monotonic()
        status, body = http(
            "POST", self.port, f"/api/v1/quizzes/{quiz.quiz_id}/attempts", user.host, token=user.token
        )
        with self.lock:
            self.quiz_calls.append((time.monotonic(), "start", 0, status, body, sent))
        return status, body

    def submit(
        self, user: dataset.BenchUser, quiz: dataset.BenchQuiz, attempt: dict[str, Any], rnd: random.Random
    ) -> int:
        answers = dataset.answers_for(quiz, [q["id"] for q in attempt["questions"]], rnd)
        payload = json.dumps({"answers": answers}).encode()
        sent = time.monotonic()
        path = f"/api/v1/attempts/{attempt['id']}/submit"
        status, body = http(
            "POST",
            self.port,
            path,
            user.host,
            token=user.token,
            body=payload,
            content_type="application/json",
        )
        with self.lock:
            self.quiz_calls.append((time.monotonic(), "submit", int(attempt["id"]), status, body, sent))
        return status

    def submission_acknowledged(self, *, sent_after: float = 0.0) -> bool:
        with self.lock:
            return any(c[1] == "submit" and c[3] == 200 and c[5] > sent_after for c in self.quiz_calls)


@dataclass
class Outage:
    down_at: float  # the crash
    ready: tuple[int, str]  # /readyz during the outage
    restart_at: float  # `pg_ctl start` asked
    up_at: float  # the database accepts connections again
    recovered_at: float | None  # a completion acknowledged after up_at, and /readyz 200
    quiz_back: float | None  # a quiz submission sent after up_at, acknowledged


def crash_and_restart(cluster: Cluster, port: int, load: Load) -> Outage:
    """Crash the database under load, bring it back, and wait for lessons and quizzes to work again."""
    time.sleep(2.0)
    # A quiz takes two requests: on a loaded machine, give the first submission time to be answered.
    settle = time.monotonic() + 20
    while time.monotonic() < settle and not load.submission_acknowledged():
        time.sleep(0.1)
    cluster.stop("immediate")  # a crash, with requests in flight
    down_at = time.monotonic()
    time.sleep(1.0)
    ready = http("GET", port, "/readyz", "localhost")
    time.sleep(OUTAGE_SECONDS - 1.0)
    # The database cannot answer before we ask it to start: `pg_ctl start -w` returns only after it
    # accepts connections, and requests answered 200 in between are not part of the outage.
    restart_at = time.monotonic()
    cluster.start()
    up_at = time.monotonic()
    recovered_at = None
    while time.monotonic() < up_at + RECOVERY_LIMIT_SECONDS:
        with load.lock:
            recent = [c for c in load.completions if c[0] > up_at and c[3] == 200]
        if recent and http("GET", port, "/readyz", "localhost")[0] == 200:
            recovered_at = time.monotonic()
            break
        time.sleep(0.1)
    # Quizzes work again too: a submission sent after the restart and acknowledged.
    quiz_back = None
    while recovered_at is not None and time.monotonic() < up_at + RECOVERY_LIMIT_SECONDS:
        if load.submission_acknowledged(sent_after=up_at):
            quiz_back = time.monotonic()
            break
        time.sleep(0.1)
    time.sleep(1.0)
    return Outage(down_at, ready, restart_at, up_at, recovered_at, quiz_back)


def stored_writes(url: str) -> tuple[set[tuple[int, int]], set[tuple[int, int, bool]]]:
    """What the database holds: (user id, lesson id) completions and (attempt id, score, passed) gradings."""
    engine = create_engine(url)
    with engine.connect() as conn:
        stored = {
            (int(u), int(lesson))
            for u, lesson in conn.execute(
                text(
                    "SELECT e.user_id, p.lesson_id FROM lesson_progress p "
                    "JOIN enrolment e ON e.id = p.enrolment_id AND e.tenant_id = p.tenant_id"
                )
            ).all()
        }
        stored_quiz = {
            (int(a), int(score), bool(passed))
            for a, score, passed in conn.execute(
                text("SELECT id, score, passed FROM quiz_attempt WHERE status = 'submitted'")
            ).all()
        }
    engine.dispose()
    return stored, stored_quiz


def test_database_outage_answers_503_recovers_and_loses_no_acknowledged_write(cluster: Cluster) -> None:
    secret = "fault-test-secret-" + "x" * 40
    ds = dataset.build(cluster.url, secret_key=secret, learners=20, bench_users=30)
    with served_app(cluster, secret) as port:
        with Load(port, ds).running() as load:
            outage = crash_and_restart(cluster, port, load)
        # Read while the server still runs: nothing it acknowledged may be waiting to be flushed.
        stored, stored_quiz = stored_writes(cluster.url)
    completions, quiz_calls = load.completions, load.quiz_calls
    down_at, restart_at = outage.down_at, outage.restart_at

    ready_status, ready_body = outage.ready
    assert ready_status == 503 and json.loads(ready_body)["status"] == "unavailable"
    assert outage.recovered_at is not None, "the app did not recover on its own after the database came back"
    # Sent after the crash, answered before the restart began (an earlier request may be answered late).
    during = [c for c in completions if down_at < c[5] and c[0] < restart_at]
    assert during, "no request was made during the outage"
    assert {c[3] for c in during} <= {503}, sorted({c[3] for c in during})
    problem = json.loads(next(c[4] for c in during if c[3] == 503))
    assert problem["status"] == 503 and problem["code"] == "database_unavailable" and problem["detail"]
    # Whatever was in flight when the server died: never a 500, never a silent success.
    statuses = {c[3] for c in completions}
    assert statuses <= {200, 503}, sorted(statuses)
    assert {s[1] for s in load.sign_ins} <= {200, 503}, sorted({s[1] for s in load.sign_ins})
    assert any(c[3] == 200 and c[0] < down_at for c in completions)
    # Quizzes alike: 503 while the database is down, never a 500, never an attempt limit reached.
    quiz_during = [c for c in quiz_calls if down_at < c[5] and c[0] < restart_at]
    assert quiz_during, "no quiz request was made during the outage"
    assert {c[3] for c in quiz_during} <= {503}, sorted({c[3] for c in quiz_during})
    assert {c[3] for c in quiz_calls if c[1] == "start"} <= {200, 201, 503}
    assert {c[3] for c in quiz_calls if c[1] == "submit"} <= {200, 503}
    assert any(c[1] == "submit" and c[3] == 200 and c[0] < down_at for c in quiz_calls)
    assert outage.quiz_back is not None, "no quiz submission was acknowledged after the database came back"

    # Every acknowledged completion is in the database.
    acknowledged = {(c[1], c[2]) for c in completions if c[3] == 200}
    # Every acknowledged quiz submission is stored: graded, with the score and verdict it answered.
    submitted = {
        (c[2], int(result["score"]), bool(result["passed"]))
        for c in quiz_calls
        if c[1] == "submit" and c[3] == 200
        for result in [json.loads(c[4])]
    }
    lost = acknowledged - stored
    assert not lost, f"{len(lost)} acknowledged completions are missing: {sorted(lost)[:5]}"
    lost_quiz = submitted - stored_quiz
    assert not lost_quiz, (
        f"{len(lost_quiz)} acknowledged quiz submissions are missing: {sorted(lost_quiz)[:5]}"
    )
    print(
        f"\ncompletions: {len(completions)} ({len(acknowledged)} distinct acknowledged), "
        f"during the outage: {len(during)} answered 503; quiz requests: {len(quiz_calls)} "
        f"({len(submitted)} submissions acknowledged, {len(quiz_during)} answered 503 in the outage); "
        f"recovered {outage.recovered_at - outage.up_at:.1f} s after the database restarted"
    )

"""Load soak: simulated learners sign in, read and complete lessons, take quizzes, against several workers.

    .venv/bin/python bench/soak.py [--learners 200] [--seconds 60] [--workers 2] [--db sqlite|postgres]
                                   [--redis]

Each learner is a thread with its own keep-alive connection: it signs in (POST /api/v1/auth/token, argon2id
like a real sign-in), then loops: read a lesson page (HTML, with the session cookie), read it through the
API, mark it complete, with a short think time; after its first lesson and every third one after that it
also takes a quiz: starts an attempt (POST /api/v1/quizzes/{id}/attempts), thinks, and submits answers to
the questions it drew, about 70 % of them right (POST /api/v1/attempts/{id}/submit), within the quiz's
attempt limit. At the end it prints errors (target: zero), throughput and latency per kind, and compares
the completions and the quiz submissions the server acknowledged (200) with the rows found in the database
(target: equal; a submission counts as found when its attempt is stored as submitted with the score and
verdict the server answered). Only 127.0.0.1 is contacted; the run stops by itself after `--seconds`.
"""

from __future__ import annotations

import sys

# bench/http.py is named like the standard library's `http`: take this folder off the front of the path.
if sys.path and sys.path[0] and __file__.startswith(sys.path[0].rstrip("/") + "/"):
    sys.path.pop(0)

import argparse
import http.client
import json
import random
import secrets
import tempfile
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))

import dataset  # noqa: E402
from harness import REDIS_URL, database, free_port, server, server_env  # noqa: E402

QUIZ_EVERY = 3  # lessons between two quiz attempts (the first comes after the first lesson)


class Learner(threading.Thread):
    def __init__(
        self,
        port: int,
        user: dataset.BenchUser,
        password: str,
        lessons: list[int],
        quizzes: list[dataset.BenchQuiz],
        until: float,
    ) -> None:
        super().__init__(daemon=True)
        self.port, self.user, self.password, self.lessons, self.until = port, user, password, lessons, until
        self.quizzes = quizzes
        self.rnd = random.Random(user.user_id)
        self.timings: dict[str, list[float]] = defaultdict(list)
        self.errors: Counter[str] = Counter()
        self.acknowledged: set[tuple[int, int]] = set()
        # (attempt id, score, passed) of every submission answered 200
        self.submissions: set[tuple[int, int, bool]] = set()
        self.attempts_started: Counter[int] = Counter()  # quiz id -> attempts started (201)
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(
        self, kind: str, method: str, path: str, headers: dict[str, str], body: str | None = None
    ) -> int:
        start = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers={"Host": self.user.host, **headers})
            response = self.conn.getresponse()
            payload = response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.errors[f"{kind}: {type(exc).__name__}"] += 1
            return 0
        self.timings[kind].append(time.perf_counter() - start)
        if status >= 400:
            self.errors[f"{kind}: HTTP {status}"] += 1
        self.last = payload
        return status

    def run(self) -> None:
        form = urllib.parse.urlencode({"username": self.user.username, "password": self.password})
        ctype = {"Content-Type": "application/x-www-form-urlencoded"}
        if self.call("sign-in", "POST", "/api/v1/auth/token", ctype, form) != 200:
            return
        token = json.loads(self.last)["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        cookie = {"Cookie": f"ot_session={token}"}
        position = self.rnd.randrange(len(self.lessons))
        steps = 0
        while time.monotonic() < self.until:
            lesson = self.lessons[position % len(self.lessons)]
            position += 1
            self.call("lesson page", "GET", f"/lessons/{lesson}", cookie)
            self.call("lesson API", "GET", f"/api/v1/lessons/{lesson}", bearer)
            if self.call("complete", "POST", f"/api/v1/lessons/{lesson}/complete", bearer) == 200:
                self.acknowledged.add((self.user.user_id, lesson))
            time.sleep(self.rnd.uniform(0.05, 0.25))  # reading time, compressed
            steps += 1
            if steps % QUIZ_EVERY == 1 and time.monotonic() < self.until:
                self.take_quiz(bearer)
        self.conn.close()

    def take_quiz(self, bearer: dict[str, str]) -> None:
        """Start an attempt of a quiz with attempts left, answer what it drew, submit."""
        left = [
            q
            for q in self.quizzes
            if q.max_attempts is None or self.attempts_started[q.quiz_id] < q.max_attempts
        ]
        if not left:
            return
        quiz = self.rnd.choice(left)
        status = self.call("quiz start", "POST", f"/api/v1/quizzes/{quiz.quiz_id}/attempts", bearer)
        if status == 201:
            self.attempts_started[quiz.quiz_id] += 1
        if status not in (200, 201):  # 200: the active attempt a failed submission left
            return
        attempt = json.loads(self.last)
        answers = dataset.answers_for(quiz, [q["id"] for q in attempt["questions"]], self.rnd)
        time.sleep(self.rnd.uniform(0.2, 0.5))  # answering time, compressed
        body = json.dumps({"answers": answers})
        json_bearer = {**bearer, "Content-Type": "application/json"}
        path = f"/api/v1/attempts/{attempt['id']}/submit"
        if self.call("quiz submit", "POST", path, json_bearer, body) == 200:
            result = json.loads(self.last)
            self.submissions.add((int(attempt["id"]), int(result["score"]), bool(result["passed"])))


def stored_completions(url: str) -> set[tuple[int, int]]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT e.user_id, p.lesson_id FROM lesson_progress p "
                "JOIN enrolment e ON e.id = p.enrolment_id AND e.tenant_id = p.tenant_id"
            )
        ).all()
    engine.dispose()
    return {(int(u), int(lesson)) for u, lesson in rows}


def stored_submissions(url: str) -> set[tuple[int, int, bool]]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, score, passed FROM quiz_attempt WHERE status = 'submitted'")
        ).all()
    engine.dispose()
    return {(int(a), int(score), bool(passed)) for a, score, passed in rows}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--learners", type=int, default=200)
    p.add_argument("--seconds", type=int, default=60)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--redis", action="store_true", help=f"set REDIS_URL={REDIS_URL}")
    args = p.parse_args(argv)

    secret = secrets.token_urlsafe(48)
    with tempfile.TemporaryDirectory(prefix="onetouch-soak-") as d, database(args.db, Path(d)) as url:
        tmp = Path(d)
        per_province = -(-args.learners // len(dataset.PROVINCES))
        ds = dataset.build(url, secret_key=secret, learners=500, bench_users=per_province)
        port = free_port()
        env = server_env(url, secret, tmp, args.redis)
        with server(env, args.workers, port, tmp / "server.log"):
            start = time.monotonic()
            until = start + args.seconds
            learners = [
                Learner(port, u, ds.password, ds.lesson_ids, ds.quizzes, until)
                for u in ds.writers[: args.learners]
            ]
            for learner in learners:
                learner.start()
            for learner in learners:
                learner.join(timeout=args.seconds + 120)
            elapsed = time.monotonic() - start
        # Every acknowledged completion must be there; one acknowledged again (a lesson the dataset already
        # had done) is there from before, as it should be.
        stored = stored_completions(url)
        stored_quiz = stored_submissions(url)
    timings: dict[str, list[float]] = defaultdict(list)
    errors: Counter[str] = Counter()
    acknowledged: set[tuple[int, int]] = set()
    submissions: set[tuple[int, int, bool]] = set()
    for learner in learners:
        for kind, values in learner.timings.items():
            timings[kind].extend(values)
        errors.update(learner.errors)
        acknowledged |= learner.acknowledged
        submissions |= learner.submissions
    total = sum(len(v) for v in timings.values())
    print(
        f"\nsoak: {len(learners)} learners, {args.seconds} s, db={args.db}, workers={args.workers}, "
        f"redis={'on' if args.redis else 'off'}"
    )
    print(
        f"requests: {total} in {elapsed:.1f} s = {total / elapsed:.0f} req/s; errors: {sum(errors.values())}"
    )
    for kind, values in timings.items():
        print(
            f"  {kind:12} {len(values):7d}  p50 {percentile(values, 0.5) * 1000:7.1f} ms  "
            f"p99 {percentile(values, 0.99) * 1000:7.1f} ms"
        )
    for kind, n in errors.most_common():
        print(f"  error {kind}: {n}")
    lost = acknowledged - stored
    print(
        f"completions acknowledged: {len(acknowledged)} distinct; found in the database: "
        f"{len(acknowledged & stored)}; missing: {len(lost)}"
    )
    lost_quiz = submissions - stored_quiz
    print(
        f"quiz submissions acknowledged: {len(submissions)} "
        f"({sum(1 for s in submissions if s[2])} passed); found in the database with the same score: "
        f"{len(submissions & stored_quiz)}; missing: {len(lost_quiz)}; submitted attempts stored in all: "
        f"{len(stored_quiz)}"
    )
    return 1 if lost or lost_quiz or errors else 0


if __name__ == "__main__":
    raise SystemExit(main())

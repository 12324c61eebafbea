"""A realistic benchmark dataset, built fast: the demo tenants, the shipped courses, thousands of learners.

Used by `bench/http.py` and `bench/soak.py`. What it builds on an empty database (SQLite or PostgreSQL):
- the national portal and three provinces (`onetouch seed`'s tenants, with the three `courses/` courses);
- `learners` learners per province, bulk-inserted (one argon2id hash shared by all: hashing thousands of
  passwords would take minutes and measures nothing), each enrolled in one to three courses with some
  lessons completed and the enrolment figures consistent with the rows;
- per province, `bench_users` "readers" enrolled in every course, mid-course (they read lessons), and
  `bench_users` "writers" enrolled in every course with only the first lesson done, as most learners are
  mid-course on a contest day (they complete lessons and take quizzes), plus a cohort;
- per province, `quiz_takers` "quiz takers" (none unless asked: bench/http.py's quiz submission), enrolled in
  every course with nothing completed, each with one in-progress attempt of every course's quiz, made the way
  `POST /api/v1/quizzes/{id}/attempts` makes one (questions drawn and shuffled, the quiz's time limit), and a
  submission body for it that answers every drawn question, about 70 % of them right.
It returns what the load generators need: hosts, lesson ids, signed tokens (made with the server's
`SECRET_KEY`, exactly what `POST /api/v1/auth/token` would return), the quizzes with their answer keys and the
pre-started attempts.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSWORD = "bench-pass-123"
PROVINCES = ("haiphong", "quangninh", "quangngai")


@dataclass
class BenchUser:
    host: str
    username: str
    user_id: int
    token: str


@dataclass
class BenchQuiz:
    quiz_id: int
    course_slug: str
    max_attempts: int | None
    # question id -> the right answer, as a learner would send it: option ids (sorted) or an accepted text
    key: dict[str, list[str] | str]
    # question id -> a wrong answer of the same shape
    wrong: dict[str, list[str] | str]


@dataclass
class BenchAttempt:
    """An in-progress attempt of a quiz taker, with the body that submits it (JSON, ASCII)."""

    taker: int  # index into Dataset.quiz_takers
    attempt_id: int
    quiz_id: int
    body: str
    deadline: dt.datetime | None  # as stored (app.core.db.utcnow)


@dataclass
class Dataset:
    base_domain: str
    password: str
    lesson_ids: list[int]  # every non-quiz lesson of every shipped course, in reading order
    course_slugs: list[str]
    readers: list[BenchUser] = field(default_factory=list)
    writers: list[BenchUser] = field(default_factory=list)
    quiz_takers: list[BenchUser] = field(default_factory=list)
    quizzes: list[BenchQuiz] = field(default_factory=list)
    attempts: list[BenchAttempt] = field(default_factory=list)  # interleaved: quiz takers and quizzes mixed
    counts: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return asdict(self)


def answers_for(
    quiz: BenchQuiz, question_ids: Sequence[str], rnd: random.Random, right: float = 0.7
) -> dict[str, list[str] | str]:
    """Answers to the questions an attempt drew: each one right with probability `right`, else wrong."""
    return {q: (quiz.key[q] if rnd.random() < right else quiz.wrong[q]) for q in question_ids}


def _key_and_wrong(question: Mapping[str, Any]) -> tuple[list[str] | str, list[str] | str]:
    if question["kind"] == "short":
        return str(question["answers"][0]), "không biết"
    right = sorted(str(o["id"]) for o in question["options"] if o["correct"])
    wrong = [str(o["id"]) for o in question["options"] if not o["correct"]][:1]
    return right, wrong


def build(
    url: str,
    *,
    secret_key: str,
    learners: int = 2000,
    bench_users: int = 200,
    quiz_takers: int = 0,
    seed: int = 1,
) -> Dataset:
    """Migrate `url` (an empty database), load the dataset and return what the load generators need."""
    from sqlalchemy import func, select

    import app.models
    from app.accounts.models import User
    from app.core.db import make_engine, make_session_factory, utcnow
    from app.core.migrate import upgrade
    from app.core.settings import Settings
    from app.progress.models import Enrolment, LessonProgress
    from app.seed import seed_demo
    from app.tenancy.scoping import cross_tenant

    rnd = random.Random(seed)
    upgrade(url)
    settings = Settings(database_url=url, secret_key=secret_key, _env_file=None)  # type: ignore[call-arg]
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with factory() as s:
        seed_demo(s, settings=settings)
        s.commit()
    with factory() as s, cross_tenant(s):
        tenants = {t.slug: t.id for t in s.scalars(select(app.models.Tenant))}
        catalog = _catalog(s)
        ds = Dataset(
            base_domain=settings.base_domain,
            password=PASSWORD,
            # Lessons a learner ticks off by hand: a quiz lesson is completed by passing its quiz (403 here).
            lesson_ids=[
                lid
                for c in catalog.courses
                for lid, _ in catalog.outline[c.id]
                if lid not in catalog.quiz_lessons
            ],
            course_slugs=[c.slug for c in catalog.courses],
        )
        ds.quizzes = _bench_quizzes(catalog)
        province = _Province(
            settings, catalog, learners, bench_users, quiz_takers, rnd, now=utcnow(), pw_hash=_password_hash()
        )
        for slug in PROVINCES:
            province.load(s, ds, tenants[slug], slug)
        s.commit()
        # Provinces, takers and quizzes mixed, so any slice of the list is a realistic mix.
        rnd.shuffle(ds.attempts)
        ds.counts = {
            "users": s.scalar(select(func.count()).select_from(User)) or 0,
            "enrolments": s.scalar(select(func.count()).select_from(Enrolment)) or 0,
            "lesson_progress": s.scalar(select(func.count()).select_from(LessonProgress)) or 0,
            "courses": len(catalog.courses),
            "lessons": len(ds.lesson_ids),
            "quizzes": len(ds.quizzes),
            "open_attempts": len(ds.attempts),
        }
    engine.dispose()
    return ds


def _password_hash() -> str:
    from app.core.security import hash_password

    return hash_password(PASSWORD)


@dataclass
class _Catalog:
    """The published courses, each one's lessons in reading order (id, required), and the quizzes."""

    courses: list[Any]
    outline: dict[int, list[tuple[int, bool]]]
    quiz_lessons: set[int]
    quizzes: list[Any]
    banks: dict[int, Any]  # quiz id -> its question bank


def _catalog(s: Any) -> _Catalog:
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from app.catalog.models import Course, Lesson
    from app.quizzes.models import Quiz
    from app.quizzes.service import bank_of

    courses = list(s.scalars(select(Course).where(Course.status == "published").order_by(Course.id)))
    outline: dict[int, list[tuple[int, bool]]] = {}
    quiz_lessons: set[int] = set()
    for course in courses:
        quiz_lessons |= set(
            s.scalars(select(Lesson.id).where(Lesson.course_id == course.id, Lesson.kind == "quiz"))
        )
        rows = s.execute(
            select(Lesson.id, Lesson.required)
            .where(Lesson.course_id == course.id)
            .order_by(Lesson.module_id, Lesson.position)
        ).all()
        outline[course.id] = [(r[0], bool(r[1])) for r in rows]
    quizzes = list(
        s.scalars(
            select(Quiz)
            .where(Quiz.course_id.in_([c.id for c in courses]))
            .options(selectinload(Quiz.questions))
            .order_by(Quiz.id)
        )
    )
    return _Catalog(courses, outline, quiz_lessons, quizzes, {q.id: bank_of(q) for q in quizzes})


def _bench_quizzes(catalog: _Catalog) -> list[BenchQuiz]:
    """Every quiz with its answer key and a wrong answer to each question."""
    from app.quizzes.service import question_to_json

    slugs = {c.id: c.slug for c in catalog.courses}
    found = []
    for quiz in catalog.quizzes:
        pairs = {b.id: _key_and_wrong(question_to_json(b)) for b in catalog.banks[quiz.id]}
        found.append(
            BenchQuiz(
                quiz.id,
                slugs[quiz.course_id],
                quiz.max_attempts,
                key={k: v[0] for k, v in pairs.items()},
                wrong={k: v[1] for k, v in pairs.items()},
            )
        )
    return found


def _lessons_done(kind: str, lessons: list[tuple[int, bool]], rnd: random.Random) -> list[tuple[int, bool]]:
    """Readers and writers are mid-course, as most learners are on a contest day: started (the first lesson
    done), not finished. Quiz takers have done nothing yet; other learners are anywhere from not started to
    every lesson done."""
    if kind == "learner":
        done = rnd.randint(0, len(lessons))
    elif kind == "quiz":
        done = 0
    else:
        done = 1 if kind == "writer" else rnd.randint(1, max(1, len(lessons) - 2))
    return lessons[:done]


@dataclass
class _Province:
    """Loads one province's share of the dataset: a cohort per course, the learners, their enrolments and
    completed lessons, the bench users' tokens and the quiz takers' open attempts."""

    settings: Any
    catalog: _Catalog
    learners: int
    bench_users: int
    quiz_takers: int
    rnd: random.Random
    now: dt.datetime
    pw_hash: str

    def load(self, s: Any, ds: Dataset, tid: int, slug: str) -> None:
        from sqlalchemy import insert, select

        from app.cohorts.models import Cohort

        courses = self.catalog.courses
        s.execute(
            insert(Cohort),
            [
                {
                    "tenant_id": tid,
                    "course_id": c.id,
                    "code": f"BENCH-{c.id}",
                    "title": f"Đợt bench {c.slug}",
                    "self_enrolment": True,
                }
                for c in courses
            ],
        )
        cohort_ids = dict(s.execute(select(Cohort.course_id, Cohort.id).where(Cohort.tenant_id == tid)).all())
        kinds = ["learner"] * self.learners + ["reader"] * self.bench_users + ["writer"] * self.bench_users
        kinds += ["quiz"] * self.quiz_takers
        ids = self.insert_users(s, tid, kinds)
        takers = {ids[f"q{i:06d}"] for i, kind in enumerate(kinds) if kind == "quiz"}
        enrolments = []
        for i, kind in enumerate(kinds):
            uid = ids[f"{kind[0]}{i:06d}"]
            rnd = self.rnd
            picked = courses if kind != "learner" else rnd.sample(courses, rnd.randint(1, len(courses)))
            enrolments += [(uid, c, _lessons_done(kind, self.catalog.outline[c.id], rnd)) for c in picked]
        enrol_ids = self.insert_enrolments(s, tid, enrolments, cohort_ids, takers)
        self.sign_in(ds, tid, f"{slug}.{self.settings.base_domain}", ids)
        self.start_attempts(s, ds, tid, enrol_ids)

    def insert_users(self, s: Any, tid: int, kinds: list[str]) -> dict[str, int]:
        """Learner accounts named by kind and number (`l000001`, `r002000`…); username -> id."""
        from sqlalchemy import insert, select

        from app.accounts.models import User

        users = [
            {
                "tenant_id": tid,
                "username": f"{kind[0]}{i:06d}",
                "full_name": f"Học viên {kind} {i}",
                "name_folded": f"hoc vien {kind} {i}",
                "roles": ["learner"],
                "password_hash": self.pw_hash,
                "is_active": True,
                "must_change_password": False,
                "token_version": 0,
                "created_at": self.now,
            }
            for i, kind in enumerate(kinds)
        ]
        s.execute(insert(User), users)
        return dict(s.execute(select(User.username, User.id).where(User.tenant_id == tid)).all())

    def insert_enrolments(
        self,
        s: Any,
        tid: int,
        enrolments: list[tuple[int, Any, list[tuple[int, bool]]]],
        cohort_ids: dict[int, int],
        takers: set[int],
    ) -> dict[tuple[int, int], int]:
        """The enrolments with figures matching their completed lessons, and those lessons' progress rows."""
        from sqlalchemy import insert, select

        from app.progress.models import Enrolment, LessonProgress

        now = self.now
        s.execute(
            insert(Enrolment),
            [
                {
                    "tenant_id": tid,
                    "user_id": uid,
                    "course_id": c.id,
                    "cohort_id": cohort_ids[c.id] if uid % 2 else None,
                    "lessons_total": c.required_lessons,
                    "lessons_completed": sum(1 for _, req in done if req),
                    "percent": min(100, sum(1 for _, req in done if req) * 100 // max(1, c.required_lessons)),
                    "enrolled_at": now,
                    "started_at": now if done or uid in takers else None,
                    "last_lesson_id": done[-1][0] if done else None,
                    "late": False,
                }
                for uid, c, done in enrolments
            ],
        )
        enrol_ids = {
            (u, c): e
            for e, u, c in s.execute(
                select(Enrolment.id, Enrolment.user_id, Enrolment.course_id).where(Enrolment.tenant_id == tid)
            ).all()
        }
        progress = [
            {"tenant_id": tid, "enrolment_id": enrol_ids[(uid, c.id)], "lesson_id": lid, "completed_at": now}
            for uid, c, done in enrolments
            for lid, _ in done
        ]
        for start in range(0, len(progress), 20_000):
            s.execute(insert(LessonProgress), progress[start : start + 20_000])
        return enrol_ids

    def sign_in(self, ds: Dataset, tid: int, host: str, ids: dict[str, int]) -> None:
        """Tokens for the readers, writers and quiz takers, as `POST /api/v1/auth/token` would sign them."""
        from app.core.security import create_access_token

        learners, bench_users = self.learners, self.bench_users
        first = {"reader": learners, "writer": learners + bench_users, "quiz": learners + 2 * bench_users}
        for kind, target, count in (
            ("reader", ds.readers, bench_users),
            ("writer", ds.writers, bench_users),
            ("quiz", ds.quiz_takers, self.quiz_takers),
        ):
            for i in range(count):
                index = first[kind] + i
                uid = ids[f"{kind[0]}{index:06d}"]
                token, _ = create_access_token(
                    secret=self.settings.secret_key,
                    algorithm=self.settings.jwt_algorithm,
                    user_id=uid,
                    tenant_id=tid,
                    version=0,
                    ttl_minutes=24 * 60,
                )
                target.append(BenchUser(host, f"{kind[0]}{index:06d}", uid, token))

    def start_attempts(self, s: Any, ds: Dataset, tid: int, enrol_ids: dict[tuple[int, int], int]) -> None:
        """The quiz takers' attempts, as `service.start_attempt` makes them: one active attempt per learner
        and quiz is all the schema allows, hence as many takers as attempts are needed."""
        from sqlalchemy import insert, select

        from app.quizzes.grading import draw_questions, shuffle_options
        from app.quizzes.models import IN_PROGRESS, QuizAttempt
        from app.quizzes.service import question_to_json

        bench_quizzes = {q.quiz_id: q for q in ds.quizzes}
        attempts, bodies = [], []
        for taker in ds.quiz_takers[len(ds.quiz_takers) - self.quiz_takers :]:
            for quiz in self.catalog.quizzes:
                drawn = draw_questions(self.catalog.banks[quiz.id], quiz.draw, self.rnd)
                if quiz.shuffle_options:
                    drawn = [shuffle_options(q, self.rnd) for q in drawn]
                limit = quiz.time_limit_minutes
                deadline = self.now + dt.timedelta(minutes=limit) if limit else None
                attempts.append(
                    {
                        "tenant_id": tid,
                        "user_id": taker.user_id,
                        "enrolment_id": enrol_ids[(taker.user_id, quiz.course_id)],
                        "quiz_id": quiz.id,
                        "number": 1,
                        "questions": [question_to_json(q) for q in drawn],
                        "answers": {},
                        "status": IN_PROGRESS,
                        "started_at": self.now,
                        "deadline": deadline,
                    }
                )
                answers = answers_for(bench_quizzes[quiz.id], [q.id for q in drawn], self.rnd)
                bodies.append((taker.user_id, quiz.id, json.dumps({"answers": answers}), deadline))
        if not attempts:
            return
        s.execute(insert(QuizAttempt), attempts)
        attempt_ids = dict(
            ((u, q), a)
            for a, u, q in s.execute(
                select(QuizAttempt.id, QuizAttempt.user_id, QuizAttempt.quiz_id).where(
                    QuizAttempt.tenant_id == tid
                )
            ).all()
        )
        index_of = {u.user_id: n for n, u in enumerate(ds.quiz_takers)}
        ds.attempts += [
            BenchAttempt(index_of[u], attempt_ids[(u, q)], q, body, deadline)
            for u, q, body, deadline in bodies
        ]

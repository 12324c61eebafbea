"""row-level security on every tenant-owned table (PostgreSQL)

Revision ID: 5c1e0a7d9b21
Revises: d4ed7b7df0d6
Create Date: 2026-12-02 03:00:00

The second net under tenant scoping (app/tenancy/rls.py). A new tenant-owned table needs the same in its own
migration: `for sql in rls.enable_statements("table"): op.execute(sql)` (tests/test_rls.py checks every one).
"""

from collections.abc import Sequence

from alembic import op

from app.tenancy import rls

revision: str = "5c1e0a7d9b21"
down_revision: str | None = "d4ed7b7df0d6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Tenant-owned tables at this revision; True: national content every portal reads.
TABLES = {
    "audit_event": False,
    "certificate": False,
    "cohort": False,
    "cohort_trainer": False,
    "course": True,
    "course_module": True,
    "credential_batch": False,
    "enrolment": False,
    "import_job": False,
    "lesson": True,
    "lesson_progress": False,
    "media_file": True,
    "quiz": True,
    "quiz_attempt": False,
    "quiz_question": True,
    "report_counter": False,
    "report_daily": False,
    "report_learner": False,
    "report_tenant": False,
    "report_unit": False,
    "unit": False,
    "user_account": False,
    "visit_day": False,
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, shared in TABLES.items():
        for sql in rls.enable_statements(table, shared_read=shared):
            op.execute(sql)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, shared in TABLES.items():
        for sql in rls.disable_statements(table, shared_read=shared):
            op.execute(sql)

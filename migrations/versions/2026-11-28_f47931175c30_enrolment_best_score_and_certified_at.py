"""enrolment best score and certified_at

Revision ID: f47931175c30
Revises: 49425a23edec
Create Date: 2026-11-28 20:06:44.529062
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.db

revision: str = "f47931175c30"
down_revision: str | None = "49425a23edec"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("enrolment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("best_score_percent", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("certified_at", app.core.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("enrolment", schema=None) as batch_op:
        batch_op.drop_column("certified_at")
        batch_op.drop_column("best_score_percent")

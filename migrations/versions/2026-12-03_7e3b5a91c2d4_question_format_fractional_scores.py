"""question text format (markdown or html) and fractional attempt scores (partial credit)

Revision ID: 7e3b5a91c2d4
Revises: 5c1e0a7d9b21
Create Date: 2026-12-03 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7e3b5a91c2d4"
down_revision: str | None = "5c1e0a7d9b21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("quiz_question", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("format", sa.String(length=16), server_default="markdown", nullable=False)
        )
    with op.batch_alter_table("quiz_attempt", schema=None) as batch_op:
        batch_op.alter_column("score", existing_type=sa.Integer(), type_=sa.Float(), existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("quiz_attempt", schema=None) as batch_op:
        batch_op.alter_column("score", existing_type=sa.Float(), type_=sa.Integer(), existing_nullable=True)
    with op.batch_alter_table("quiz_question", schema=None) as batch_op:
        batch_op.drop_column("format")

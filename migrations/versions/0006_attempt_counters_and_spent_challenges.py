"""attempt counters (login guesses) and spent proof-of-work challenges, shared by all workers

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import servicepoint.core.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attempt_counter",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expires_at", servicepoint.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_attempt_counter")),
    )
    op.create_index(
        op.f("ix_attempt_counter_expires_at"), "attempt_counter", ["expires_at"], unique=False
    )
    op.create_table(
        "spent_challenge",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", servicepoint.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_spent_challenge")),
    )
    op.create_index(
        op.f("ix_spent_challenge_expires_at"), "spent_challenge", ["expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_spent_challenge_expires_at"), table_name="spent_challenge")
    op.drop_table("spent_challenge")
    op.drop_index(op.f("ix_attempt_counter_expires_at"), table_name="attempt_counter")
    op.drop_table("attempt_counter")

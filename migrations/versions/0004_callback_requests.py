"""callback requests (the assistant's handover)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 23:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import servicepoint.core.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "callback_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", servicepoint.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=120), nullable=True),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("window", sa.String(length=16), nullable=False),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("done_at", servicepoint.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("purged_at", servicepoint.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_request")),
    )
    with op.batch_alter_table("callback_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_callback_request_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_callback_request_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("callback_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_callback_request_status"))
        batch_op.drop_index(batch_op.f("ix_callback_request_created_at"))
    op.drop_table("callback_request")

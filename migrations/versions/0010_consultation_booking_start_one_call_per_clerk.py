"""consultation: the booking start a call was made for (a moved booking gets a fresh call),
and one call at a time per clerk (a partial unique index on clerk_id while admitted).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 09:49:49.399216
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import servicepoint.core.db

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A clerk holding more than one call (possible before this index) keeps the latest one.
    op.execute(
        "UPDATE consultation SET state = 'ended', ended_at = admitted_at"
        " WHERE state = 'admitted' AND clerk_id IS NOT NULL AND id NOT IN"
        " (SELECT max(id) FROM consultation WHERE state = 'admitted'"
        " AND clerk_id IS NOT NULL GROUP BY clerk_id)"
    )
    with op.batch_alter_table("consultation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "booking_start", servicepoint.core.db.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.create_index(
            "uq_consultation_clerk_in_call",
            ["clerk_id"],
            unique=True,
            sqlite_where=sa.text("state = 'admitted'"),
            postgresql_where=sa.text("state = 'admitted'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("consultation", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_consultation_clerk_in_call",
            sqlite_where=sa.text("state = 'admitted'"),
            postgresql_where=sa.text("state = 'admitted'"),
        )
        batch_op.drop_column("booking_start")

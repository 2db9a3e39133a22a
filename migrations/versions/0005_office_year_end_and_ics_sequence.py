"""office rules for 24 and 31 December; the calendar file's sequence of a booking

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("location", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dec24", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("dec31", sa.String(length=16), nullable=True))
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sequence", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_column("sequence")
    with op.batch_alter_table("location", schema=None) as batch_op:
        batch_op.drop_column("dec31")
        batch_op.drop_column("dec24")

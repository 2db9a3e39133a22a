"""online applications: cases, uploads, notes

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import servicepoint.core.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "application",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("service_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("proposal", sa.String(length=12), nullable=True),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("applicant", sa.JSON(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("trace", sa.JSON(), nullable=False),
        sa.Column("rules_version", sa.String(length=32), nullable=True),
        sa.Column("fee_cents", sa.Integer(), nullable=True),
        sa.Column("payment", sa.JSON(), nullable=False),
        sa.Column("created_at", servicepoint.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", servicepoint.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", servicepoint.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("due_at", servicepoint.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_at", servicepoint.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decision_reason", sa.String(length=2000), nullable=True),
        sa.Column("assigned_to", sa.String(length=64), nullable=True),
        sa.Column("requested_upload", sa.String(length=2000), nullable=True),
        sa.Column("reminded_at", servicepoint.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("verification_code", sa.String(length=32), nullable=True),
        sa.Column("statement", sa.JSON(), nullable=True),
        sa.Column("document", sa.LargeBinary(), nullable=True),
        sa.Column("delete_after", servicepoint.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application")),
        sa.UniqueConstraint("code", name=op.f("uq_application_code")),
        sa.UniqueConstraint("verification_code", name=op.f("uq_application_verification_code")),
    )
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_application_assigned_to"), ["assigned_to"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_application_delete_after"), ["delete_after"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_application_service_id"), ["service_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_application_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_application_submitted_at"), ["submitted_at"], unique=False
        )

    op.create_table(
        "case_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", servicepoint.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
            name=op.f("fk_case_note_application_id_application"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_note")),
    )
    with op.batch_alter_table("case_note", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_note_application_id"), ["application_id"], unique=False
        )

    op.create_table(
        "case_upload",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("filename", sa.String(length=120), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", servicepoint.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
            name=op.f("fk_case_upload_application_id_application"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_upload")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_case_upload_storage_key")),
    )
    with op.batch_alter_table("case_upload", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_upload_application_id"), ["application_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("case_upload", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_upload_application_id"))

    op.drop_table("case_upload")
    with op.batch_alter_table("case_note", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_note_application_id"))

    op.drop_table("case_note")
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_submitted_at"))
        batch_op.drop_index(batch_op.f("ix_application_status"))
        batch_op.drop_index(batch_op.f("ix_application_service_id"))
        batch_op.drop_index(batch_op.f("ix_application_delete_after"))
        batch_op.drop_index(batch_op.f("ix_application_assigned_to"))

    op.drop_table("application")

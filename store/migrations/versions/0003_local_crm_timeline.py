"""local crm timeline

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 06:19:26.953956
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import store.types


revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crm_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_type", sa.String(length=16), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("noted_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    with op.batch_alter_table("crm_note", schema=None) as batch_op:
        batch_op.create_index(
            "ix_crm_note_record", ["record_type", "record_id", "noted_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("crm_note", schema=None) as batch_op:
        batch_op.drop_index("ix_crm_note_record")

    op.drop_table("crm_note")

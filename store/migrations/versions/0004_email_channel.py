"""email channel: per-person reply secrets, outbound mail log, inbound source

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mail_secret", sa.String(length=64), nullable=True))
    with op.batch_alter_table("inbound_email", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=16), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("size", sa.Integer(), nullable=True))
        batch_op.create_index("ix_inbound_email_outcome", ["outcome", "received_at"])
    op.create_table(
        "outbound_email",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("subject_kind", sa.String(length=32), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", store.types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    with op.batch_alter_table("outbound_email", schema=None) as batch_op:
        batch_op.create_index("ix_outbound_email_person_id", ["person_id"])


def downgrade() -> None:
    with op.batch_alter_table("outbound_email", schema=None) as batch_op:
        batch_op.drop_index("ix_outbound_email_person_id")
    op.drop_table("outbound_email")
    with op.batch_alter_table("inbound_email", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_email_outcome")
        batch_op.drop_column("size")
        batch_op.drop_column("source")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("mail_secret")

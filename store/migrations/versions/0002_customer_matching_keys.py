"""customer matching keys

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 05:59:53.716405
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import store.types


revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("crm_account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("company_key", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.create_index(
            batch_op.f("ix_crm_account_company_key"), ["company_key"], unique=False
        )

    with op.batch_alter_table("deal_registration", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("company_key", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.create_index(
            batch_op.f("ix_deal_registration_company_key"), ["company_key"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("deal_registration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deal_registration_company_key"))
        batch_op.drop_column("company_key")

    with op.batch_alter_table("crm_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crm_account_company_key"))
        batch_op.drop_column("company_key")

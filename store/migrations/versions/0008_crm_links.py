"""crm record links kept in the store

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'crm_link',
        sa.Column('crm', sa.String(length=16), nullable=False),
        sa.Column('record_type', sa.String(length=16), nullable=False),
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('crm_id', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('crm', 'record_type', 'key'),
    )


def downgrade() -> None:
    op.drop_table('crm_link')

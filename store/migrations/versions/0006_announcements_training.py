"""announcements, training, the scheduler's sweep marks

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.types


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('announcement', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('rules', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column('status', sa.String(length=16), nullable=False, server_default='published')
        )
        batch_op.add_column(sa.Column('status_channel', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('status_ts', sa.String(length=32), nullable=True))

    with op.batch_alter_table('deal_registration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sla_reminded_at', store.types.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('sla_escalated_at', store.types.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('expiry_reminded_for', store.types.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('inactivity_flagged_for', store.types.UtcDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject_kind', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('subject_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_notification_subject', ['subject_kind', 'subject_id'], unique=False)

    with op.batch_alter_table('training_attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submission_key', sa.String(length=200), nullable=True))
        batch_op.create_unique_constraint('uq_training_attempt_submission', ['submission_key'])

    with op.batch_alter_table('training_module', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retired_at', store.types.UtcDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('training_module', schema=None) as batch_op:
        batch_op.drop_column('retired_at')

    with op.batch_alter_table('training_attempt', schema=None) as batch_op:
        batch_op.drop_constraint('uq_training_attempt_submission', type_='unique')
        batch_op.drop_column('submission_key')

    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_subject')
        batch_op.drop_column('subject_id')
        batch_op.drop_column('subject_kind')

    with op.batch_alter_table('deal_registration', schema=None) as batch_op:
        batch_op.drop_column('inactivity_flagged_for')
        batch_op.drop_column('expiry_reminded_for')
        batch_op.drop_column('sla_escalated_at')
        batch_op.drop_column('sla_reminded_at')

    with op.batch_alter_table('announcement', schema=None) as batch_op:
        batch_op.drop_column('status_ts')
        batch_op.drop_column('status_channel')
        batch_op.drop_column('status')
        batch_op.drop_column('rules')


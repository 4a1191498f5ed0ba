"""customer matching: word counts, the name index, managers' pair verdicts

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 19:18:17

Existing registrations and mirrored accounts are brought to the new matcher here: their
normalised names and name keys are recomputed with `matching.names` (legal forms of every
country, transliteration), registrations' domains with IDNA 2008 (`straße.de` is no longer
`strasse.de`; an account's stored domain has no original spelling to recompute it from), and
every name is indexed, its words counted and their deletions stored. About a minute per
million names.
"""

from collections import Counter
from collections.abc import Iterator, Sequence

import sqlalchemy as sa
from alembic import op

import store.types
from matching.blocking import counted_words, index_words, stored_deletions
from matching.domains import NotADomain, registrable_domain
from matching.names import company_key, normalize_company


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000

deal_registration = sa.table(
    'deal_registration',
    sa.column('id', sa.Integer),
    sa.column('customer_company', sa.String),
    sa.column('customer_domain', sa.String),
    sa.column('normalized_domain', sa.String),
    sa.column('normalized_company', sa.String),
    sa.column('company_key', sa.String),
)
crm_account = sa.table(
    'crm_account',
    sa.column('id', sa.Integer),
    sa.column('name', sa.String),
    sa.column('normalized_name', sa.String),
    sa.column('company_key', sa.String),
)


def upgrade() -> None:
    name_index = op.create_table(
        'name_index',
        sa.Column('word', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('record_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint('word', 'kind', 'record_id', name='pk_name_index'),
        sqlite_with_rowid=False,
    )
    name_word = op.create_table(
        'name_word',
        sa.Column('word', sa.String(length=64), nullable=False),
        sa.Column('names', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('word', name='pk_name_word'),
        sqlite_with_rowid=False,
    )
    name_slip = op.create_table(
        'name_slip',
        sa.Column('slip', sa.String(length=64), nullable=False),
        sa.Column('word', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('slip', 'word', name='pk_name_slip'),
        sqlite_with_rowid=False,
    )
    op.create_table(
        'customer_pair',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('first_key', sa.String(length=320), nullable=False),
        sa.Column('second_key', sa.String(length=320), nullable=False),
        sa.Column('same', sa.Boolean(), nullable=False),
        sa.Column('deal_id', sa.Integer(), nullable=False),
        sa.Column('record_kind', sa.String(length=16), nullable=False),
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=False),
        sa.Column('decided_at', store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['deal_id'], ['deal_registration.id'], name='fk_customer_pair_deal_id'
        ),
        sa.ForeignKeyConstraint(
            ['decided_by_id'], ['person.id'], name='fk_customer_pair_decided_by_id'
        ),
        sa.PrimaryKeyConstraint('id', name='pk_customer_pair'),
        sa.UniqueConstraint('first_key', 'second_key', name='uq_customer_pair'),
    )
    with op.batch_alter_table('customer_pair', schema=None) as batch_op:
        batch_op.create_index('ix_customer_pair_second', ['second_key'], unique=False)

    counts: Counter[str] = Counter()
    indexed: set[str] = set()
    _reindex_registrations(name_index, counts, indexed)
    _reindex_accounts(name_index, counts, indexed)
    _insert(name_word, [{'word': word, 'names': n} for word, n in sorted(counts.items())])
    slips = [{'slip': d, 'word': w} for w in sorted(indexed) for d in sorted(stored_deletions(w))]
    _insert(name_slip, slips)


def _insert(table: sa.Table, rows: list[dict[str, object]]) -> None:
    for start in range(0, len(rows), BATCH):
        op.get_bind().execute(sa.insert(table), rows[start : start + BATCH])


def _batches(table: sa.TableClause, *columns: str) -> Iterator[list[sa.Row]]:
    """Every row of `table` (id and `columns`), a batch at a time, in id order."""
    last = 0
    while True:
        query = (
            sa.select(table.c.id, *(table.c[c] for c in columns))
            .where(table.c.id > last)
            .order_by(table.c.id)
            .limit(BATCH)
        )
        rows = list(op.get_bind().execute(query))
        if not rows:
            return
        yield rows
        last = rows[-1].id


def _domain(raw: str, stored: str) -> str:
    try:
        return registrable_domain(raw)
    except NotADomain:
        return stored


def _reindex_registrations(name_index: sa.Table, counts: Counter[str], indexed: set[str]) -> None:
    table = deal_registration
    update = (
        sa.update(table)
        .where(table.c.id == sa.bindparam('row_id'))
        .values(
            normalized_domain=sa.bindparam('domain'),
            normalized_company=sa.bindparam('normalized'),
            company_key=sa.bindparam('key'),
        )
    )
    for rows in _batches(table, 'customer_company', 'customer_domain', 'normalized_domain'):
        changes, keys = [], []
        for row in rows:
            normalized = normalize_company(row.customer_company)[:200]
            changes.append({
                'row_id': row.id,
                'domain': _domain(row.customer_domain, row.normalized_domain),
                'normalized': normalized,
                'key': company_key(normalized),
            })
            counts.update(counted_words(normalized) | {''})
            indexed |= index_words(normalized)
            keys += [
                {'word': w, 'kind': 'registration', 'record_id': row.id}
                for w in index_words(normalized)
            ]
        op.get_bind().execute(update, changes)
        if keys:
            op.get_bind().execute(sa.insert(name_index), keys)


def _reindex_accounts(name_index: sa.Table, counts: Counter[str], indexed: set[str]) -> None:
    table = crm_account
    update = (
        sa.update(table)
        .where(table.c.id == sa.bindparam('row_id'))
        .values(normalized_name=sa.bindparam('normalized'), company_key=sa.bindparam('key'))
    )
    for rows in _batches(table, 'name'):
        changes, keys = [], []
        for row in rows:
            normalized = normalize_company(row.name)[:200]
            changes.append({'row_id': row.id, 'normalized': normalized, 'key': company_key(normalized)})
            counts.update(counted_words(normalized) | {''})
            indexed |= index_words(normalized)
            keys += [
                {'word': w, 'kind': 'account', 'record_id': row.id} for w in index_words(normalized)
            ]
        op.get_bind().execute(update, changes)
        if keys:
            op.get_bind().execute(sa.insert(name_index), keys)


def downgrade() -> None:
    with op.batch_alter_table('customer_pair', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_pair_second')

    op.drop_table('customer_pair')
    op.drop_table('name_slip')
    op.drop_table('name_word')
    op.drop_table('name_index')

"""The store: migrations match the models, and datetimes stay aware UTC on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import SQLModel, select

from store.db import Database, async_url
from store.models import SentNudge
from tests.harness.clock import NOW


async def test_migrations_create_exactly_the_models(db: Database) -> None:
    def diff(connection: object) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})  # type: ignore[arg-type]
        return compare_metadata(context, SQLModel.metadata)

    async with db.engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == [], (
        "models changed without a migration: run alembic revision --autogenerate"
    )


async def test_datetimes_round_trip_as_aware_utc(db: Database) -> None:
    paris = timezone(timedelta(hours=1))
    sent = datetime(2026, 3, 1, 13, 30, 15, 123456, tzinfo=paris)
    async with db.session() as session:
        session.add(SentNudge(kind="k", subject_key="s", due_key="d", sent_at=sent))
    async with db.session() as session:
        stored = (await session.exec(select(SentNudge))).one()
    assert stored.sent_at == sent
    assert stored.sent_at.tzinfo is not None and stored.sent_at.utcoffset() == timedelta(0)
    assert stored.sent_at == datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)


async def test_a_naive_datetime_is_refused(db: Database) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        async with db.session() as session:
            session.add(
                SentNudge(kind="k", subject_key="s", due_key="d", sent_at=datetime(2026, 1, 1))
            )


async def test_a_nudge_is_recorded_once_per_kind_subject_and_due_key(db: Database) -> None:
    async with db.session() as session:
        session.add(
            SentNudge(kind="expiry", subject_key="deal:1", due_key="2026-05-01", sent_at=NOW)
        )
    with pytest.raises(IntegrityError):
        async with db.session() as session:
            session.add(
                SentNudge(kind="expiry", subject_key="deal:1", due_key="2026-05-01", sent_at=NOW)
            )


def test_plain_database_urls_get_async_drivers() -> None:
    assert async_url("sqlite:///./partnerbot.db") == "sqlite+aiosqlite:///./partnerbot.db"
    assert async_url("postgres://u:p@h/db") == "postgresql+asyncpg://u:p@h/db"
    with pytest.raises(ValueError, match="unsupported database"):
        async_url("mysql://h/db")

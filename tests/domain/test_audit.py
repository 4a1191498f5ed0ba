"""The audit log: every event chained to the one before; tampering of any kind is caught."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from bot.domain import audit
from store.db import Database
from store.models import Channel
from tests.harness.clock import NOW

ACTOR = audit.Actor.system("test")


async def _write(db: Database, count: int) -> None:
    for n in range(count):
        async with db.session() as session:
            await audit.record(
                session,
                actor=ACTOR,
                channel=Channel.CLI,
                action="thing.changed",
                subject_type="thing",
                subject_id=n,
                before={"value": n},
                after={"value": n + 1},
                now=NOW,
            )


async def _verify(db: Database) -> audit.VerifyReport:
    async with db.session() as session:
        return await audit.verify(session)


async def test_an_untouched_log_verifies(db: Database) -> None:
    await _write(db, 5)
    report = await _verify(db)
    assert report.ok, report.problems
    assert report.checked == 5


async def test_an_edited_event_is_caught(db: Database) -> None:
    await _write(db, 5)
    async with db.engine.begin() as conn:
        await conn.execute(text("UPDATE audit_event SET action = 'nothing.happened' WHERE seq = 3"))
    report = await _verify(db)
    assert not report.ok
    assert any("event 3" in problem and "changed" in problem for problem in report.problems)


async def test_a_deleted_event_is_caught(db: Database) -> None:
    await _write(db, 5)
    async with db.engine.begin() as conn:
        await conn.execute(text("DELETE FROM audit_event WHERE seq = 2"))
    report = await _verify(db)
    assert any("missing" in problem for problem in report.problems)


async def test_deleting_the_newest_events_is_caught(db: Database) -> None:
    await _write(db, 5)
    async with db.engine.begin() as conn:
        await conn.execute(text("DELETE FROM audit_event WHERE seq >= 4"))
    report = await _verify(db)
    assert any("ends at event 3" in problem for problem in report.problems)


async def test_concurrent_writers_never_fork_the_chain(db: Database) -> None:
    await asyncio.gather(*(_write(db, 3) for _ in range(8)))
    report = await _verify(db)
    assert report.ok, report.problems
    assert report.checked == 24

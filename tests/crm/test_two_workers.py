"""Two workers on PostgreSQL share one outbox: every write delivered exactly once, in order."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.clock import fixed_clock
from bot.domain import outbox
from crm.base import RecordType, TimelineNote, WriteResult
from store.db import Database
from store.models import OutboxItem
from tests.harness.fake_crm import FakeCrm

WRITES = 5_000
RECORDS = 1_000  # five writes to each record, which must land in the order queued


@dataclass
class CountingCrm(FakeCrm):
    """Counts every note it is sent (a real CRM would hide a duplicate behind the key)."""

    name: str = "counting"
    batch_size: int = 100
    received: Counter[str] = field(default_factory=Counter)
    order: dict[str, list[int]] = field(default_factory=dict)

    async def add_notes(self, notes: Sequence[TimelineNote]) -> list[WriteResult]:
        await asyncio.sleep(0.002)  # a network round trip, so the workers interleave
        for note in notes:
            self.received[note.idempotency_key] += 1
            self.order.setdefault(note.record_id, []).append(int(note.text))
        return [WriteResult(crm_id=n.idempotency_key) for n in notes]


@pytest.mark.postgres
async def test_two_workers_deliver_5000_writes_exactly_once_in_order(postgres_db: Database) -> None:
    at = datetime(2026, 11, 21, tzinfo=UTC)
    async with postgres_db.session() as session:
        for n in range(WRITES):
            await outbox.enqueue_note(
                session,
                TimelineNote(
                    record_type=RecordType.DEAL,
                    record_id=str(n % RECORDS),
                    author="bench",
                    text=str(n),
                    at=at,
                    idempotency_key=f"note-{n}",
                ),
                now=at,
            )
    crm = CountingCrm()
    second = Database(postgres_db.url)  # another process's connection pool
    try:

        async def work(db: Database, name: str) -> int:
            delivered = 0
            while True:
                report = await outbox.deliver_due(
                    db, crm, worker=name, clock=fixed_clock(at + timedelta(seconds=1)), limit=300
                )
                delivered += report.delivered
                if not report.delivered and not report.retried:
                    return delivered

        first_count, second_count = await asyncio.gather(
            work(postgres_db, "w1"), work(second, "w2")
        )
    finally:
        await second.dispose()
    assert first_count + second_count == WRITES and min(first_count, second_count) > 0
    assert len(crm.received) == WRITES and set(crm.received.values()) == {1}
    for texts in crm.order.values():
        assert texts == sorted(texts)
    async with postgres_db.read() as session:
        statuses = Counter((await session.exec(select(OutboxItem.status))).all())
    assert statuses == {"delivered": WRITES}

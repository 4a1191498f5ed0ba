"""The outbox: CRM writes delivered in order, exactly once, retried with backoff, never lost."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import select

from bot.app import build_app
from bot.clock import fixed_clock
from bot.domain import outbox
from bot.settings import load_settings
from bot.worker import Worker, outbox_loop
from crm.base import (
    CrmError,
    DealRecord,
    TimelineNote,
    WriteResult,
)
from crm.local import LocalCrm, timeline
from store.db import Database
from store.models import CrmNote, DealRegistration, OutboxItem
from tests.domain.test_decisions import approve, person
from tests.domain.test_registration import NOW, register
from tests.harness.fake_crm import FakeCrm


@dataclass
class FlakyCrm(FakeCrm):
    """A CRM that fails the first `failures` calls, then records what it was sent."""

    failures: int = 0
    permanent: bool = False
    deals: list[DealRecord] = field(default_factory=list)
    notes: list[TimelineNote] = field(default_factory=list)
    name: str = "flaky"
    batch_size: int = 100

    def _maybe_fail(self) -> None:
        if self.failures:
            self.failures -= 1
            raise CrmError("503 from the CRM", permanent=self.permanent)

    async def upsert_deals(self, deals: Sequence[DealRecord]) -> list[WriteResult]:
        self._maybe_fail()
        self.deals.extend(deals)
        return [WriteResult(crm_id=f"x-{deal.deal_id}") for deal in deals]

    async def add_notes(self, notes: Sequence[TimelineNote]) -> list[WriteResult]:
        self._maybe_fail()
        self.notes.extend(notes)
        return [WriteResult() for _ in notes]


async def approved_deal(db: Database) -> int:
    deal = (await register(db, "nora@northwind.example")).deal
    await approve(db, await person(db, "mia@vendor.example"), deal.id or 0)
    return deal.id or 0


async def test_an_approval_reaches_the_local_crm_timeline_exactly_once(program: Database) -> None:
    deal_id = await approved_deal(program)
    crm = LocalCrm(program)
    report = await outbox.deliver_due(
        program, crm, worker="w1", clock=fixed_clock(NOW + timedelta(seconds=1))
    )
    assert (report.delivered, report.retried, report.dead) == (2, 0, 0)
    assert (
        await outbox.deliver_due(
            program, crm, worker="w1", clock=fixed_clock(NOW + timedelta(seconds=2))
        )
    ).delivered == 0
    notes = await timeline(program, record_type="deal", record_ids=[str(deal_id)])
    assert [n.text for n in notes] == [notes[0].text] and "Approved by Mia Manager" in notes[0].text
    async with program.session() as session:
        deal = await session.get(DealRegistration, deal_id)
        assert deal is not None and deal.crm_deal_id == f"local-{deal_id}"
        for row in (await session.exec(select(OutboxItem))).all():  # a crash before "delivered"
            row.status = "pending"
            session.add(row)
    await outbox.deliver_due(
        program, crm, worker="w2", clock=fixed_clock(NOW + timedelta(seconds=3))
    )
    async with program.read() as session:
        assert len((await session.exec(select(CrmNote))).all()) == 1  # the repeat was harmless


async def test_a_failing_crm_is_retried_with_backoff_for_as_long_as_it_takes(
    program: Database,
) -> None:
    await approved_deal(program)
    crm = FlakyCrm(failures=30)
    now = NOW + timedelta(seconds=1)
    first = await outbox.deliver_due(program, crm, worker="w", clock=fixed_clock(now))
    assert (first.delivered, first.retried) == (0, 1)
    assert (
        await outbox.deliver_due(program, crm, worker="w", clock=fixed_clock(now))
    ).retried == 0  # not due yet
    waits = []
    while crm.failures:  # a day-long outage: never dead-lettered, retried at least every 15 min
        async with program.read() as session:
            pending = select(OutboxItem).where(OutboxItem.status == "pending")
            due = max(r.next_attempt_at for r in (await session.exec(pending)).all())
        waits.append((due - now).total_seconds())
        now = due
        await outbox.deliver_due(program, crm, worker="w", clock=fixed_clock(now))
    assert waits[:3] == sorted(waits[:3]) and max(waits) <= 1.2 * outbox.MAX_BACKOFF_SECONDS
    async with program.read() as session:
        rows = (await session.exec(select(OutboxItem))).all()
        now = max(r.next_attempt_at for r in rows)
    assert {r.status for r in rows} == {"pending"} and max(r.attempts for r in rows) == 30
    assert (
        await outbox.deliver_due(program, crm, worker="w", clock=fixed_clock(now))
    ).delivered == 2
    assert [d.status for d in crm.deals] == ["approved"] and len(crm.notes) == 1


async def test_a_permanent_error_is_dead_lettered_at_once(program: Database) -> None:
    await approved_deal(program)
    report = await outbox.deliver_due(
        program,
        FlakyCrm(failures=1, permanent=True),
        worker="w",
        clock=fixed_clock(NOW + timedelta(seconds=1)),
    )
    assert (report.dead, report.delivered) == (1, 1)
    assert report.dead_letters[0].kind == "upsert_deal" and "503" in report.dead_letters[0].error
    async with program.session() as session:
        assert await outbox.retry_dead(session, ids=None, now=NOW) == 1


async def test_the_worker_delivers_the_outbox_and_stops_cleanly(program: Database) -> None:
    deal_id = await approved_deal(program)
    app = build_app(load_settings(database_url=program.url), db=program)
    worker = Worker(app.services, [("outbox", outbox_loop(LocalCrm(program), idle_seconds=0.05))])
    running = asyncio.create_task(worker.run())
    for _ in range(100):
        if await timeline(program, record_type="deal", record_ids=[str(deal_id)]):
            break
        await asyncio.sleep(0.05)
    worker.stop.set()
    await asyncio.wait_for(running, timeout=10)
    assert len(await timeline(program, record_type="deal", record_ids=[str(deal_id)])) == 1


async def test_writes_to_one_record_stay_in_order_behind_a_retry(program: Database) -> None:
    await approved_deal(program)  # queues upsert_deal, then add_note, for one deal
    crm = FlakyCrm(failures=1)
    now = NOW + timedelta(seconds=1)
    first = await outbox.deliver_due(program, crm, worker="w", clock=fixed_clock(now))
    assert (first.delivered, first.retried) == (0, 1)  # the note waits behind the failed upsert
    assert crm.notes == []
    now += timedelta(minutes=5)
    await outbox.deliver_due(program, crm, worker="w", clock=fixed_clock(now))
    await outbox.deliver_due(program, crm, worker="w", clock=fixed_clock(now))
    assert [d.status for d in crm.deals] == ["approved"] and len(crm.notes) == 1

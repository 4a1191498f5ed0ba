"""The outbox: CRM writes delivered in order, exactly once, retried with backoff, never lost."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import select

from bot.app import build_app
from bot.domain import outbox
from bot.settings import load_settings
from bot.worker import Worker, outbox_loop
from crm.base import CrmError, DealRecord, TimelineNote
from crm.local import LocalCrm, timeline
from store.db import Database
from store.models import CrmNote, DealRegistration, OutboxItem
from tests.domain.test_decisions import approve, person
from tests.domain.test_registration import NOW, register


@dataclass
class FlakyCrm:
    """A CRM that fails the first `failures` calls, then records what it was sent."""

    failures: int = 0
    permanent: bool = False
    deals: list[DealRecord] = field(default_factory=list)
    notes: list[TimelineNote] = field(default_factory=list)
    name: str = "flaky"

    def _maybe_fail(self) -> None:
        if self.failures:
            self.failures -= 1
            raise CrmError("503 from the CRM", permanent=self.permanent)

    async def upsert_deal(self, deal: DealRecord) -> str:
        self._maybe_fail()
        self.deals.append(deal)
        return f"x-{deal.deal_id}"

    async def add_note(self, note: TimelineNote) -> None:
        self._maybe_fail()
        self.notes.append(note)


async def approved_deal(db: Database) -> int:
    deal = (await register(db, "nora@northwind.example")).deal
    await approve(db, await person(db, "mia@vendor.example"), deal.id or 0)
    return deal.id or 0


async def test_an_approval_reaches_the_local_crm_timeline_exactly_once(program: Database) -> None:
    deal_id = await approved_deal(program)
    crm = LocalCrm(program)
    report = await outbox.deliver_due(program, crm, worker="w1", now=NOW + timedelta(seconds=1))
    assert (report.delivered, report.retried, report.dead) == (2, 0, 0)
    assert (
        await outbox.deliver_due(program, crm, worker="w1", now=NOW + timedelta(seconds=2))
    ).delivered == 0
    notes = await timeline(program, record_type="deal", record_ids=[str(deal_id)])
    assert [n.text for n in notes] == [notes[0].text] and "Approved by Mia Manager" in notes[0].text
    async with program.session() as session:
        deal = await session.get(DealRegistration, deal_id)
        assert deal is not None and deal.crm_deal_id == f"local-{deal_id}"
        for row in (await session.exec(select(OutboxItem))).all():  # a crash before "delivered"
            row.status = "pending"
            session.add(row)
    await outbox.deliver_due(program, crm, worker="w2", now=NOW + timedelta(seconds=3))
    async with program.read() as session:
        assert len((await session.exec(select(CrmNote))).all()) == 1  # the repeat was harmless


async def test_a_failing_crm_is_retried_with_backoff_then_dead_lettered(program: Database) -> None:
    await approved_deal(program)
    crm = FlakyCrm(failures=100)
    now = NOW + timedelta(seconds=1)
    first = await outbox.deliver_due(program, crm, worker="w", now=now)
    assert (first.delivered, first.retried) == (0, 1)
    assert (await outbox.deliver_due(program, crm, worker="w", now=now)).retried == 0  # not due yet
    for _ in range(2 * outbox.MAX_ATTEMPTS):  # the note waits until the upsert is given up
        now += timedelta(hours=2)
        await outbox.deliver_due(program, crm, worker="w", now=now)
    async with program.read() as session:
        rows = (await session.exec(select(OutboxItem))).all()
    assert {r.status for r in rows} == {"dead"} and all("503" in (r.last_error or "") for r in rows)
    async with program.session() as session:
        assert await outbox.retry_dead(session, ids=None, now=now) == 2
    crm.failures = 0
    assert (await outbox.deliver_due(program, crm, worker="w", now=now)).delivered == 2
    assert [d.status for d in crm.deals] == ["approved"]


async def test_a_permanent_error_is_dead_lettered_at_once(program: Database) -> None:
    await approved_deal(program)
    report = await outbox.deliver_due(
        program, FlakyCrm(failures=1, permanent=True), worker="w", now=NOW + timedelta(seconds=1)
    )
    assert (report.dead, report.delivered) == (1, 1)


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
    first = await outbox.deliver_due(program, crm, worker="w", now=now)
    assert (first.delivered, first.retried) == (0, 1)  # the note waits behind the failed upsert
    assert crm.notes == []
    now += timedelta(minutes=5)
    await outbox.deliver_due(program, crm, worker="w", now=now)
    await outbox.deliver_due(program, crm, worker="w", now=now)
    assert [d.status for d in crm.deals] == ["approved"] and len(crm.notes) == 1

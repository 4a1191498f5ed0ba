"""Shared steps for the CRM tests: business activity that queues CRM writes, and draining."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import func, select

from bot.clock import fixed_clock
from bot.domain import announcements, outbox, training
from bot.domain.access import find_by_email
from crm.base import Crm, DealRecord, TimelineNote, WriteResult
from store.db import Database
from store.models import Announcement, Channel, OutboxItem, TrainingModule
from tests.domain.test_decisions import approve, person
from tests.domain.test_registration import NOW, register


@dataclass
class Activity:
    deal_id: int
    announcement_id: int


async def partner_activity(db: Database) -> Activity:
    """Nora registers a deal Mia approves, acknowledges an announcement and is certified."""
    deal = (await register(db, "nora@northwind.example")).deal
    mia = await person(db, "mia@vendor.example")
    await approve(db, mia, deal.id or 0)
    async with db.session() as session:
        nora = await find_by_email(session, "nora@northwind.example")
        assert nora is not None
        news = Announcement(
            title="New price list",
            body="From 1 Dec.",
            published_by_id=mia.id or 0,
            published_at=NOW,
        )
        module = TrainingModule(
            slug="core-sales",
            title="Core for sales",
            learning_path="sales",
            content="…",
            certification="Core Sales Certified",
            updated_at=NOW,
        )
        session.add_all([news, module])
        await session.flush()
        later = NOW + timedelta(minutes=5)
        await announcements.acknowledge(
            session, announcement_id=news.id or 0, person=nora, channel=Channel.SLACK, now=later
        )
        await training.certify(
            session, person=nora, module=module, channel=Channel.SLACK, now=later
        )
    return Activity(deal_id=deal.id or 0, announcement_id=news.id or 0)


async def pending(db: Database) -> int:
    async with db.read() as session:
        query = select(func.count()).where(OutboxItem.status == "pending")
        return int((await session.exec(query)).one())


async def assert_all_delivered_in_order(db: Database) -> None:
    """Every outbox row delivered, and each record's writes in the order they were queued."""
    async with db.read() as session:
        rows = (await session.exec(select(OutboxItem).order_by(OutboxItem.id))).all()
    assert {r.status for r in rows} == {"delivered"}
    by_record: dict[str, list[OutboxItem]] = {}
    for row in rows:
        by_record.setdefault(row.record_key, []).append(row)
    for writes in by_record.values():
        delivered = [w.delivered_at for w in writes]
        assert delivered == sorted(delivered)  # type: ignore[type-var]


async def drain(
    db: Database, crm: Crm, *, now: datetime, worker: str = "w", rounds: int = 200
) -> datetime:
    """Deliver until nothing is pending, jumping the clock to each next due retry."""
    for _ in range(rounds):
        await outbox.deliver_due(db, crm, worker=worker, clock=fixed_clock(now))
        due = await outbox.next_due(db)
        if due is None:
            return now
        now = max(now, due)
    raise AssertionError(f"the outbox did not drain in {rounds} rounds")


class KilledAfterTheCrmAnswered(BaseException):
    """The worker process dies between the CRM's 200 and our commit."""


class DiesAfterCall:
    """The real adapter, but the process dies as soon as the CRM has answered."""

    def __init__(self, crm: Crm) -> None:
        self.crm, self.name, self.batch_size = crm, crm.name, crm.batch_size

    async def upsert_deals(self, deals: list[DealRecord]) -> list[WriteResult]:
        await self.crm.upsert_deals(deals)
        raise KilledAfterTheCrmAnswered

    async def add_notes(self, notes: list[TimelineNote]) -> list[WriteResult]:
        await self.crm.add_notes(notes)
        raise KilledAfterTheCrmAnswered

"""The durable outbox: external writes (the CRM) recorded in the business transaction.

A row is written in the same transaction as the change that caused it, so a crash loses
nothing and a retry never writes twice (the idempotency key is unique). The worker
delivers rows to the configured CRM adapter, oldest first, retrying with backoff.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crm.base import Crm, CrmError, DealRecord, TimelineNote
from store.db import Database
from store.models import OutboxItem, OutboxStatus
from store.types import utcnow

log = logging.getLogger(__name__)


async def enqueue(
    session: AsyncSession,
    *,
    kind: str,
    record_key: str,
    idempotency_key: str,
    payload: dict[str, Any],
) -> OutboxItem:
    """Queue one CRM write (once per idempotency key) in the caller's transaction."""
    existing = (
        await session.exec(select(OutboxItem).where(OutboxItem.idempotency_key == idempotency_key))
    ).first()
    if existing is not None:
        return existing
    item = OutboxItem(
        target="crm",
        kind=kind,
        record_key=record_key,
        idempotency_key=idempotency_key,
        payload=payload,
    )
    session.add(item)
    await session.flush()
    return item


# --- Delivery ---------------------------------------------------------------------------

MAX_ATTEMPTS = 10
CLAIM_SECONDS = 300


@dataclass
class DeliveryReport:
    """What one delivery round did."""

    delivered: int = 0
    retried: int = 0
    dead: int = 0


def backoff(attempts: int) -> timedelta:
    """Exponential backoff with jitter: about 2, 4, 8 … seconds, at most an hour."""
    base = min(2**attempts, 3600)
    return timedelta(seconds=base * random.uniform(0.8, 1.2))


async def _claim(db: Database, *, worker: str, now: datetime, limit: int) -> list[OutboxItem]:
    """Claim due rows, only the oldest pending row of each record: writes to one record stay in
    order, and a row waiting to be retried holds back the ones queued after it."""
    heads = (
        select(func.min(OutboxItem.id))
        .where(OutboxItem.status == OutboxStatus.PENDING)
        .group_by(col(OutboxItem.record_key))
    )
    async with db.session() as session:
        query = (
            select(OutboxItem)
            .where(
                OutboxItem.status == OutboxStatus.PENDING,
                col(OutboxItem.id).in_(heads),
                col(OutboxItem.next_attempt_at) <= now,
                or_(col(OutboxItem.claimed_until).is_(None), col(OutboxItem.claimed_until) < now),
            )
            .order_by(col(OutboxItem.id))
            .limit(limit)
        )
        if db.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        items = list((await session.exec(query)).all())
        for item in items:
            item.claimed_by, item.claimed_until = worker, now + timedelta(seconds=CLAIM_SECONDS)
            session.add(item)
    return items


async def _send(crm: Crm, item: OutboxItem) -> None:
    if item.kind == "upsert_deal":
        await crm.upsert_deal(DealRecord.from_payload(item.payload))
    elif item.kind == "add_note":
        payload = item.payload
        await crm.add_note(
            TimelineNote(
                record_type="deal",
                record_id=str(payload["deal_id"]),
                author=str(payload["author"]),
                text=str(payload["text"]),
                at=datetime.fromisoformat(str(payload["at"])),
                idempotency_key=item.idempotency_key,
            )
        )
    else:
        raise CrmError(f"unknown outbox kind {item.kind!r}", permanent=True)


async def _deliver_one(
    db: Database, crm: Crm, item: OutboxItem, now: datetime, report: DeliveryReport
) -> None:
    failure: Exception | None = None
    try:
        await _send(crm, item)
    except Exception as exc:  # any failure is recorded on the row; nothing is lost
        failure = exc
    async with db.session() as session:
        row = await session.get(OutboxItem, item.id)
        if row is None:
            return
        row.attempts += 1
        row.claimed_by = row.claimed_until = None
        if failure is None:
            row.status, row.delivered_at, row.last_error = OutboxStatus.DELIVERED, utcnow(), None
            report.delivered += 1
        elif getattr(failure, "permanent", False) or row.attempts >= MAX_ATTEMPTS:
            row.status, row.last_error = OutboxStatus.DEAD, str(failure)[:2000]
            report.dead += 1
            log.error(
                "outbox row %s is dead after %s attempt(s): %s", row.id, row.attempts, failure
            )
        else:
            row.next_attempt_at, row.last_error = now + backoff(row.attempts), str(failure)[:2000]
            report.retried += 1
            log.warning(
                "outbox row %s failed (attempt %s), will retry: %s", row.id, row.attempts, failure
            )
        session.add(row)


async def deliver_due(
    db: Database, crm: Crm, *, worker: str, now: datetime, limit: int = 100
) -> DeliveryReport:
    """Deliver up to `limit` due rows, each record's writes in order, recording each outcome."""
    report = DeliveryReport()
    while (handled := report.delivered + report.retried + report.dead) < limit:
        items = await _claim(db, worker=worker, now=now, limit=limit - handled)
        if not items:
            break
        retried_before = report.retried
        for item in items:
            await _deliver_one(db, crm, item, now, report)
        if report.retried - retried_before == len(items):
            break  # every head waits for a retry: nothing behind them may go yet
    return report


async def retry_dead(session: AsyncSession, *, ids: list[int] | None, now: datetime) -> int:
    """Send dead rows (all, or those listed) back to the queue; return how many."""
    query = select(OutboxItem).where(OutboxItem.status == OutboxStatus.DEAD)
    if ids:
        query = query.where(col(OutboxItem.id).in_(ids))
    rows = list((await session.exec(query)).all())
    for row in rows:
        row.status, row.attempts, row.next_attempt_at = OutboxStatus.PENDING, 0, now
        session.add(row)
    return len(rows)

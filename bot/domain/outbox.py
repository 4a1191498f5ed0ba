"""The durable outbox: external writes (the CRM) recorded in the business transaction.

A row is written in the same transaction as the change that caused it, so a crash loses
nothing and a retry never writes twice (the idempotency key is unique). The worker
delivers rows to the configured CRM adapter, oldest first, retrying with backoff.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from crm.base import (
    Crm,
    CrmError,
    DealRecord,
    PartnerCompany,
    RateLimited,
    TimelineNote,
    WriteResult,
)
from store.db import Database
from store.models import DealRegistration, OutboxItem, OutboxStatus

log = logging.getLogger(__name__)


class OutboxKind(StrEnum):
    """The CRM writes the outbox carries; each maps to one batch method of `crm.base.Crm`."""

    UPSERT_DEAL = "upsert_deal"
    ADD_NOTE = "add_note"
    SET_PARTNER = "set_partner"
    ERASE_CONTACT = "erase_contact"


async def enqueue(
    session: AsyncSession,
    *,
    kind: str,
    record_key: str,
    idempotency_key: str,
    payload: dict[str, Any],
    now: datetime,
) -> None:
    """Queue one CRM write (once per idempotency key) in the caller's transaction, due `now`."""
    await enqueue_many(session, [Write(kind, record_key, idempotency_key, payload)], now=now)


@dataclass(frozen=True)
class Write:
    """One CRM write to queue."""

    kind: str
    record_key: str
    idempotency_key: str
    payload: dict[str, Any]


async def enqueue_many(session: AsyncSession, writes: Sequence[Write], *, now: datetime) -> None:
    """Queue CRM writes in order, each once per idempotency key and due `now`: one query and
    one insert for the lot, in the caller's transaction."""
    keys = {write.idempotency_key for write in writes}
    if not keys:
        return
    found = await session.exec(
        select(OutboxItem.idempotency_key).where(col(OutboxItem.idempotency_key).in_(keys))
    )
    queued = set(found.all())
    rows = []
    for write in writes:
        if write.idempotency_key in queued:
            continue
        queued.add(write.idempotency_key)
        rows.append(asdict(write) | {"target": "crm", "created_at": now, "next_attempt_at": now})
    if rows:
        connection = await session.connection()
        await connection.execute(insert(OutboxItem), rows)


def note_write(note: TimelineNote) -> Write:
    """The outbox write for a timeline note, in order with the other writes to its record."""
    return Write(
        OutboxKind.ADD_NOTE,
        f"{note.record_type}:{note.record_id}",
        note.idempotency_key,
        note.to_payload(),
    )


async def enqueue_note(session: AsyncSession, note: TimelineNote, *, now: datetime) -> None:
    """Queue a timeline note, in order with the other writes to the record it hangs on."""
    await enqueue_many(session, [note_write(note)], now=now)


# --- Delivery ---------------------------------------------------------------------------


CLAIM_SECONDS = 300  # a claimed row whose worker died is delivered again after this
MAX_BACKOFF_SECONDS = 900  # transient failures are retried for ever, at least every 15 min


@dataclass(frozen=True)
class DeadLetter:
    """A row the CRM refused for good: kept, shown by `outbox list`, replayed by `retry`."""

    id: int
    kind: str
    record_key: str
    error: str


@dataclass
class DeliveryReport:
    """What one delivery round did."""

    delivered: int = 0
    retried: int = 0
    dead: int = 0
    dead_letters: list[DeadLetter] = field(default_factory=list)


def backoff(attempts: int) -> timedelta:
    """Exponential backoff with jitter: about 2, 4, 8 … seconds, at most 15 minutes."""
    base = min(2**attempts, MAX_BACKOFF_SECONDS)
    return timedelta(seconds=base * random.uniform(0.8, 1.2))


@dataclass(frozen=True)
class _Outcome:
    crm_id: str | None = None
    error: Exception | None = None
    retry_after: float | None = None  # the CRM said when to come back

    @property
    def permanent(self) -> bool:
        return bool(getattr(self.error, "permanent", False))


def _heads() -> Any:
    """The oldest pending row of each record: the only one that may be delivered next."""
    return (
        select(func.min(OutboxItem.id))
        .where(OutboxItem.status == OutboxStatus.PENDING)
        .group_by(col(OutboxItem.record_key))
    )


async def next_due(db: Database) -> datetime | None:
    """When the next deliverable row is due (None when nothing is pending)."""
    async with db.read() as session:
        query = select(func.min(OutboxItem.next_attempt_at)).where(
            OutboxItem.status == OutboxStatus.PENDING, col(OutboxItem.id).in_(_heads())
        )
        return (await session.exec(query)).one()


async def _claim(db: Database, *, worker: str, now: datetime, limit: int) -> list[OutboxItem]:
    """Claim due rows, only the oldest pending row of each record: writes to one record stay in
    order, and a row waiting to be retried holds back the ones queued after it. On PostgreSQL
    `FOR UPDATE SKIP LOCKED` lets several workers claim side by side, never the same row."""
    async with db.session() as session:
        query = (
            select(OutboxItem)
            .where(
                OutboxItem.status == OutboxStatus.PENDING,
                col(OutboxItem.id).in_(_heads()),
                col(OutboxItem.next_attempt_at) <= now,
                or_(col(OutboxItem.claimed_until).is_(None), col(OutboxItem.claimed_until) < now),
            )
            .order_by(col(OutboxItem.id))
            .limit(limit)
        )
        if db.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        items = list((await session.exec(query)).all())
        if items:
            await session.exec(
                update(OutboxItem)
                .where(col(OutboxItem.id).in_([item.id for item in items]))
                .values(claimed_by=worker, claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
            )
    return items


async def _call(crm: Crm, kind: str, items: Sequence[OutboxItem]) -> list[WriteResult]:
    """One batch call to the CRM for rows of one kind."""
    payloads = [item.payload for item in items]
    if kind == OutboxKind.UPSERT_DEAL:
        return await crm.upsert_deals([DealRecord.from_payload(p) for p in payloads])
    if kind == OutboxKind.ADD_NOTE:
        return await crm.add_notes(
            [
                TimelineNote.from_payload(item.payload, idempotency_key=item.idempotency_key)
                for item in items
            ]
        )
    if kind == OutboxKind.SET_PARTNER:
        return await crm.set_partner_companies([PartnerCompany.from_payload(p) for p in payloads])
    if kind == OutboxKind.ERASE_CONTACT:
        results = []
        for payload in payloads:
            await crm.erase_contact(str(payload["email"]))
            results.append(WriteResult())
        return results
    raise CrmError(f"unknown outbox kind {kind!r}", permanent=True)


async def _send(crm: Crm, kind: str, items: Sequence[OutboxItem]) -> list[_Outcome]:
    """Send rows of one kind; a batch the CRM refuses as a whole is split so only the bad
    record is dead-lettered."""
    try:
        results = await _call(crm, kind, items)
    except RateLimited as exc:
        return [_Outcome(error=exc, retry_after=exc.retry_after)] * len(items)
    except (KeyError, TypeError, ValueError) as exc:  # a row we cannot read: not retryable
        if len(items) > 1:
            return [outcome for item in items for outcome in await _send(crm, kind, [item])]
        return [_Outcome(error=CrmError(f"unreadable outbox row: {exc!r}", permanent=True))]
    except CrmError as exc:
        if exc.permanent and len(items) > 1:
            return [outcome for item in items for outcome in await _send(crm, kind, [item])]
        return [_Outcome(error=exc)] * len(items)
    except Exception as exc:  # a timeout, a dropped connection: retried, nothing is lost
        return [_Outcome(error=exc)] * len(items)
    if len(results) != len(items):
        error = CrmError(f"{crm.name} answered {len(results)} results for {len(items)} records")
        return [_Outcome(error=error)] * len(items)
    return [_Outcome(crm_id=r.crm_id, error=r.error) for r in results]


async def _record(
    db: Database,
    items: Sequence[OutboxItem],
    outcomes: Sequence[_Outcome],
    *,
    now: datetime,
    report: DeliveryReport,
) -> None:
    """Commit what became of each row in one transaction."""
    delivered = [item for item, outcome in zip(items, outcomes, strict=True) if not outcome.error]
    async with db.session() as session:
        if delivered:
            await session.exec(
                update(OutboxItem)
                .where(col(OutboxItem.id).in_([item.id for item in delivered]))
                .values(
                    status=OutboxStatus.DELIVERED,
                    delivered_at=now,
                    attempts=OutboxItem.attempts + 1,
                    claimed_by=None,
                    claimed_until=None,
                    last_error=None,
                )
            )
            report.delivered += len(delivered)
        crm_ids = [
            {"id": int(item.payload["deal_id"]), "crm_deal_id": outcome.crm_id}
            for item, outcome in zip(items, outcomes, strict=True)
            if outcome.error is None and item.kind == OutboxKind.UPSERT_DEAL and outcome.crm_id
        ]
        if crm_ids:  # one executemany: the CRM's id on each registration it now holds
            table = DealRegistration.__table__  # type: ignore[attr-defined]  # Core: executemany
            connection = await session.connection()
            await connection.execute(
                update(table)
                .where(table.c.id == bindparam("deal"))
                .values(crm_deal_id=bindparam("crm_id")),
                [{"deal": row["id"], "crm_id": row["crm_deal_id"]} for row in crm_ids],
            )
        for item, outcome in zip(items, outcomes, strict=True):
            if outcome.error is None:
                continue
            message = str(outcome.error)[:2000] or type(outcome.error).__name__
            values: dict[str, Any] = {
                "attempts": item.attempts + 1,
                "claimed_by": None,
                "claimed_until": None,
                "last_error": message,
            }
            if outcome.permanent:
                values["status"] = OutboxStatus.DEAD
                report.dead += 1
                report.dead_letters.append(
                    DeadLetter(item.id or 0, item.kind, item.record_key, message)
                )
                log.error("outbox row %s (%s) is dead: %s", item.id, item.record_key, message)
            else:
                wait = (
                    timedelta(seconds=outcome.retry_after)
                    if outcome.retry_after is not None
                    else backoff(item.attempts + 1)
                )
                values["next_attempt_at"] = now + wait
                report.retried += 1
                log.warning(
                    "outbox row %s failed (attempt %s), retry in %.0f s: %s",
                    item.id,
                    item.attempts + 1,
                    wait.total_seconds(),
                    message,
                )
            await session.exec(
                update(OutboxItem).where(col(OutboxItem.id) == item.id).values(**values)
            )


def _batches(items: Sequence[OutboxItem], size: int) -> list[tuple[str, list[OutboxItem]]]:
    """Rows grouped by kind (first come, first sent), cut to the CRM's batch size."""
    by_kind: dict[str, list[OutboxItem]] = {}
    for item in items:
        by_kind.setdefault(item.kind, []).append(item)
    return [
        (kind, rows[start : start + size])
        for kind, rows in by_kind.items()
        for start in range(0, len(rows), size)
    ]


async def deliver_due(
    db: Database,
    crm: Crm,
    *,
    worker: str,
    clock: Clock,
    limit: int = 1000,
) -> DeliveryReport:
    """Deliver up to `limit` due rows in batches, each record's writes in order, recording
    each outcome. Each round and each outcome asks `clock` for the time (a CRM call may
    take a while)."""
    report = DeliveryReport()
    while (handled := report.delivered + report.retried + report.dead) < limit:
        items = await _claim(db, worker=worker, now=clock(), limit=limit - handled)
        if not items:
            break
        retried_before = report.retried
        for kind, batch in _batches(items, max(crm.batch_size, 1)):
            outcomes = await _send(crm, kind, batch)
            await _record(db, batch, outcomes, now=clock(), report=report)
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

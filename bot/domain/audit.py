"""The append-only audit log: every state change, hash-chained so tampering shows."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from store.models import AuditEvent, AuditHead, Channel, Person

GENESIS_HASH = "0" * 64
_VERIFY_BATCH = 1000


@dataclass(frozen=True)
class Actor:
    """Who did something: a person, or the system itself (scheduler, migrations)."""

    label: str
    person_id: int | None = None

    @classmethod
    def person(cls, person: Person) -> Actor:
        """The actor for a known person."""
        return cls(label=f"{person.role}:{person.email}", person_id=person.id)

    @classmethod
    def slack_user(cls, user_id: str, team_id: str | None) -> Actor:
        """The actor for a Slack user partnerbot could not (or would not) identify."""
        return cls(label=f"slack:{user_id[:32]}@{(team_id or '?')[:32]}")

    @classmethod
    def system(cls, what: str = "system") -> Actor:
        """The actor for something partnerbot did by itself."""
        return cls(label=what)


def _json_safe(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """Round-trip through JSON so the stored value is exactly the hashed value."""
    if value is None:
        return None
    loaded: dict[str, Any] = json.loads(json.dumps(value, default=str, sort_keys=True))
    return loaded


def event_hash(event: AuditEvent) -> str:
    """The SHA-256 of an event's content chained to the previous event's hash."""
    content = [
        event.seq,
        event.occurred_at.isoformat(),
        event.actor,
        event.actor_person_id,
        str(event.channel),
        event.action,
        event.subject_type,
        event.subject_id,
        event.before,
        event.after,
    ]
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((event.prev_hash + canonical).encode()).hexdigest()


@dataclass(frozen=True)
class Entry:
    """One state change to append to the log."""

    actor: Actor
    channel: Channel
    action: str
    subject_type: str
    subject_id: object
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


async def record(
    session: AsyncSession,
    *,
    actor: Actor,
    channel: Channel,
    action: str,
    subject_type: str,
    subject_id: object,
    now: datetime,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event at `now` in the caller's transaction (call it last: it locks
    the chain)."""
    entry = Entry(actor, channel, action, subject_type, subject_id, before, after)
    [event] = await record_many(session, [entry], now=now)
    await session.flush()
    return event


async def record_many(
    session: AsyncSession, entries: Sequence[Entry], *, now: datetime
) -> list[AuditEvent]:
    """Append events at `now`, in order, in the caller's transaction, locking the chain's
    head once."""
    if not entries:
        return []
    head = (await session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update())).one()
    events = []
    for entry in entries:
        event = AuditEvent(
            seq=head.seq + 1,
            occurred_at=now,
            actor=entry.actor.label,
            actor_person_id=entry.actor.person_id,
            channel=entry.channel,
            action=entry.action,
            subject_type=entry.subject_type,
            subject_id=str(entry.subject_id),
            before=_json_safe(entry.before),
            after=_json_safe(entry.after),
            prev_hash=head.hash,
            hash="",
        )
        event.hash = event_hash(event)
        head.seq, head.hash = event.seq, event.hash
        events.append(event)
    connection = await session.connection()
    await connection.execute(
        insert(AuditEvent), [{c: getattr(e, c) for c in _EVENT_COLUMNS} for e in events]
    )
    session.add(head)
    return events


_EVENT_COLUMNS = [column.name for column in AuditEvent.__table__.columns]  # type: ignore[attr-defined]


@dataclass
class VerifyReport:
    """What `audit verify` found."""

    checked: int = 0
    problems: list[str] = field(default_factory=list)
    last_event_at: datetime | None = None

    @property
    def ok(self) -> bool:
        """True when the chain is intact."""
        return not self.problems


async def verify(session: AsyncSession) -> VerifyReport:
    """Walk the whole chain and report every edited, inserted or deleted event."""
    report = VerifyReport()
    expected_prev, expected_seq = GENESIS_HASH, 1
    last_seq = 0
    while True:
        batch = (
            await session.exec(
                select(AuditEvent)
                .where(col(AuditEvent.seq) > last_seq)
                .order_by(col(AuditEvent.seq))
                .limit(_VERIFY_BATCH)
            )
        ).all()
        if not batch:
            break
        for event in batch:
            if event.seq != expected_seq:
                report.problems.append(
                    f"events {expected_seq}..{event.seq - 1} are missing (deleted)"
                )
            if event.prev_hash != expected_prev:
                report.problems.append(f"event {event.seq}: does not follow the event before it")
            if event_hash(event) != event.hash:
                report.problems.append(
                    f"event {event.seq}: content was changed after it was written"
                )
            expected_prev, expected_seq = event.hash, event.seq + 1
            report.checked += 1
            report.last_event_at = event.occurred_at
        last_seq = batch[-1].seq
    head = (await session.exec(select(AuditHead).where(AuditHead.id == 1))).one()
    if head.seq != expected_seq - 1 or head.hash != expected_prev:
        report.problems.append(
            f"the log ends at event {expected_seq - 1} but was last written at event {head.seq}"
            " (events at the end were deleted or the head was changed)"
        )
    return report

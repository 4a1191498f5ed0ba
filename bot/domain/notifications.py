"""Messages to people and channels, queued durably and delivered by the worker.

A domain operation (or a scheduled job) that decides someone must hear about something
queues a `Notification` in its own transaction, keyed so that it exists once however often
the decision is retried. The worker delivers it (`bot/delivery.py`): a Slack DM, a post to
a channel, or an email. Nothing here knows Slack or SMTP; `kind` and `payload` say what to
say, `bot/notices.py` says how.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from store.db import Database
from store.models import Notification, NotificationStatus, Person

CLAIM_SECONDS = 120  # a claimed message whose worker died is tried again after this
MAX_ATTEMPTS = 8  # then it fails for good (kept with its error)


@dataclass(frozen=True)
class Recipient:
    """Who a message is for: just what routing needs (not a whole Person row)."""

    id: int
    slack_user_id: str | None = None

    @classmethod
    def of(cls, person: Person) -> Recipient:
        """The recipient for a person."""
        return cls(person.id or 0, person.slack_user_id)


@dataclass(frozen=True)
class Message:
    """One message to queue: to a person (their DM, or email without Slack), or to a channel."""

    kind: str
    key: str  # unique: the same key is never queued twice
    payload: dict[str, Any] = field(default_factory=dict)
    person: Recipient | None = None
    channel: str | None = None  # a Slack channel id (the deal desk)
    hold: bool = True  # wait for the person's working hours (escalations don't)
    via: str | None = None  # slack|email; by default Slack when the person has an account
    subject: tuple[str, int] | None = None  # (kind, id) it is about: receipts, updates


def route(message: Message) -> str:
    """How a message travels: to a channel by Slack; to a person by Slack if they have an
    account, else by email."""
    if message.via:
        return message.via
    if message.channel or (message.person is not None and message.person.slack_user_id):
        return "slack"
    return "email"


async def queue(session: AsyncSession, messages: Sequence[Message], *, now: datetime) -> int:
    """Queue messages in the caller's transaction, each once per key; return how many were
    new. One query and one insert for the lot."""
    keys = {message.key for message in messages}
    if not keys:
        return 0
    found = await session.exec(select(Notification.key).where(col(Notification.key).in_(keys)))
    queued = set(found.all())
    rows = []
    for message in messages:
        if message.key in queued:
            continue
        queued.add(message.key)
        rows.append(
            {
                "key": message.key[:200],
                "kind": message.kind,
                "person_id": message.person.id if message.person else None,
                "slack_channel": message.channel,
                "via": route(message),
                "payload": message.payload,
                "subject_kind": message.subject[0] if message.subject else None,
                "subject_id": message.subject[1] if message.subject else None,
                "held": message.hold and message.person is not None,
                "status": NotificationStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
        )
    if rows:
        connection = await session.connection()
        await connection.execute(insert(Notification), rows)
    return len(rows)


async def claim_due(
    db: Database, *, worker: str, now: datetime, limit: int = 200, via: str | None = None
) -> list[Notification]:
    """Claim pending messages that are due, oldest first. On PostgreSQL `FOR UPDATE SKIP
    LOCKED` lets several workers deliver side by side, never the same message. Each row is
    returned as it was before the claim (see `Delivery` for what an unsettled claim means)."""
    async with db.session() as session:
        query = (
            select(Notification)
            .where(
                Notification.status == NotificationStatus.PENDING,
                col(Notification.next_attempt_at) <= now,
                or_(
                    col(Notification.claimed_until).is_(None),
                    col(Notification.claimed_until) < now,
                ),
            )
            .order_by(col(Notification.next_attempt_at), col(Notification.id))
            .limit(limit)
        )
        if via is not None:  # Slack and email go at their own pace, side by side
            query = query.where(Notification.via == via)
        if db.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = list((await session.exec(query)).all())
        if rows:
            # The rows keep what they held before this claim: `claimed_by` set means an earlier
            # attempt claimed the message and never settled it (its worker died).
            await session.exec(
                update(Notification)
                .where(col(Notification.id).in_([row.id for row in rows]))
                .values(claimed_by=worker, claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
                .execution_options(synchronize_session=False)
            )
    return rows


async def release(db: Database, rows: list[Notification]) -> None:
    """Give claimed messages back for the next round, as they were before the claim (a row
    an earlier, dead attempt had claimed keeps saying so)."""
    fresh = [row.id for row in rows if row.claimed_by is None]
    async with db.session() as session:
        if fresh:
            await session.exec(
                update(Notification)
                .where(col(Notification.id).in_(fresh))
                .values(claimed_by=None, claimed_until=None)
            )
        for row in rows:
            if row.claimed_by is not None:
                await session.exec(
                    update(Notification)
                    .where(col(Notification.id) == row.id)
                    .values(claimed_by=row.claimed_by, claimed_until=row.claimed_until)
                )


async def settle(db: Database, notification_id: int, *, now: datetime, **values: Any) -> None:
    """Record what became of a claimed message (sent, to retry at a time, failed)."""
    async with db.session() as session:
        await session.exec(
            update(Notification)
            .where(col(Notification.id) == notification_id)
            .values(claimed_by=None, claimed_until=None, **values)
        )


async def sent(
    db: Database,
    notification_id: int,
    *,
    now: datetime,
    slack_channel: str | None = None,
    slack_ts: str | None = None,
) -> None:
    """The message went out (and where it landed in Slack, to update it later)."""
    await settle(
        db,
        notification_id,
        now=now,
        status=NotificationStatus.SENT,
        sent_at=now,
        slack_ts=slack_ts,
        slack_ts_channel=slack_channel,
        error=None,
    )


async def sent_many(db: Database, notification_ids: list[int], *, now: datetime) -> None:
    """Many messages went out (one statement)."""
    if not notification_ids:
        return
    async with db.session() as session:
        await session.exec(
            update(Notification)
            .where(col(Notification.id).in_(notification_ids))
            .values(
                status=NotificationStatus.SENT,
                sent_at=now,
                claimed_by=None,
                claimed_until=None,
                error=None,
            )
        )


async def retry_later(
    db: Database, row: Notification, *, now: datetime, wait: timedelta, error: str
) -> None:
    """A transient failure: try again after `wait`, or fail for good after MAX_ATTEMPTS."""
    attempts = row.attempts + 1
    if attempts >= MAX_ATTEMPTS:
        await failed(db, row.id or 0, now=now, error=error, attempts=attempts)
        return
    await settle(
        db,
        row.id or 0,
        now=now,
        attempts=attempts,
        next_attempt_at=now + wait,
        error=error[:2000],
    )


async def failed(
    db: Database, notification_id: int, *, now: datetime, error: str, attempts: int | None = None
) -> None:
    """It cannot be delivered (no recipient, refused for good): kept with the reason."""
    values: dict[str, Any] = {"status": NotificationStatus.FAILED, "error": error[:2000]}
    if attempts is not None:
        values["attempts"] = attempts
    await settle(db, notification_id, now=now, **values)


async def hold(db: Database, notification_id: int, *, now: datetime, until: datetime) -> None:
    """Outside the recipient's working hours: deliver at `until`."""
    await settle(db, notification_id, now=now, next_attempt_at=until)

"""Announcements: acknowledgement (by button or by email reply), written to the CRM."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import audit, crm_records
from bot.errors import NotFound
from store.models import Acknowledgement, Announcement, Channel, Person


@dataclass(frozen=True)
class Ack:
    """A person acknowledging an announcement, with what they wrote (if anything)."""

    announcement_id: int
    person: Person
    note: str | None = None


async def acknowledge(
    session: AsyncSession,
    *,
    announcement_id: int,
    person: Person,
    channel: Channel,
    now: datetime,
    note: str | None = None,
) -> bool:
    """Record the person's acknowledgement once; return False if they had already given it."""
    [done] = await acknowledge_many(
        session, [Ack(announcement_id, person, note)], channel=channel, now=now
    )
    await session.flush()
    return done


async def acknowledge_many(
    session: AsyncSession, acks: Sequence[Ack], *, channel: Channel, now: datetime
) -> list[bool]:
    """Record acknowledgements, each once per person and announcement, with a fixed number
    of queries however many there are; True for each that was new."""
    if not acks:
        return []
    wanted = {ack.announcement_id for ack in acks}
    found = await session.exec(select(Announcement).where(col(Announcement.id).in_(wanted)))
    titles = {a.id: a.title for a in found.all()}
    if missing := wanted - set(titles):
        raise NotFound(f"That announcement no longer exists (#{min(missing)}).")
    given = await session.exec(
        select(Acknowledgement.announcement_id, Acknowledgement.person_id).where(
            col(Acknowledgement.announcement_id).in_(wanted),
            col(Acknowledgement.person_id).in_({ack.person.id for ack in acks}),
        )
    )
    done = set(given.all())
    new, notes, events = [], [], []
    for ack in acks:
        pair = (ack.announcement_id, ack.person.id or 0)
        new.append(pair not in done)
        if pair in done:
            continue
        done.add(pair)
        title = titles[ack.announcement_id]
        session.add(
            Acknowledgement(
                announcement_id=ack.announcement_id,
                person_id=ack.person.id or 0,
                channel=channel,
                note=ack.note,
                acknowledged_at=now,
            )
        )
        text = f"Acknowledged “{title}” by {channel}."
        notes.append(
            crm_records.CompanyNote(
                ack.person,
                subject=f"Announcement: {title}",
                text=f"{text}\n{ack.note}" if ack.note else text,
                at=now,
                key=f"ack:{ack.announcement_id}:{ack.person.id}",
            )
        )
        events.append(
            audit.Entry(
                actor=audit.Actor.person(ack.person),
                channel=channel,
                action="announcement.acknowledged",
                subject_type="announcement",
                subject_id=ack.announcement_id,
                after={"person_id": ack.person.id, "note": ack.note},
            )
        )
    await crm_records.queue_company_notes(session, notes, now=now)
    await audit.record_many(session, events, now=now)
    return new

"""Announcements: acknowledgement (by button or by email reply), written to the CRM."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import audit, crm_records
from bot.errors import NotFound
from store.models import Acknowledgement, Announcement, Channel, Person


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
    announcement = await session.get(Announcement, announcement_id)
    if announcement is None:
        raise NotFound("That announcement no longer exists.")
    done = select(Acknowledgement.id).where(
        Acknowledgement.announcement_id == announcement_id, Acknowledgement.person_id == person.id
    )
    if (await session.exec(done)).first() is not None:
        return False
    session.add(
        Acknowledgement(
            announcement_id=announcement_id,
            person_id=person.id or 0,
            channel=channel,
            note=note,
            acknowledged_at=now,
        )
    )
    text = f"Acknowledged “{announcement.title}” by {channel}."
    await crm_records.queue_company_note(
        session,
        person,
        subject=f"Announcement: {announcement.title}",
        text=f"{text}\n{note}" if note else text,
        at=now,
        key=f"ack:{announcement_id}:{person.id}",
    )
    await audit.record(
        session,
        actor=audit.Actor.person(person),
        channel=channel,
        action="announcement.acknowledged",
        subject_type="announcement",
        subject_id=announcement_id,
        after={"person_id": person.id, "note": note},
    )
    return True

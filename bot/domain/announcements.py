"""Announcements received: acknowledgement (by button or by email reply, written to the CRM
once) and questions back to the publisher."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import audit, crm_records, notifications
from bot.errors import InvalidInput, NotFound
from store.models import Acknowledgement, Announcement, Channel, Partner, Person


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
        try:  # a double click or a button and an email at once: the first one counts
            async with session.begin_nested():
                session.add(
                    Acknowledgement(
                        announcement_id=ack.announcement_id,
                        person_id=ack.person.id or 0,
                        channel=channel,
                        note=ack.note,
                        acknowledged_at=now,
                    )
                )
        except IntegrityError:
            new[-1] = False
            continue
        day = now.strftime("%d %b %Y")
        text = f"{ack.person.name} acknowledged “{title}” by {channel} on {day}."
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


MAX_QUESTION = 2000


async def ask(
    session: AsyncSession,
    *,
    announcement_id: int,
    person: Person,
    question: str,
    channel: Channel,
    now: datetime,
) -> None:
    """A recipient's question about an announcement: forwarded to its publisher (queued
    with the audit event, once per question)."""
    text = question.strip()
    if not text:
        raise InvalidInput("Write your question.", field="question")
    if len(text) > MAX_QUESTION:
        raise InvalidInput(f"Keep it under {MAX_QUESTION:,} characters.", field="question")
    announcement = await session.get(Announcement, announcement_id)
    if announcement is None:
        raise NotFound("That announcement no longer exists.")
    publisher = await session.get(Person, announcement.published_by_id)
    partner = await session.get(Partner, person.partner_id) if person.partner_id else None
    event = await audit.record(
        session,
        actor=audit.Actor.person(person),
        channel=channel,
        action="announcement.question",
        subject_type="announcement",
        subject_id=announcement_id,
        after={"question": text[:500]},
        now=now,
    )
    if publisher is None or publisher.revoked_at is not None:
        return
    await notifications.queue(
        session,
        [
            notifications.Message(
                "announcement.question",
                f"announcement.question:{announcement_id}:{event.seq}",
                {
                    "announcement_id": announcement_id,
                    "title": announcement.title,
                    "asker": person.name,
                    "company": partner.name if partner else "",
                    "question": text,
                },
                person=notifications.Recipient.of(publisher),
                hold=False,
                subject=("announcement_question", announcement_id),
            )
        ],
        now=now,
    )


def is_question(text: str | None) -> bool:
    """A reply that asks something (and so goes to the publisher too)."""
    return bool(text) and "?" in (text or "")

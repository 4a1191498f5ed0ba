"""Announcement reminders: before the deadline to those who have not acknowledged, and after
it one list per channel manager of who never did — each once, like every nudge."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select

from bot.domain import publishing
from bot.domain.notifications import Message, Recipient
from bot.scheduler.jobs import JobContext, JobReport, Nudge, job, send_nudges
from store.models import Acknowledgement, Announcement, Notification, Partner, Person

LOOKBACK = timedelta(days=30)


async def _open_announcements(ctx: JobContext, now: datetime) -> list[Announcement]:
    """Published announcements that ask for acknowledgement, deadline near or just passed."""
    latest = max(ctx.settings.ack_reminder_offsets(), default=timedelta(0))
    query = select(Announcement).where(
        Announcement.status == "published",
        col(Announcement.ack_required).is_(True),
        col(Announcement.deadline) <= now + latest,
        col(Announcement.deadline) > now - LOOKBACK,
    )
    async with ctx.read() as session:
        return list((await session.exec(query)).all())


async def _waiting(ctx: JobContext, announcement_id: int) -> list[tuple[Person, str, str]]:
    """Recipients who have not acknowledged: (person, company, how they got it)."""
    async with ctx.read() as session:
        sent = await session.exec(
            select(Notification.person_id, Notification.via).where(
                Notification.subject_kind == publishing.SUBJECT,
                Notification.subject_id == announcement_id,
                Notification.kind == publishing.SUBJECT,
            )
        )
        ways: dict[int, set[str]] = {}
        for person_id, via in sent.all():
            if person_id is not None:
                ways.setdefault(person_id, set()).add(via)
        acked = await session.exec(
            select(Acknowledgement.person_id).where(
                Acknowledgement.announcement_id == announcement_id
            )
        )
        waiting = set(ways) - set(acked.all())
        if not waiting:
            return []
        people = await session.exec(
            select(Person, Partner.name)
            .join(Partner, col(Partner.id) == col(Person.partner_id))
            .where(col(Person.id).in_(waiting), col(Person.revoked_at).is_(None))
        )
        return [
            (person, company, "slack" if "slack" in ways[person.id or 0] else "email")
            for person, company in people.all()
        ]


@job("announcement-reminders")
async def reminders(ctx: JobContext, now: datetime) -> JobReport:
    """At each `PARTNERBOT_ACK_REMINDERS` point before the deadline, remind whoever has not
    acknowledged (a reminder past the deadline is skipped); reminders stop once they do."""
    report = JobReport("announcement-reminders")
    offsets = ctx.settings.ack_reminder_offsets()
    nudges = []
    for announcement in await _open_announcements(ctx, now):
        assert announcement.deadline is not None
        moments = [
            m for m in publishing.reminder_moments(announcement.deadline, offsets) if m <= now
        ]
        if not moments:
            continue
        due = moments[-1]  # the latest point reached; earlier ones were (or are now) superseded
        payload = {"announcement_id": announcement.id, "title": announcement.title}
        for person, _company, via in await _waiting(ctx, announcement.id or 0):
            kind, subject = (
                "announcement.reminder",
                f"announcement:{announcement.id}:person:{person.id}",
            )
            message = Message(
                kind,
                f"{kind}:{announcement.id}:{person.id}:{due.isoformat()}",
                payload,
                person=Recipient.of(person),
                via=via,
                subject=(publishing.SUBJECT, announcement.id or 0),
            )
            skip = "the deadline has passed" if now >= announcement.deadline else None
            nudges.append(Nudge(kind, subject, due.isoformat(), [message], skip=skip))
    await send_nudges(ctx.db, nudges, report, now)
    return report


@job("announcement-missed")
async def missed(ctx: JobContext, now: datetime) -> JobReport:
    """After the deadline, each partner's channel manager (or the publisher) gets one list of
    who never acknowledged."""
    report = JobReport("announcement-missed")
    nudges = []
    for announcement in await _open_announcements(ctx, now):
        assert announcement.deadline is not None
        if announcement.deadline > now:
            continue
        by_manager: dict[int, list[dict[str, Any]]] = {}
        async with ctx.read() as session:
            managers = {
                p.id: p.channel_manager_id for p in (await session.exec(select(Partner))).all()
            }
            publisher = await session.get(Person, announcement.published_by_id)
        for person, company, _via in await _waiting(ctx, announcement.id or 0):
            manager_id = managers.get(person.partner_id) or announcement.published_by_id
            by_manager.setdefault(manager_id, []).append({"name": person.name, "company": company})
        async with ctx.read() as session:
            people = {
                p.id: p
                for p in (
                    await session.exec(select(Person).where(col(Person.id).in_(set(by_manager))))
                ).all()
            }
        for manager_id, names in by_manager.items():
            recipient = people.get(manager_id) or publisher
            if recipient is None:
                continue
            kind, subject = (
                "announcement.missed",
                f"announcement:{announcement.id}:manager:{manager_id}",
            )
            payload = {
                "announcement_id": announcement.id,
                "title": announcement.title,
                "people": sorted(names, key=lambda n: (n["company"], n["name"])),
            }
            message = Message(
                kind,
                f"{kind}:{announcement.id}:{manager_id}",
                payload,
                person=Recipient.of(recipient),
                subject=(publishing.SUBJECT, announcement.id or 0),
            )
            nudges.append(Nudge(kind, subject, announcement.deadline.isoformat(), [message]))
    await send_nudges(ctx.db, nudges, report, now)
    return report

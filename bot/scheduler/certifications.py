"""Re-certification: nudges 30 and 7 days before a certification expires (a DM with `Start
training`, or the quiz by email), and at expiry the rights lapse, the partner company's CRM
record hears of it and its channel manager is told — each once, like every nudge.

Only a person's latest certification of a name counts: one renewed early is not nudged or
expired again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import audit, crm_records, training
from bot.domain.notifications import Message, Recipient
from bot.scheduler.jobs import JobContext, JobReport, Nudge, job, recorded_keys, send_nudges
from bot.views.training import SUBJECT
from store.models import Certification, Channel, Partner, Person, TrainingModule

REMINDER_DAYS = (30, 7)
LOOKBACK = timedelta(days=30)  # an expiry missed for longer than this (downtime) is not acted on


@dataclass(frozen=True)
class Due:
    """A certification that fell due, with its holder and company."""

    certification: Certification
    person: Person
    partner: Partner | None


async def _current(ctx: JobContext, start: datetime, end: datetime) -> list[Due]:
    """Certifications expiring in (start, end] that are each holder's latest of that name."""
    newer = aliased(Certification)
    later = (
        select(newer.id)
        .where(
            newer.person_id == Certification.person_id,
            newer.name == Certification.name,
            col(newer.revoked_at).is_(None),
            newer.expires_at > Certification.expires_at,
        )
        .exists()
    )
    query = (
        select(Certification, Person, Partner)
        .join(Person, col(Person.id) == col(Certification.person_id))
        .outerjoin(Partner, col(Partner.id) == col(Certification.partner_id))
        .where(
            col(Certification.expires_at) > start,
            col(Certification.expires_at) <= end,
            col(Certification.revoked_at).is_(None),
            ~later,
        )
    )
    async with ctx.read() as session:
        return [Due(c, p, partner) for c, p, partner in (await session.exec(query)).all()]


async def _renewing_module(
    ctx: JobContext, due: Due, cache: dict[tuple[str, int], TrainingModule | None]
) -> TrainingModule | None:
    """The module that renews the certification for this person: the one that granted it if
    it is still offered, else another offered module granting the same name."""
    key = (due.certification.name, due.partner.id if due.partner and due.partner.id else 0)
    if key not in cache:
        async with ctx.read() as session:
            granting = (
                await training.modules_granting(session, {due.certification.name}, due.partner)
                if due.partner is not None
                else {}
            )
        modules = granting.get(due.certification.name) or []
        by_id = {m.id: m for m in modules}
        cache[key] = by_id.get(due.certification.module_id) or (modules[0] if modules else None)
    return cache[key]


def _facts(due: Due, module: TrainingModule | None) -> dict[str, Any]:
    return {
        "module_id": module.id if module else None,
        "title": module.title if module else "",
        "certification": due.certification.name,
        "expires_at": due.certification.expires_at.isoformat(),
        "person": due.person.name,
        "company": due.partner.name if due.partner else "",
        "products": list(module.products) if module else [],
    }


@job("certification-reminders")
async def reminders(ctx: JobContext, now: datetime) -> JobReport:
    """30 and 7 days before a certification expires, its holder is asked to take the module
    again (the latest point reached only: after downtime, one nudge, not two)."""
    report = JobReport("certification-reminders")
    soonest = max(REMINDER_DAYS)
    found = await _current(ctx, now, now + timedelta(days=soonest))
    subjects = [f"certification:{due.certification.id}" for due in found]
    async with ctx.read() as session:
        done = await recorded_keys(session, "certification.reminder", subjects)
    modules: dict[tuple[str, int], TrainingModule | None] = {}
    nudges = []
    for due in found:
        expires = due.certification.expires_at
        reached = [d for d in REMINDER_DAYS if expires - timedelta(days=d) <= now]
        if not reached:
            continue
        days = min(reached)
        subject, due_key = f"certification:{due.certification.id}", f"{days}d"
        if (subject, due_key) in done:
            continue
        module = await _renewing_module(ctx, due, modules)
        skip = None
        if due.person.revoked_at is not None:
            skip = "the holder no longer has access"
        elif module is None:
            skip = "no module offered to them renews it"
        messages = []
        if skip is None and module is not None:
            messages.append(
                Message(
                    "training.recertify",
                    f"training.recertify:{due.certification.id}:{days}",
                    _facts(due, module),
                    person=Recipient.of(due.person),
                    subject=(SUBJECT, module.id or 0),
                )
            )
        nudges.append(Nudge("certification.reminder", subject, due_key, messages, skip=skip))
    await send_nudges(ctx.db, nudges, report, now)
    return report


def _lapse(due: Due, now: datetime) -> Callable[[AsyncSession], Awaitable[None]]:
    """At expiry, in the nudge's transaction: the company's CRM properties (its certifications
    in force) and timeline, and the audit log."""

    async def write(session: AsyncSession) -> None:
        certification, person = due.certification, due.person
        if due.partner is not None:
            await crm_records.queue_partner_properties(session, due.partner, now=now)
        await crm_records.queue_company_note(
            session,
            person,
            subject=f"Certification expired: {certification.name}",
            text=f"{person.name}'s {certification.name} certification expired on "
            f"{certification.expires_at.date().isoformat()}.",
            at=now,
            key=f"certification.expired:{certification.id}",
        )
        await audit.record(
            session,
            actor=audit.Actor.system("scheduler"),
            channel=Channel.SCHEDULER,
            action="certification.expired",
            subject_type="certification",
            subject_id=certification.id,
            after={"name": certification.name, "person": person.email},
            now=now,
        )

    return write


@job("certification-expiry")
async def expiry(ctx: JobContext, now: datetime) -> JobReport:
    """A certification that expired: its rights lapse (registration checks validity at the
    moment), the company's CRM record is updated, the channel manager (else the deal desk)
    and the holder are told."""
    report = JobReport("certification-expiry")
    found = await _current(ctx, now - LOOKBACK, now)
    subjects = [f"certification:{due.certification.id}" for due in found]
    async with ctx.read() as session:
        done = await recorded_keys(session, "certification.expired", subjects)
        manager_ids = {d.partner.channel_manager_id for d in found if d.partner}
        managers = {
            m.id: m
            for m in (
                await session.exec(select(Person).where(col(Person.id).in_(manager_ids)))
            ).all()
        }
    modules: dict[tuple[str, int], TrainingModule | None] = {}
    nudges = []
    for due in found:
        certification = due.certification
        subject, due_key = f"certification:{certification.id}", certification.expires_at.isoformat()
        if (subject, due_key) in done:
            continue
        module = await _renewing_module(ctx, due, modules)
        facts = _facts(due, module)
        key = f"certification.expired:{certification.id}"
        manager = managers.get(due.partner.channel_manager_id) if due.partner else None
        messages = []
        if manager is not None and manager.revoked_at is None:
            messages.append(
                Message("certification.expired", key, facts, person=Recipient.of(manager))
            )
        elif ctx.settings.deal_desk_channel:
            messages.append(
                Message(
                    "certification.expired",
                    key,
                    facts,
                    channel=ctx.settings.deal_desk_channel,
                    hold=False,
                )
            )
        if module is not None and due.person.revoked_at is None:
            messages.append(
                Message(
                    "training.recertify",
                    f"training.recertify:{certification.id}:expired",
                    facts | {"expired": True},
                    person=Recipient.of(due.person),
                    subject=(SUBJECT, module.id or 0),
                )
            )
        nudges.append(
            Nudge("certification.expired", subject, due_key, messages, also=_lapse(due, now))
        )
    await send_nudges(ctx.db, nudges, report, now)
    return report

"""Registration deadlines: protection ending and ended, approvals waiting, deals gone quiet.

Each job reads what fell due with one index-backed query, bounded below by a look-back so a
sweep stays small at any size (a nudge that fell due during downtime longer than the
look-back is not sent).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import aliased
from sqlmodel import col, select

from bot.domain import decisions, notifications
from bot.domain.notifications import Message
from bot.scheduler.jobs import JobContext, JobReport, Nudge, job, send_nudges
from store.models import DealRegistration, DealStatus, Partner, Person

LOOKBACK = timedelta(days=30)
EXPIRE_BATCH = 200


def _deal_facts(deal: DealRegistration, partner: Partner | None = None) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "deal_id": deal.id,
        "customer": deal.customer_company,
        "domain": deal.normalized_domain,
        "status": deal.status,
        "protection_expires_at": (
            deal.protection_expires_at.isoformat() if deal.protection_expires_at else None
        ),
        "sla_due_at": deal.sla_due_at.isoformat() if deal.sla_due_at else None,
        "submitted_at": deal.submitted_at.isoformat(),
        "last_activity_at": deal.last_activity_at.isoformat(),
    }
    if partner is not None:
        facts["partner"] = partner.name
    return facts


def _to_desk_or_manager(
    ctx: JobContext, kind: str, key: str, payload: dict[str, Any], manager: Person | None
) -> list[Message]:
    """The partner's channel manager by DM; without one, the deal desk channel."""
    if manager is not None and manager.revoked_at is None:
        return [Message(kind, key, payload, person=manager)]
    if ctx.settings.deal_desk_channel:
        return [Message(kind, key, payload, channel=ctx.settings.deal_desk_channel, hold=False)]
    return []


async def _with_people(
    ctx: JobContext, *conditions: Any
) -> Sequence[tuple[DealRegistration, Partner, Person, Person | None]]:
    """Deals meeting `conditions`, with their partner, the person who registered and the
    partner's channel manager."""
    manager = aliased(Person)
    query = (
        select(DealRegistration, Partner, Person, manager)
        .where(*conditions)
        .join(Partner, col(Partner.id) == col(DealRegistration.partner_id))
        .join(Person, col(Person.id) == col(DealRegistration.registered_by_id))
        .outerjoin(manager, col(manager.id) == col(Partner.channel_manager_id))
    )
    async with ctx.db.read() as session:
        return (await session.exec(query)).all()


@job("protection-expiry-reminders")
async def expiry_reminders(ctx: JobContext, now: datetime) -> JobReport:
    """`PARTNERBOT_EXPIRY_REMINDER_DAYS` before protection ends, tell the partner (with
    `Request extension`, or by email where a reply `extend 30` works)."""
    report = JobReport("protection-expiry-reminders")
    ahead = timedelta(days=ctx.settings.expiry_reminder_days)
    due = (
        DealRegistration.status == DealStatus.APPROVED,
        col(DealRegistration.protection_expires_at) <= now + ahead,
        col(DealRegistration.protection_expires_at) > now - LOOKBACK,
    )
    nudges = []
    for deal, partner, partner_user, _manager in await _with_people(ctx, *due):
        expires = deal.protection_expires_at
        assert expires is not None
        kind, when = "deal.expiry_reminder", expires.isoformat()
        payload = _deal_facts(deal, partner) | {"days": ctx.settings.expiry_reminder_days}
        skip = (
            "protection has already ended"
            if expires <= now
            else "the person who registered it has no access any more"
            if partner_user.revoked_at is not None
            else None
        )
        message = Message(kind, f"{kind}:{deal.id}:{when}", payload, person=partner_user)
        nudges.append(Nudge(kind, f"deal:{deal.id}", when, [message], skip=skip))
    await send_nudges(ctx.db, nudges, report, now)
    return report


@job("protection-expiry")
async def expirations(ctx: JobContext, now: datetime) -> JobReport:
    """At `protection_expires_at` the registration expires and the customer is released;
    the partner and the deal desk are told, the CRM deal is updated through the outbox."""
    report = JobReport("protection-expiry")
    query = (
        select(DealRegistration.id)
        .where(
            DealRegistration.status == DealStatus.APPROVED,
            col(DealRegistration.protection_expires_at) <= now,
        )
        .order_by(col(DealRegistration.protection_expires_at))
        .limit(EXPIRE_BATCH)
    )
    while True:
        async with ctx.db.read() as session:
            ids = [deal_id for deal_id in (await session.exec(query)).all() if deal_id]
        for deal_id in ids:
            async with ctx.db.session() as session:
                outcome = await decisions.expire(session, deal_id=deal_id, now=now)
                if outcome is None:
                    continue
                report.changed += 1
                facts = _deal_facts(outcome.deal, outcome.partner)
                messages = []
                if outcome.registered_by.revoked_at is None:
                    messages.append(
                        Message(
                            "deal.expired",
                            f"deal.expired:{deal_id}",
                            facts,
                            person=outcome.registered_by,
                        )
                    )
                if ctx.settings.deal_desk_channel:
                    messages.append(
                        Message(
                            "deal.expired_desk",
                            f"deal.expired_desk:{deal_id}",
                            facts,
                            channel=ctx.settings.deal_desk_channel,
                            hold=False,
                        )
                    )
                report.sent += await notifications.queue(session, messages, now=now)
        if len(ids) < EXPIRE_BATCH:
            return report


def _waiting(now: datetime, until: datetime) -> tuple[Any, ...]:
    """Registrations waiting for a manager's decision whose SLA moment is `until` or earlier."""
    return (
        DealRegistration.status == DealStatus.PENDING,
        col(DealRegistration.sla_due_at) <= until,
        col(DealRegistration.sla_due_at) > now - LOOKBACK,
    )


@job("approval-sla-reminders")
async def sla_reminders(ctx: JobContext, now: datetime) -> JobReport:
    """Half-way through `PARTNERBOT_APPROVAL_SLA_HOURS`, remind the partner's channel manager
    (or the deal desk when there is none)."""
    report = JobReport("approval-sla-reminders")
    half = timedelta(hours=ctx.settings.approval_sla_hours / 2)
    nudges = []
    for deal, partner, _user, manager in await _with_people(ctx, *_waiting(now, now + half)):
        assert deal.sla_due_at is not None
        kind, when = "deal.sla_reminder", deal.sla_due_at.isoformat()
        messages = _to_desk_or_manager(
            ctx, kind, f"{kind}:{deal.id}:{when}", _deal_facts(deal, partner), manager
        )
        skip = (
            "the SLA has passed: the escalation has taken over"
            if deal.sla_due_at <= now
            else None
            if messages
            else "no channel manager and no deal desk channel"
        )
        nudges.append(Nudge(kind, f"deal:{deal.id}", when, messages, skip=skip))
    await send_nudges(ctx.db, nudges, report, now)
    return report


@job("approval-sla-escalations")
async def sla_escalations(ctx: JobContext, now: datetime) -> JobReport:
    """At the SLA, escalate to the deal desk with one message naming the overdue items (not
    held for working hours); without a desk channel, to each item's channel manager."""
    report = JobReport("approval-sla-escalations")
    desk = ctx.settings.deal_desk_channel
    nudges: list[Nudge] = []
    overdue: dict[str, dict[str, Any]] = {}
    for deal, partner, _user, manager in await _with_people(ctx, *_waiting(now, now)):
        assert deal.sla_due_at is not None
        kind, when = "deal.sla_escalation", deal.sla_due_at.isoformat()
        facts = _deal_facts(deal, partner)
        messages = (
            []
            if desk
            else [
                Message(kind, f"{kind}:{deal.id}:{when}", {"items": [facts]}, person=m, hold=False)
                for m in ([manager] if manager is not None and manager.revoked_at is None else [])
            ]
        )
        skip = None if desk or messages else "no deal desk channel and no channel manager"
        nudge = Nudge(kind, f"deal:{deal.id}", when, messages, skip=skip)
        nudges.append(nudge)
        overdue[nudge.subject_key] = facts
    await send_nudges(
        ctx.db,
        nudges,
        report,
        now,
        combine=lambda fresh: _escalation(desk, fresh, overdue) if desk else [],
    )
    return report


def _escalation(
    desk: str, fresh: Sequence[Nudge], facts: dict[str, dict[str, Any]]
) -> list[Message]:
    """One message to the deal desk naming the items that went overdue (keyed by them)."""
    if not fresh:
        return []
    ids = sorted(nudge.subject_key.removeprefix("deal:") for nudge in fresh)
    digest = hashlib.sha256(",".join(ids).encode()).hexdigest()[:32]
    items = [facts[nudge.subject_key] for nudge in fresh]
    return [
        Message(
            "deal.sla_escalation",
            f"deal.sla_escalation:{digest}",
            {"items": items},
            channel=desk,
            hold=False,
        )
    ]


@job("inactive-registrations")
async def inactivity(ctx: JobContext, now: datetime) -> JobReport:
    """Approved registrations with no activity for `PARTNERBOT_INACTIVITY_DAYS` are flagged
    once to the partner's channel manager (or the deal desk), with a button to open them."""
    report = JobReport("inactive-registrations")
    quiet_since = now - timedelta(days=ctx.settings.inactivity_days)
    quiet = (
        DealRegistration.status == DealStatus.APPROVED,
        col(DealRegistration.last_activity_at) <= quiet_since,
        col(DealRegistration.last_activity_at) > quiet_since - LOOKBACK,
        col(DealRegistration.protection_expires_at) > now,
    )
    nudges = []
    for deal, partner, _user, manager in await _with_people(ctx, *quiet):
        kind, when = "deal.inactive", deal.last_activity_at.isoformat()
        payload = _deal_facts(deal, partner) | {"days": ctx.settings.inactivity_days}
        messages = _to_desk_or_manager(ctx, kind, f"{kind}:{deal.id}:{when}", payload, manager)
        skip = None if messages else "no channel manager and no deal desk channel"
        nudges.append(Nudge(kind, f"deal:{deal.id}", when, messages, skip=skip))
    await send_nudges(ctx.db, nudges, report, now)
    return report

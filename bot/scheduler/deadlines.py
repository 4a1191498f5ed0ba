"""Registration deadlines: protection ending and ended, approvals waiting, deals gone quiet.

Each nudge job works in two steps. First it finds what fell due: one index-backed query for
the ids and due moments (bounded below by a look-back, so a sweep stays small at any size;
a nudge that fell due during downtime longer than the look-back is not sent) and one
look-up of the nudges already recorded. Then it reads, for the fresh ones only, who to tell
and what to say. `sweep` is the first step of every job, for the benchmark.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from bot.domain import decisions, notifications
from bot.domain.notifications import Message, Recipient
from bot.scheduler.jobs import JobContext, JobReport, Nudge, job, recorded_keys, send_nudges
from store.models import DealRegistration, DealStatus, Partner, Person

LOOKBACK = timedelta(days=30)
EXPIRE_BATCH = 200


@dataclass(frozen=True)
class DueDeal:
    """What the jobs read of a registration: its facts and who to tell (a few columns, not
    four whole rows: a sweep reads many)."""

    id: int
    customer: str
    domain: str
    status: str
    protection_expires_at: datetime | None
    sla_due_at: datetime | None
    submitted_at: datetime
    last_activity_at: datetime
    partner: str
    registered_by: Recipient
    registered_by_revoked: bool
    manager: Recipient | None

    def facts(self) -> dict[str, Any]:
        """The notification payload: plain values."""
        return {
            "deal_id": self.id,
            "customer": self.customer,
            "domain": self.domain,
            "status": self.status,
            "partner": self.partner,
            "protection_expires_at": (
                self.protection_expires_at.isoformat() if self.protection_expires_at else None
            ),
            "sla_due_at": self.sla_due_at.isoformat() if self.sla_due_at else None,
            "submitted_at": self.submitted_at.isoformat(),
            "last_activity_at": self.last_activity_at.isoformat(),
        }


def _to_desk_or_manager(
    ctx: JobContext, kind: str, key: str, payload: dict[str, Any], manager: Recipient | None
) -> list[Message]:
    """The partner's channel manager by DM; without one, the deal desk channel."""
    if manager is not None:
        return [Message(kind, key, payload, person=manager)]
    if ctx.settings.deal_desk_channel:
        return [Message(kind, key, payload, channel=ctx.settings.deal_desk_channel, hold=False)]
    return []


@cache
def _deals_with_people() -> Any:
    """The registrations' columns the jobs read, joined to their partner, the person who
    registered and the partner's channel manager (built once: a select this wide costs
    milliseconds to construct)."""
    deal, user, manager = DealRegistration, aliased(Person), aliased(Person)
    return (
        select(  # type: ignore[call-overload,misc]  # sqlmodel types select() up to 4 columns
            deal.id,
            deal.customer_company,
            deal.normalized_domain,
            deal.status,
            deal.protection_expires_at,
            deal.sla_due_at,
            deal.submitted_at,
            deal.last_activity_at,
            Partner.name,
            user.id,
            user.slack_user_id,
            user.revoked_at,
            manager.id,
            manager.slack_user_id,
            manager.revoked_at,
        )
        .join(Partner, col(Partner.id) == col(deal.partner_id))
        .join(user, col(user.id) == col(deal.registered_by_id))
        .outerjoin(manager, col(manager.id) == col(Partner.channel_manager_id))
    )


@dataclass(frozen=True)
class Deadline:
    """A nudge kind: which registrations it is for as of `now`, and which of their moments
    it is due by (that moment is the nudge's due key)."""

    kind: str
    moment: Any  # a DealRegistration column
    where: Callable[[JobContext, datetime], tuple[Any, ...]]


async def fresh_ids(ctx: JobContext, deadline: Deadline, now: datetime) -> list[int]:
    """Registrations whose nudge of this kind fell due and is not recorded yet."""
    query = select(DealRegistration.id, deadline.moment).where(*deadline.where(ctx, now))
    async with ctx.read() as session:
        rows = [(i or 0, moment) for i, moment in (await session.exec(query)).all()]
        if not rows:
            return []
        done = await recorded_keys(session, deadline.kind, [f"deal:{i}" for i, _ in rows])
    return [i for i, moment in rows if (f"deal:{i}", moment.isoformat()) not in done]


async def _due_deals(ctx: JobContext, *conditions: Any) -> list[DueDeal]:
    """Registrations meeting `conditions`, with who to tell (one query, few columns)."""
    query = _deals_with_people().where(*conditions)
    async with ctx.read() as session:
        rows = (await session.exec(query)).all()
    return [
        DueDeal(
            id=row[0],
            customer=row[1],
            domain=row[2],
            status=row[3],
            protection_expires_at=row[4],
            sla_due_at=row[5],
            submitted_at=row[6],
            last_activity_at=row[7],
            partner=row[8],
            registered_by=Recipient(row[9], row[10]),
            registered_by_revoked=row[11] is not None,
            manager=Recipient(row[12], row[13]) if row[12] and row[14] is None else None,
        )
        for row in rows
    ]


@job("protection-expiry-reminders")
async def expiry_reminders(ctx: JobContext, now: datetime) -> JobReport:
    """`PARTNERBOT_EXPIRY_REMINDER_DAYS` before protection ends, tell the partner (with
    `Request extension`, or by email where a reply `extend 30` works)."""
    report = JobReport("protection-expiry-reminders")
    await send_nudges(ctx.db, await expiry_reminder_nudges(ctx, now), report, now)
    return report


def _not_marked(mark: Any, moment: Any) -> Any:
    """Not yet nudged about this moment (the mark holds the moment last nudged about)."""
    return or_(col(mark).is_(None), col(mark) != col(moment))


def _ending(ctx: JobContext, now: datetime) -> tuple[Any, ...]:
    ahead = timedelta(days=ctx.settings.expiry_reminder_days)
    return (
        DealRegistration.status == DealStatus.APPROVED,
        col(DealRegistration.protection_expires_at) <= now + ahead,
        col(DealRegistration.protection_expires_at) > now - LOOKBACK,
        or_(
            col(DealRegistration.expiry_reminded_for).is_(None),
            col(DealRegistration.expiry_reminded_for)
            != col(DealRegistration.protection_expires_at),
        ),
    )


EXPIRY_REMINDER = Deadline("deal.expiry_reminder", DealRegistration.protection_expires_at, _ending)


async def expiry_reminder_nudges(ctx: JobContext, now: datetime) -> list[Nudge]:
    """The expiry reminders that fell due and are not recorded yet."""
    ids = await fresh_ids(ctx, EXPIRY_REMINDER, now)
    nudges = []
    for deal in await _due_deals(ctx, col(DealRegistration.id).in_(ids)) if ids else []:
        expires = deal.protection_expires_at
        assert expires is not None
        kind, when = "deal.expiry_reminder", expires.isoformat()
        payload = deal.facts() | {"days": ctx.settings.expiry_reminder_days}
        skip = (
            "protection has already ended"
            if expires <= now
            else "the person who registered it has no access any more"
            if deal.registered_by_revoked
            else None
        )
        message = Message(kind, f"{kind}:{deal.id}:{when}", payload, person=deal.registered_by)
        mark = _mark(deal.id, expiry_reminded_for=expires)
        nudges.append(Nudge(kind, f"deal:{deal.id}", when, [message], skip=skip, mark=mark))
    return nudges


@job("protection-expiry")
async def expirations(ctx: JobContext, now: datetime) -> JobReport:
    """At `protection_expires_at` the registration expires and the customer is released;
    the partner and the deal desk are told, the CRM deal is updated through the outbox."""
    report = JobReport("protection-expiry")
    while True:
        ids = await expired_ids(ctx, now)
        for deal_id in ids:
            async with ctx.db.session() as session:
                outcome = await decisions.expire(session, deal_id=deal_id, now=now)
                if outcome is None:
                    continue
                report.changed += 1
                facts = _outcome_facts(outcome)
                messages = []
                if outcome.registered_by.revoked_at is None:
                    messages.append(
                        Message(
                            "deal.expired",
                            f"deal.expired:{deal_id}",
                            facts,
                            person=Recipient.of(outcome.registered_by),
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


def _outcome_facts(outcome: decisions.Outcome) -> dict[str, Any]:
    deal = outcome.deal
    return {
        "deal_id": deal.id,
        "customer": deal.customer_company,
        "domain": deal.normalized_domain,
        "status": deal.status,
        "partner": outcome.partner.name,
        "protection_expires_at": (
            deal.protection_expires_at.isoformat() if deal.protection_expires_at else None
        ),
    }


async def expired_ids(ctx: JobContext, now: datetime) -> list[int]:
    """Approved registrations whose protection has ended, oldest deadline first."""
    query = (
        select(DealRegistration.id)
        .where(
            DealRegistration.status == DealStatus.APPROVED,
            col(DealRegistration.protection_expires_at) <= now,
        )
        .order_by(col(DealRegistration.protection_expires_at))
        .limit(EXPIRE_BATCH)
    )
    async with ctx.read() as session:
        return [deal_id for deal_id in (await session.exec(query)).all() if deal_id]


def _waiting(now: datetime, until: datetime, not_yet: Any) -> tuple[Any, ...]:
    """Registrations waiting for a manager's decision whose SLA moment is `until` or earlier
    and that `not_yet` (a mark column) says were not nudged."""
    return (
        DealRegistration.status == DealStatus.PENDING,
        col(DealRegistration.sla_due_at) <= until,
        col(DealRegistration.sla_due_at) > now - LOOKBACK,
        col(not_yet).is_(None),
    )


SLA_REMINDER = Deadline(
    "deal.sla_reminder",
    DealRegistration.sla_due_at,
    lambda ctx, now: _waiting(
        now,
        now + timedelta(hours=ctx.settings.approval_sla_hours / 2),
        DealRegistration.sla_reminded_at,
    ),
)
SLA_ESCALATION = Deadline(
    "deal.sla_escalation",
    DealRegistration.sla_due_at,
    lambda ctx, now: _waiting(now, now, DealRegistration.sla_escalated_at),
)


def _mark(deal_id: int, **values: Any) -> Any:
    """The statement that marks a registration as nudged, run with the nudge's record."""
    return update(DealRegistration).where(col(DealRegistration.id) == deal_id).values(**values)


@job("approval-sla-reminders")
async def sla_reminders(ctx: JobContext, now: datetime) -> JobReport:
    """Half-way through `PARTNERBOT_APPROVAL_SLA_HOURS`, remind the partner's channel manager
    (or the deal desk when there is none)."""
    report = JobReport("approval-sla-reminders")
    await send_nudges(ctx.db, await sla_reminder_nudges(ctx, now), report, now)
    return report


async def sla_reminder_nudges(ctx: JobContext, now: datetime) -> list[Nudge]:
    """The half-SLA reminders that fell due and are not recorded yet."""
    ids = await fresh_ids(ctx, SLA_REMINDER, now)
    nudges = []
    for deal in await _due_deals(ctx, col(DealRegistration.id).in_(ids)) if ids else []:
        assert deal.sla_due_at is not None
        kind, when = "deal.sla_reminder", deal.sla_due_at.isoformat()
        messages = _to_desk_or_manager(
            ctx, kind, f"{kind}:{deal.id}:{when}", deal.facts(), deal.manager
        )
        skip = (
            "the SLA has passed: the escalation has taken over"
            if deal.sla_due_at <= now
            else None
            if messages
            else "no channel manager and no deal desk channel"
        )
        mark = _mark(deal.id, sla_reminded_at=now)
        nudges.append(Nudge(kind, f"deal:{deal.id}", when, messages, skip=skip, mark=mark))
    return nudges


@job("approval-sla-escalations")
async def sla_escalations(ctx: JobContext, now: datetime) -> JobReport:
    """At the SLA, escalate to the deal desk with one message naming the overdue items (not
    held for working hours); without a desk channel, to each item's channel manager."""
    report = JobReport("approval-sla-escalations")
    desk = ctx.settings.deal_desk_channel
    nudges, overdue = await sla_escalation_nudges(ctx, now)
    await send_nudges(
        ctx.db,
        nudges,
        report,
        now,
        combine=lambda fresh: _escalation(desk, fresh, overdue) if desk else [],
    )
    return report


async def sla_escalation_nudges(
    ctx: JobContext, now: datetime
) -> tuple[list[Nudge], dict[str, dict[str, Any]]]:
    """The escalations that fell due and are not recorded yet, and each overdue item's facts
    by subject."""
    desk = ctx.settings.deal_desk_channel
    nudges: list[Nudge] = []
    overdue: dict[str, dict[str, Any]] = {}
    ids = await fresh_ids(ctx, SLA_ESCALATION, now)
    for deal in await _due_deals(ctx, col(DealRegistration.id).in_(ids)) if ids else []:
        assert deal.sla_due_at is not None
        kind, when = "deal.sla_escalation", deal.sla_due_at.isoformat()
        facts = deal.facts()
        messages = (
            []
            if desk
            else [
                Message(kind, f"{kind}:{deal.id}:{when}", {"items": [facts]}, person=m, hold=False)
                for m in ([deal.manager] if deal.manager is not None else [])
            ]
        )
        skip = None if desk or messages else "no deal desk channel and no channel manager"
        mark = _mark(deal.id, sla_escalated_at=now)
        nudge = Nudge(kind, f"deal:{deal.id}", when, messages, skip=skip, mark=mark)
        nudges.append(nudge)
        overdue[nudge.subject_key] = facts
    return nudges, overdue


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
    await send_nudges(ctx.db, await inactivity_nudges(ctx, now), report, now)
    return report


def _quiet(ctx: JobContext, now: datetime) -> tuple[Any, ...]:
    quiet_since = now - timedelta(days=ctx.settings.inactivity_days)
    return (
        DealRegistration.status == DealStatus.APPROVED,
        col(DealRegistration.last_activity_at) <= quiet_since,
        col(DealRegistration.last_activity_at) > quiet_since - LOOKBACK,
        col(DealRegistration.protection_expires_at) > now,
        _not_marked(DealRegistration.inactivity_flagged_for, DealRegistration.last_activity_at),
    )


INACTIVITY = Deadline("deal.inactive", DealRegistration.last_activity_at, _quiet)


async def inactivity_nudges(ctx: JobContext, now: datetime) -> list[Nudge]:
    """The inactivity flags that fell due and are not recorded yet."""
    ids = await fresh_ids(ctx, INACTIVITY, now)
    nudges = []
    for deal in await _due_deals(ctx, col(DealRegistration.id).in_(ids)) if ids else []:
        kind, when = "deal.inactive", deal.last_activity_at.isoformat()
        payload = deal.facts() | {"days": ctx.settings.inactivity_days}
        messages = _to_desk_or_manager(ctx, kind, f"{kind}:{deal.id}:{when}", payload, deal.manager)
        skip = None if messages else "no channel manager and no deal desk channel"
        mark = _mark(deal.id, inactivity_flagged_for=deal.last_activity_at)
        nudges.append(Nudge(kind, f"deal:{deal.id}", when, messages, skip=skip, mark=mark))
    return nudges


async def sweep(ctx: JobContext, now: datetime) -> dict[str, int]:
    """What every deadline job would act on now, without acting: the first step of each job
    (its index-backed query and the look-up of the nudges recorded), in one read session."""
    async with ctx.db.read() as session:
        shared = replace(ctx, reader=session)
        due = {"expirations": len(await expired_ids(shared, now))}
        for name, deadline in (
            ("expiry-reminders", EXPIRY_REMINDER),
            ("sla-reminders", SLA_REMINDER),
            ("sla-escalations", SLA_ESCALATION),
            ("inactive", INACTIVITY),
        ):
            due[name] = len(await fresh_ids(shared, deadline, now))
    return due

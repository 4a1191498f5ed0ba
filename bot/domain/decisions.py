"""A registration's life after submission: decisions, questions, withdrawal, extensions.

Every transition is a conditional UPDATE (`… WHERE status IN (…)`), so two managers
clicking at once, or one double-clicking, give exactly one decision; the loser is told
who decided and when. Every change is audited and queues its CRM write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import audit, outbox
from bot.domain.access import require_role
from bot.domain.deals import deal_for
from bot.errors import InvalidInput, NotFound, UserFacingError
from bot.settings import Settings
from crm.base import DealRecord, RecordType, TimelineNote
from store.models import (
    Channel,
    DealExtension,
    DealMessage,
    DealRegistration,
    DealStatus,
    Partner,
    Person,
    Role,
    Tier,
)

OPEN = (DealStatus.PENDING, DealStatus.INFO_REQUESTED)
EXTENSION_CHOICES = (15, 30, 60)
DEFAULT_MAX_EXTENSIONS = 2
MANAGERS = (Role.MANAGER, Role.ADMIN)
MAX_MESSAGE = 2000  # a reason, question or answer (the modals allow as much)


def message_text(value: str, *, field: str, missing: str) -> str:
    """A person's free text (reason, question, answer), stripped and bounded; else
    InvalidInput naming the field."""
    text = value.strip()
    if not text:
        raise InvalidInput(missing, field=field)
    if len(text) > MAX_MESSAGE:
        raise InvalidInput(f"Keep it under {MAX_MESSAGE:,} characters.", field=field)
    return text


class AlreadyDecided(UserFacingError):
    """Someone else changed the registration first."""


@dataclass(frozen=True)
class Outcome:
    """A registration after a change, with who is involved (for notifications)."""

    deal: DealRegistration
    partner: Partner
    registered_by: Person
    actor: Person | None  # None: partnerbot itself (the scheduler)

    @property
    def actor_name(self) -> str:
        """Who made the change, as people read it."""
        return self.actor.name if self.actor is not None else "partnerbot"


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "earlier"


async def _outcome(session: AsyncSession, deal_id: int, actor: Person | None) -> Outcome:
    deal = await session.get(DealRegistration, deal_id, populate_existing=True)
    if deal is None:
        raise NotFound("That registration no longer exists.")
    partner = await session.get(Partner, deal.partner_id)
    registered_by = await session.get(Person, deal.registered_by_id)
    assert partner is not None and registered_by is not None  # foreign keys
    return Outcome(deal, partner, registered_by, actor)


async def _already(session: AsyncSession, deal_id: int) -> AlreadyDecided:
    deal = await session.get(DealRegistration, deal_id, populate_existing=True)
    if deal is None:
        return AlreadyDecided("That registration no longer exists.")
    who = await session.get(Person, deal.decided_by_id) if deal.decided_by_id else None
    by = f" by {who.name}" if who else ""
    return AlreadyDecided(
        f"Already {deal.status.replace('_', ' ')}{by} at {_when(deal.decided_at)}."
    )


async def _transition(
    session: AsyncSession, deal_id: int, from_statuses: tuple[str, ...], values: dict[str, Any]
) -> bool:
    result = await session.exec(
        update(DealRegistration)
        .where(col(DealRegistration.id) == deal_id, col(DealRegistration.status).in_(from_statuses))
        .values(**values)
    )
    return bool(result.rowcount)


async def _protection_days(session: AsyncSession, partner: Partner, settings: Settings) -> int:
    tier = await session.get(Tier, partner.tier) if partner.tier else None
    return tier.protection_days if tier and tier.protection_days else settings.protection_days


def crm_deal(deal: DealRegistration, partner: Partner) -> DealRecord:
    """A registration as the CRM's deal, with the partner fields."""
    return DealRecord(
        deal_id=deal.id or 0,
        customer=deal.customer_company,
        domain=deal.normalized_domain,
        partner=partner.name,
        status=deal.status,
        motion=deal.motion,
        amount=deal.estimated_value,
        currency=deal.currency,
        close_date=deal.expected_close_date,
        protection_expires_at=deal.protection_expires_at,
    )


async def _record(
    session: AsyncSession,
    outcome: Outcome,
    *,
    action: str,
    channel: Channel,
    note: str,
    before: dict[str, Any],
    after: dict[str, Any],
    now: datetime,
) -> None:
    """Audit the change and queue the CRM deal update and timeline note, all at `now`."""
    deal, key = outcome.deal, f"deal:{outcome.deal.id}"
    stamp = deal.last_activity_at.isoformat()
    await outbox.enqueue(
        session,
        kind=outbox.OutboxKind.UPSERT_DEAL,
        record_key=key,
        idempotency_key=f"{key}:{action}:{stamp}",
        payload=crm_deal(deal, outcome.partner).to_payload(),
        now=now,
    )
    await outbox.enqueue_note(
        session,
        TimelineNote(
            record_type=RecordType.DEAL,
            record_id=str(deal.id),
            author=outcome.actor_name,
            text=note,
            at=now,  # when it happened (an expiry is no activity of the partner's)
            idempotency_key=f"{key}:{action}:note:{stamp}",
            subject=f"Deal registration: {deal.customer_company}",
        ),
        now=now,
    )
    await audit.record(
        session,
        actor=(
            audit.Actor.person(outcome.actor)
            if outcome.actor is not None
            else audit.Actor.system("scheduler")
        ),
        channel=channel,
        action=action,
        subject_type="deal",
        subject_id=deal.id,
        before=before,
        after=after,
        now=now,
    )


async def _change(
    session: AsyncSession,
    *,
    actor: Person | None,
    deal_id: int,
    from_statuses: tuple[str, ...],
    values: dict[str, Any],
    action: str,
    channel: Channel,
    note: str,
    before: dict[str, Any],
    after: dict[str, Any],
    now: datetime,
) -> Outcome:
    """Apply one transition exactly once at `now`, then audit it and queue its CRM write."""
    if not await _transition(session, deal_id, from_statuses, values):
        raise await _already(session, deal_id)
    outcome = await _outcome(session, deal_id, actor)
    await _record(
        session,
        outcome,
        action=action,
        channel=channel,
        note=note,
        before=before,
        after=after,
        now=now,
    )
    return outcome


async def _converse(
    session: AsyncSession,
    *,
    actor: Person,
    deal_id: int,
    kind: str,
    text: str,
    now: datetime,
    channel: Channel,
    from_statuses: tuple[str, ...],
    to_status: str,
    action: str,
    note: str,
) -> Outcome:
    """Move the registration on and add a question or answer to its history."""
    message = DealMessage(
        deal_id=deal_id,
        author_id=actor.id or 0,
        kind=kind,
        text=text,
        channel=channel,
        created_at=now,
    )
    outcome = await _change(
        session,
        actor=actor,
        deal_id=deal_id,
        from_statuses=from_statuses,
        values={"status": to_status, "last_activity_at": now},
        action=action,
        channel=channel,
        note=note,
        before={"status": from_statuses[0]},
        after={"status": to_status, kind: text},
        now=now,
    )
    session.add(message)
    return outcome


# --- Manager decisions ------------------------------------------------------------------


async def approve(
    session: AsyncSession,
    *,
    manager: Person,
    deal_id: int,
    settings: Settings,
    now: datetime,
    channel: Channel = Channel.SLACK,
) -> Outcome:
    """Approve: protection starts now and lasts the tier's (or the program's) window."""
    require_role(manager, *MANAGERS)
    deal = await session.get(DealRegistration, deal_id)
    if deal is None:
        raise NotFound("That registration no longer exists.")
    partner = await session.get(Partner, deal.partner_id)
    assert partner is not None
    expires = now + timedelta(days=await _protection_days(session, partner, settings))
    values = {
        "status": DealStatus.APPROVED,
        "decided_at": now,
        "decided_by_id": manager.id,
        "protection_started_at": now,
        "protection_expires_at": expires,
        "last_activity_at": now,
    }
    return await _change(
        session,
        actor=manager,
        deal_id=deal_id,
        from_statuses=OPEN,
        values=values,
        action="deal.approved",
        channel=channel,
        note=f"Approved by {manager.name}; protected until {_when(expires)}.",
        before={"status": deal.status},
        after={"status": "approved", "protection_expires_at": expires},
        now=now,
    )


async def decline(
    session: AsyncSession,
    *,
    manager: Person,
    deal_id: int,
    reason: str,
    now: datetime,
    channel: Channel = Channel.SLACK,
) -> Outcome:
    """Decline with a reason the partner will read."""
    require_role(manager, *MANAGERS)
    reason = message_text(reason, field="reason", missing="Give the partner a reason.")
    if len(reason) < 3:
        raise InvalidInput("Give the partner a reason.", field="reason")
    values = {
        "status": DealStatus.DECLINED,
        "decided_at": now,
        "decided_by_id": manager.id,
        "decline_reason": reason,
        "last_activity_at": now,
    }
    return await _change(
        session,
        actor=manager,
        deal_id=deal_id,
        from_statuses=OPEN,
        values=values,
        action="deal.declined",
        channel=channel,
        note=f"Declined by {manager.name}: {reason}",
        before={"status": "open"},
        after={"status": "declined", "reason": reason},
        now=now,
    )


async def request_info(
    session: AsyncSession,
    *,
    manager: Person,
    deal_id: int,
    question: str,
    now: datetime,
    channel: Channel = Channel.SLACK,
) -> Outcome:
    """Ask the partner a question; the registration waits for the answer."""
    require_role(manager, *MANAGERS)
    question = message_text(
        question, field="question", missing="Write the question for the partner."
    )
    await deal_for(session, manager, deal_id)
    return await _converse(
        session,
        actor=manager,
        deal_id=deal_id,
        kind="question",
        text=question,
        now=now,
        channel=channel,
        from_statuses=OPEN,
        to_status=DealStatus.INFO_REQUESTED,
        action="deal.info_requested",
        note=f"{manager.name} asked: {question}",
    )


# --- Partner actions ----------------------------------------------------------------------


async def _own_deal(session: AsyncSession, partner_user: Person, deal_id: int) -> DealRegistration:
    require_role(partner_user, Role.PARTNER)
    return await deal_for(session, partner_user, deal_id)


async def last_question(session: AsyncSession, person: Person, deal_id: int) -> DealMessage | None:
    """The latest question a manager asked about a registration the person may see."""
    await deal_for(session, person, deal_id)
    query = (
        select(DealMessage)
        .where(DealMessage.deal_id == deal_id, DealMessage.kind == "question")
        .order_by(col(DealMessage.id).desc())
    )
    return (await session.exec(query)).first()


async def answer(
    session: AsyncSession,
    *,
    partner_user: Person,
    deal_id: int,
    text: str,
    now: datetime,
    channel: Channel = Channel.SLACK,
) -> Outcome:
    """The partner answers a manager's question; the registration goes back to the queue."""
    await _own_deal(session, partner_user, deal_id)
    text = message_text(text, field="answer", missing="Write your answer.")
    return await _converse(
        session,
        actor=partner_user,
        deal_id=deal_id,
        kind="answer",
        text=text,
        now=now,
        channel=channel,
        from_statuses=(DealStatus.INFO_REQUESTED,),
        to_status=DealStatus.PENDING,
        action="deal.info_answered",
        note=f"{partner_user.name} answered: {text}",
    )


async def withdraw(
    session: AsyncSession,
    *,
    partner_user: Person,
    deal_id: int,
    now: datetime,
    channel: Channel = Channel.SLACK,
) -> Outcome:
    """The partner withdraws a registration; a protected customer is released."""
    deal = await _own_deal(session, partner_user, deal_id)
    return await _change(
        session,
        actor=partner_user,
        deal_id=deal_id,
        from_statuses=(*OPEN, DealStatus.APPROVED),
        values={"status": DealStatus.WITHDRAWN, "last_activity_at": now},
        action="deal.withdrawn",
        channel=channel,
        note=f"Withdrawn by {partner_user.name}.",
        before={"status": deal.status},
        after={"status": "withdrawn"},
        now=now,
    )


# --- Extensions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ExtensionOutcome:
    """An extension request or decision, with its registration."""

    extension: DealExtension
    outcome: Outcome


async def request_extension(
    session: AsyncSession,
    *,
    partner_user: Person,
    deal_id: int,
    days: int,
    settings: Settings,
    now: datetime,
    reason: str = "",
    channel: Channel = Channel.SLACK,
) -> ExtensionOutcome:
    """Ask for more protection on an approved registration (15, 30 or 60 days, capped), with
    an optional reason for the manager."""
    deal = await _own_deal(session, partner_user, deal_id)
    reason = reason.strip()
    if len(reason) > MAX_MESSAGE:
        raise InvalidInput(f"Keep it under {MAX_MESSAGE:,} characters.", field="reason")
    if (
        deal.status != DealStatus.APPROVED
        or not deal.protection_expires_at
        or deal.protection_expires_at <= now
    ):
        raise InvalidInput("Only a registration under protection can be extended.", field="days")
    partner = await session.get(Partner, deal.partner_id)
    tier = await session.get(Tier, partner.tier) if partner and partner.tier else None
    cap = (
        tier.max_extensions if tier and tier.max_extensions is not None else DEFAULT_MAX_EXTENSIONS
    )
    if days not in EXTENSION_CHOICES or days > settings.protection_days:
        raise InvalidInput("Pick 15, 30 or 60 days.", field="days")
    if deal.extension_count >= cap:
        raise InvalidInput(
            f"This registration already had the {cap} extension(s) allowed.", field="days"
        )
    pending = select(DealExtension).where(
        DealExtension.deal_id == deal_id, DealExtension.status == "pending"
    )
    if (await session.exec(pending)).first() is not None:
        raise InvalidInput(
            "An extension request for this registration is already waiting.", field="days"
        )
    extension = DealExtension(
        deal_id=deal_id, requested_by_id=partner_user.id or 0, days=days, requested_at=now
    )
    session.add(extension)
    deal.last_activity_at = now  # asking for more time is activity
    session.add(deal)
    await session.flush()
    outcome = await _outcome(session, deal_id, partner_user)
    await audit.record(
        session,
        actor=audit.Actor.person(partner_user),
        channel=channel,
        action="deal.extension_requested",
        subject_type="deal",
        subject_id=deal_id,
        after={"extension_id": extension.id, "days": days, "reason": reason or None},
        now=now,
    )
    return ExtensionOutcome(extension, outcome)


async def decide_extension(
    session: AsyncSession,
    *,
    manager: Person,
    extension_id: int,
    approve: bool,
    now: datetime,
    reason: str = "",
    channel: Channel = Channel.SLACK,
) -> ExtensionOutcome:
    """Approve (protection grows by the days asked) or decline an extension, exactly once."""
    require_role(manager, *MANAGERS)
    extension = await session.get(DealExtension, extension_id)
    if extension is None:
        raise NotFound("That extension request no longer exists.")
    status = "approved" if approve else "declined"
    result = await session.exec(
        update(DealExtension)
        .where(col(DealExtension.id) == extension_id, col(DealExtension.status) == "pending")
        .values(status=status, decided_at=now, decided_by_id=manager.id, reason=reason or None)
    )
    if not result.rowcount:
        await session.refresh(extension)
        who = (
            await session.get(Person, extension.decided_by_id) if extension.decided_by_id else None
        )
        by = f" by {who.name}" if who else ""
        raise AlreadyDecided(f"Already {extension.status}{by} at {_when(extension.decided_at)}.")
    deal = await session.get(DealRegistration, extension.deal_id)
    assert deal is not None
    before = {"protection_expires_at": deal.protection_expires_at}
    if approve and deal.protection_expires_at is not None:
        deal.protection_expires_at += timedelta(days=extension.days)
        deal.extension_count += 1
    deal.last_activity_at = now
    session.add(deal)
    await session.flush()
    await session.refresh(extension)
    outcome = await _outcome(session, extension.deal_id, manager)
    verb = f"extended by {extension.days} days" if approve else "extension declined"
    await _record(
        session,
        outcome,
        action=f"deal.extension_{status}",
        channel=channel,
        note=f"Protection {verb} by {manager.name}.",
        before=before,
        after={"protection_expires_at": deal.protection_expires_at, "extension": status},
        now=now,
    )
    return ExtensionOutcome(extension, outcome)


# --- Time ------------------------------------------------------------------------------------


async def expire(session: AsyncSession, *, deal_id: int, now: datetime) -> Outcome | None:
    """End a registration's protection at its deadline, releasing the customer; None when it
    is not due (extended meanwhile, withdrawn, or already expired)."""
    deal = await session.get(DealRegistration, deal_id)
    if (
        deal is None
        or deal.status != DealStatus.APPROVED
        or deal.protection_expires_at is None
        or deal.protection_expires_at > now
    ):
        return None
    expired_at = deal.protection_expires_at
    result = await session.exec(
        update(DealRegistration)
        .where(
            col(DealRegistration.id) == deal_id,
            col(DealRegistration.status) == DealStatus.APPROVED,
            col(DealRegistration.protection_expires_at) <= now,
        )
        .values(status=DealStatus.EXPIRED)
    )
    if not result.rowcount:
        return None  # another worker expired it first
    outcome = await _outcome(session, deal_id, None)
    await _record(
        session,
        outcome,
        action="deal.expired",
        channel=Channel.SCHEDULER,
        note=f"Protection ended on {_when(expired_at)}; the customer is open again.",
        before={"status": "approved", "protection_expires_at": expired_at},
        after={"status": "expired"},
        now=now,
    )
    return outcome

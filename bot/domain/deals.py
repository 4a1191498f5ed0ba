"""Deal registrations as people may see them: partners their own company's, safe fields only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import AccessDenied, NotFound, NotYours
from store.models import DealRegistration, DealStatus, Partner, Person, Role

PAGE_SIZE = 10


@dataclass(frozen=True)
class DealSummary:
    """The partner-safe view of a registration: no pricing, notes or other partners' data."""

    id: int
    customer: str
    status: str
    protection_expires_at: datetime | None
    sla_due_at: datetime | None
    partner: str | None  # shown to managers only

    @property
    def next_step(self) -> str:
        """What happens next, in a few words."""
        if self.status == DealStatus.PENDING:
            return "Waiting for a channel manager's decision"
        if self.status == DealStatus.INFO_REQUESTED:
            return "A channel manager asked a question: answer it"
        if self.status == DealStatus.APPROVED:
            return "Protected: keep the deal moving"
        if self.status == DealStatus.EXPIRED:
            return "Protection expired: the customer is open again"
        return "No further action"


@dataclass(frozen=True)
class DealPage:
    """One page of registrations and where it sits in the whole list."""

    deals: list[DealSummary]
    offset: int
    total: int

    @property
    def has_next(self) -> bool:
        """True when a later page exists."""
        return self.offset + len(self.deals) < self.total


NOT_YOURS = "That registration is not one of your company's."


async def deal_for(session: AsyncSession, person: Person, deal_id: int) -> DealRegistration:
    """The registration, if `person` may see it: managers and admins any, partners their own
    company's. Anyone else gets NotYours, the same answer whether the id exists or not."""
    deal = await session.get(DealRegistration, deal_id)
    if person.role in (Role.MANAGER, Role.ADMIN):
        if deal is None:
            raise NotFound("That registration no longer exists.")
        return deal
    if deal is None or person.partner_id is None or deal.partner_id != person.partner_id:
        raise NotYours(NOT_YOURS)
    return deal


async def visible_deals(
    session: AsyncSession, person: Person, *, offset: int = 0, limit: int = PAGE_SIZE
) -> DealPage:
    """The registrations this person may see, newest first: a partner sees their company's."""
    if person.role != Role.PARTNER:
        return await list_registrations(session, offset=offset, limit=limit)
    if person.partner_id is None:
        raise AccessDenied("Your account is not linked to a partner company.")
    return await list_registrations(
        session, partner_id=person.partner_id, show_partner=False, offset=offset, limit=limit
    )


async def list_registrations(
    session: AsyncSession,
    *,
    partner_id: int | None = None,
    show_partner: bool = True,
    offset: int = 0,
    limit: int = PAGE_SIZE,
) -> DealPage:
    """Registrations, newest first: all of them, or one partner company's."""
    # One round trip for the page and the total (a window count), reading only the
    # partner-safe columns: pricing and notes never leave the database on this path.
    deal = DealRegistration
    query = select(  # type: ignore[call-overload]  # sqlmodel types select() up to 4 columns
        deal.id, deal.customer_company, deal.status, deal.protection_expires_at, deal.sla_due_at,
        Partner.name, func.count().over(),
    ).join(Partner, col(deal.partner_id) == col(Partner.id))  # fmt: skip
    if partner_id is not None:
        query = query.where(deal.partner_id == partner_id)
    offset = max(offset, 0)
    order = (col(deal.submitted_at).desc(), col(deal.id).desc())
    rows = (await session.exec(query.order_by(*order).offset(offset).limit(limit))).all()
    if not rows and offset > 0:  # past the end (the list shrank): show the first page
        return await list_registrations(
            session, partner_id=partner_id, show_partner=show_partner, limit=limit
        )
    deals = [
        DealSummary(
            id=deal_id or 0,
            customer=customer,
            status=status,
            protection_expires_at=protection_expires_at,
            sla_due_at=sla_due_at,
            partner=partner_name if show_partner else None,
        )
        for deal_id, customer, status, protection_expires_at, sla_due_at, partner_name, _ in rows
    ]
    return DealPage(deals=deals, offset=offset, total=rows[0][-1] if rows else 0)


async def pending_queue(
    session: AsyncSession, *, now: datetime, limit: int = 15
) -> list[tuple[DealRegistration, str]]:
    """Registrations waiting for a manager with their partner's name: those past their
    approval SLA first, then the oldest."""
    breached = case((col(DealRegistration.sla_due_at) < now, 0), else_=1)
    query = (
        select(DealRegistration, Partner.name)
        .join(Partner, col(DealRegistration.partner_id) == col(Partner.id))
        .where(col(DealRegistration.status).in_((DealStatus.PENDING, DealStatus.INFO_REQUESTED)))
        .order_by(breached, col(DealRegistration.submitted_at))
        .limit(limit)
    )
    return [(deal, name) for deal, name in (await session.exec(query)).all()]


async def recent_decisions(
    session: AsyncSession, *, limit: int = 10
) -> list[tuple[DealRegistration, str]]:
    """The latest approvals and declines, newest first."""
    query = (
        select(DealRegistration, Partner.name)
        .join(Partner, col(DealRegistration.partner_id) == col(Partner.id))
        .where(col(DealRegistration.decided_at).is_not(None))
        .order_by(col(DealRegistration.decided_at).desc())
        .limit(limit)
    )
    return [(deal, name) for deal, name in (await session.exec(query)).all()]

"""Reports for the partner team: approvals against their SLA."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from store.models import DealRegistration, DealStatus, Partner


@dataclass(frozen=True)
class PendingItem:
    """A registration waiting for a manager."""

    deal_id: int
    customer: str
    partner: str
    status: str
    submitted_at: datetime
    sla_due_at: datetime | None
    age_hours: float
    breached: bool


@dataclass(frozen=True)
class Breach:
    """A registration decided after its SLA (or still waiting past it)."""

    deal_id: int
    customer: str
    partner: str
    sla_due_at: datetime
    decided_at: datetime | None
    hours_to_decision: float | None  # from submission; None while still waiting
    hours_late: float


@dataclass(frozen=True)
class SlaReport:
    """`partnerbot report sla`: what waits now, and the SLA breaches of the last days."""

    at: datetime
    pending: list[PendingItem]
    breaches: list[Breach]
    days: int


def _hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 1)


async def sla_report(session: AsyncSession, *, now: datetime, days: int = 30) -> SlaReport:
    """Pending items with their age (breached first), and the breaches of the last `days`."""
    waiting = await session.exec(
        select(DealRegistration, Partner.name)
        .join(Partner, col(Partner.id) == col(DealRegistration.partner_id))
        .where(col(DealRegistration.status).in_((DealStatus.PENDING, DealStatus.INFO_REQUESTED)))
        .order_by(col(DealRegistration.submitted_at))
    )
    pending = [
        PendingItem(
            deal.id or 0,
            deal.customer_company,
            partner,
            deal.status,
            deal.submitted_at,
            deal.sla_due_at,
            _hours(now - deal.submitted_at),
            deal.sla_due_at is not None and deal.sla_due_at < now,
        )
        for deal, partner in waiting.all()
    ]
    pending.sort(key=lambda item: (not item.breached, item.submitted_at))
    late = await session.exec(
        select(DealRegistration, Partner.name)
        .join(Partner, col(Partner.id) == col(DealRegistration.partner_id))
        .where(
            col(DealRegistration.sla_due_at) >= now - timedelta(days=days),
            col(DealRegistration.sla_due_at) < now,
            or_(
                col(DealRegistration.decided_at).is_(None),
                col(DealRegistration.decided_at) > col(DealRegistration.sla_due_at),
            ),
            col(DealRegistration.status).not_in((DealStatus.WITHDRAWN,)),
        )
        .order_by(col(DealRegistration.sla_due_at))
    )
    breaches = []
    for deal, partner in late.all():
        if deal.decided_at is None and deal.status not in (
            DealStatus.PENDING,
            DealStatus.INFO_REQUESTED,
        ):
            continue
        due = deal.sla_due_at
        assert due is not None
        decided = deal.decided_at
        breaches.append(
            Breach(
                deal.id or 0,
                deal.customer_company,
                partner,
                due,
                decided,
                _hours(decided - deal.submitted_at) if decided else None,
                _hours((decided or now) - due),
            )
        )
    return SlaReport(now, pending, breaches, days)

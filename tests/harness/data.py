"""Test and benchmark data that no service creates yet (registrations arrive with issue #3)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import system_clock
from store.models import DealRegistration, Partner, Person


async def add_registrations(
    session: AsyncSession, partner_name: str, count: int, *, notes: str = "secret pricing notes"
) -> None:
    """`count` pending registrations by the partner's first person, the newest last."""
    partner = (await session.exec(select(Partner).where(Partner.name == partner_name))).one()
    person = (await session.exec(select(Person).where(Person.partner_id == partner.id))).first()
    assert person is not None, f"{partner_name} has nobody to register deals"
    label = partner_name.split()[0]
    now = system_clock()  # the Slack handlers that show these read the real clock
    for n in range(count):
        session.add(
            DealRegistration(
                partner_id=partner.id or 0,
                registered_by_id=person.id or 0,
                customer_company=f"{label} Customer {n}",
                customer_domain=f"{label.lower()}-c{n}.example",
                normalized_domain=f"{label.lower()}-c{n}.example",
                normalized_company=f"{label.lower()} customer {n}",
                contact_name="Pat",
                contact_email="pat@c.example",
                estimated_value=Decimal("125000.00"),
                currency="EUR",
                expected_close_date=now.date() + timedelta(days=30),
                products=["Core"],
                motion="resale",
                notes=notes,
                submitted_at=now - timedelta(minutes=count - n),
                sla_due_at=now + timedelta(hours=48),
                last_activity_at=now - timedelta(minutes=count - n),
                idempotency_key=f"{partner_name}-{n}",
            )
        )

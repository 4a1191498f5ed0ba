"""Test and benchmark data that no service creates yet (registrations arrive with issue #3)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from store.models import DealRegistration, Partner, Person
from store.types import utcnow


async def add_registrations(
    session: AsyncSession, partner_name: str, count: int, *, notes: str = "secret pricing notes"
) -> None:
    """`count` pending registrations by the partner's first person, the newest last."""
    partner = (await session.exec(select(Partner).where(Partner.name == partner_name))).one()
    person = (await session.exec(select(Person).where(Person.partner_id == partner.id))).first()
    assert person is not None, f"{partner_name} has nobody to register deals"
    label = partner_name.split()[0]
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
                expected_close_date=date.today() + timedelta(days=30),
                products=["Core"],
                motion="resale",
                notes=notes,
                submitted_at=utcnow() - timedelta(minutes=count - n),
                sla_due_at=utcnow() + timedelta(hours=48),
                idempotency_key=f"{partner_name}-{n}",
            )
        )

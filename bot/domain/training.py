"""Training: a passed module issues a certification, written back to the CRM."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import audit, crm_records
from bot.errors import NotFound
from store.models import Certification, Channel, Partner, Person, TrainingModule


async def certify(
    session: AsyncSession,
    *,
    person: Person,
    module: TrainingModule,
    channel: Channel,
    now: datetime,
) -> Certification:
    """Issue the module's certification to the person, valid for the module's period."""
    if not module.certification:
        raise NotFound(f"“{module.title}” does not lead to a certification.")
    certification = Certification(
        person_id=person.id or 0,
        partner_id=person.partner_id,
        module_id=module.id,
        name=module.certification,
        issued_at=now,
        expires_at=now + timedelta(days=module.certification_valid_days),
    )
    session.add(certification)
    await session.flush()
    expires = certification.expires_at.date().isoformat()
    await crm_records.queue_company_note(
        session,
        person,
        subject=f"Certification: {module.certification}",
        text=f"{person.name} passed “{module.title}” and is certified until {expires}.",
        at=now,
        key=f"certification:{certification.id}",
    )
    partner = await session.get(Partner, person.partner_id) if person.partner_id else None
    if partner is not None:
        await crm_records.queue_partner_properties(session, partner, now=now)
    await audit.record(
        session,
        actor=audit.Actor.person(person),
        channel=channel,
        action="certification.issued",
        subject_type="certification",
        subject_id=certification.id or 0,
        after={"name": certification.name, "expires_at": expires},
        now=now,
    )
    return certification

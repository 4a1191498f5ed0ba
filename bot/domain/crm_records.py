"""What the CRM hears about partners and people, queued in the caller's transaction.

Acknowledgements and certifications land on the partner company's timeline; a
certification also refreshes the company's partner properties (tier, certifications).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import outbox
from crm.base import CertificationEntry, PartnerCompany, RecordType, TimelineNote
from store.models import Certification, Partner, PartnerDomain, Person


async def company_domain(session: AsyncSession, partner_id: int, *, prefer: str = "") -> str:
    """The domain that names a partner's company in the CRM: `prefer` if it is one of theirs,
    else the first of their domains."""
    domains = list(
        (
            await session.exec(
                select(PartnerDomain.domain)
                .where(PartnerDomain.partner_id == partner_id)
                .order_by(col(PartnerDomain.domain))
            )
        ).all()
    )
    if prefer in domains:
        return prefer
    return domains[0] if domains else ""


async def queue_partner_properties(
    session: AsyncSession, partner: Partner, *, now: datetime
) -> None:
    """Queue the partner's tier and current certifications for its CRM company."""
    certifications = (
        await session.exec(
            select(Certification.name, Certification.expires_at).where(
                Certification.partner_id == partner.id,
                col(Certification.revoked_at).is_(None),
                col(Certification.expires_at) > now,
            )
        )
    ).all()
    latest: dict[str, datetime] = {}
    for name, expires_at in certifications:
        latest[name] = max(expires_at, latest.get(name, expires_at))
    domain = await company_domain(session, partner.id or 0)
    company = PartnerCompany(
        partner_id=partner.id or 0,
        name=partner.name,
        domain=domain,
        tier=partner.tier,
        certifications=tuple(CertificationEntry(n, at) for n, at in sorted(latest.items())),
    )
    await outbox.enqueue(
        session,
        kind=outbox.OutboxKind.SET_PARTNER,
        record_key=f"company:{domain}",
        idempotency_key=f"partner:{partner.id}:properties:{now.isoformat()}",
        payload=company.to_payload(),
    )


async def queue_company_note(
    session: AsyncSession,
    person: Person,
    *,
    subject: str,
    text: str,
    at: datetime,
    key: str,
) -> None:
    """A note on the timeline of the person's partner company (their own domain preferred)."""
    if person.partner_id is None:
        return
    domain = await company_domain(session, person.partner_id, prefer=person.email.split("@")[-1])
    await outbox.enqueue_note(
        session,
        TimelineNote(
            record_type=RecordType.COMPANY,
            record_id=domain,
            author=person.name,
            text=text,
            at=at,
            idempotency_key=key,
            subject=subject,
        ),
    )

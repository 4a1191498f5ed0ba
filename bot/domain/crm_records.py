"""What the CRM hears about partners and people, queued in the caller's transaction.

Acknowledgements and certifications land on the partner company's timeline; a
certification also refreshes the company's partner properties (tier, certifications).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import outbox
from crm.base import CertificationEntry, PartnerCompany, RecordType, TimelineNote
from store.models import Certification, Partner, PartnerDomain, Person


async def company_domain(session: AsyncSession, partner_id: int, *, prefer: str = "") -> str:
    """The domain that names a partner's company in the CRM: `prefer` if it is one of theirs,
    else the first of their domains."""
    return _pick((await _domains(session, [partner_id])).get(partner_id, []), prefer)


async def _domains(session: AsyncSession, partner_ids: Iterable[int]) -> dict[int, list[str]]:
    """Each partner's domains, in order, with one query."""
    rows = await session.exec(
        select(PartnerDomain.partner_id, PartnerDomain.domain)
        .where(col(PartnerDomain.partner_id).in_(set(partner_ids)))
        .order_by(col(PartnerDomain.domain))
    )
    found: dict[int, list[str]] = {}
    for partner_id, domain in rows.all():
        found.setdefault(partner_id, []).append(domain)
    return found


def _pick(domains: list[str], prefer: str) -> str:
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
        now=now,
    )


@dataclass(frozen=True)
class CompanyNote:
    """A note for the timeline of a person's partner company."""

    person: Person
    subject: str
    text: str
    at: datetime
    key: str  # idempotency key


async def queue_company_note(
    session: AsyncSession,
    person: Person,
    *,
    subject: str,
    text: str,
    at: datetime,
    key: str,
) -> None:
    """A note, dated and queued `at`, on the timeline of the person's partner company (their
    own domain preferred)."""
    await queue_company_notes(session, [CompanyNote(person, subject, text, at, key)], now=at)


async def queue_company_notes(
    session: AsyncSession, notes: Sequence[CompanyNote], *, now: datetime
) -> None:
    """Notes on partner companies' timelines, queued `now` in order with one lookup of
    domains."""
    notes = [note for note in notes if note.person.partner_id is not None]
    domains = await _domains(session, {note.person.partner_id or 0 for note in notes})
    items = []
    for note in notes:
        person = note.person
        domain = _pick(domains.get(person.partner_id or 0, []), person.email.split("@")[-1])
        timeline_note = TimelineNote(
            record_type=RecordType.COMPANY,
            record_id=domain,
            author=person.name,
            text=note.text,
            at=note.at,
            idempotency_key=note.key,
            subject=note.subject,
        )
        items.append(outbox.note_write(timeline_note))
    await outbox.enqueue_many(session, items, now=now)

"""The local CRM (PARTNERBOT_CRM=local): the store itself is the system of record."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete
from sqlmodel import col, select

from crm.base import (
    AccountPage,
    CrmError,
    DealRecord,
    PartnerCompany,
    RecordType,
    TimelineNote,
    WriteResult,
)
from store.db import Database
from store.models import CrmNote, DealRegistration, Partner


class LocalCrm:
    """Deals are the registrations; the timeline is the crm_note table."""

    name = "local"
    batch_size = 500

    def __init__(self, db: Database) -> None:
        self._db = db

    async def _existing(
        self, model: type[DealRegistration] | type[Partner], ids: list[int]
    ) -> set[int]:
        """Which of these ids exist in a table."""
        async with self._db.read() as session:
            query = select(model.id).where(col(model.id).in_(ids))
            return {i for i in (await session.exec(query)).all() if i is not None}

    async def upsert_deals(self, deals: Sequence[DealRecord]) -> list[WriteResult]:
        """The registration is the deal: its local CRM id is `local-<id>`."""
        known = await self._existing(DealRegistration, [deal.deal_id for deal in deals])
        return [
            WriteResult(crm_id=f"local-{deal.deal_id}")
            if deal.deal_id in known
            else WriteResult(error=CrmError(f"deal {deal.deal_id} does not exist", permanent=True))
            for deal in deals
        ]

    async def add_notes(self, notes: Sequence[TimelineNote]) -> list[WriteResult]:
        """Append to the timeline; a repeat of the same idempotency key changes nothing."""
        async with self._db.session() as session:
            keys = [note.idempotency_key for note in notes]
            query = select(CrmNote.idempotency_key).where(col(CrmNote.idempotency_key).in_(keys))
            seen = set((await session.exec(query)).all())
            for note in notes:
                if note.idempotency_key in seen:
                    continue
                seen.add(note.idempotency_key)
                session.add(
                    CrmNote(
                        record_type=str(note.record_type),
                        record_id=note.record_id,
                        author=note.author,
                        text=f"{note.subject}: {note.text}" if note.subject else note.text,
                        noted_at=note.at,
                        idempotency_key=note.idempotency_key,
                    )
                )
        return [WriteResult(crm_id=note.idempotency_key) for note in notes]

    async def set_partner_companies(self, companies: Sequence[PartnerCompany]) -> list[WriteResult]:
        """The partner row already holds its tier and certifications: nothing to copy."""
        known = await self._existing(Partner, [company.partner_id for company in companies])
        return [
            WriteResult(crm_id=f"local-partner-{c.partner_id}")
            if c.partner_id in known
            else WriteResult(
                error=CrmError(f"partner {c.partner_id} does not exist", permanent=True)
            )
            for c in companies
        ]

    async def accounts_changed_since(self, cursor: str | None, *, limit: int) -> AccountPage:
        """The local CRM's accounts are the mirror table itself: nothing to copy."""
        return AccountPage(accounts=[], cursor=cursor, more=False, total=0)

    async def erase_contact(self, email: str) -> None:
        """Delete the contact's timeline."""
        async with self._db.session() as session:
            await session.exec(
                delete(CrmNote).where(
                    col(CrmNote.record_type) == RecordType.CONTACT,
                    col(CrmNote.record_id) == email.lower(),
                )
            )

    async def aclose(self) -> None:
        """Nothing to release: the store belongs to the app."""


async def timeline(db: Database, *, record_type: str, record_ids: list[str]) -> list[CrmNote]:
    """The local timeline of some records, oldest first."""
    async with db.read() as session:
        query = (
            select(CrmNote)
            .where(CrmNote.record_type == record_type, col(CrmNote.record_id).in_(record_ids))
            .order_by(col(CrmNote.noted_at), col(CrmNote.id))
        )
        return list((await session.exec(query)).all())

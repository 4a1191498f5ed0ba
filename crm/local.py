"""The local CRM (PARTNERBOT_CRM=local): the store itself is the system of record."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from crm.base import CrmError, DealRecord, TimelineNote
from store.db import Database
from store.models import CrmNote, DealRegistration


class LocalCrm:
    """Deals are the registrations; the timeline is the crm_note table."""

    name = "local"

    def __init__(self, db: Database) -> None:
        self._db = db

    async def upsert_deal(self, deal: DealRecord) -> str:
        """The registration is the deal: give it its local CRM id (idempotent)."""
        crm_id = f"local-{deal.deal_id}"
        async with self._db.session() as session:
            result = await session.exec(
                update(DealRegistration)
                .where(col(DealRegistration.id) == deal.deal_id)
                .values(crm_deal_id=crm_id)
            )
            if not result.rowcount:
                raise CrmError(f"deal {deal.deal_id} does not exist", permanent=True)
        return crm_id

    async def add_note(self, note: TimelineNote) -> None:
        """Append to the timeline; a repeat of the same idempotency key changes nothing."""
        try:
            async with self._db.session() as session:
                known = select(CrmNote.id).where(CrmNote.idempotency_key == note.idempotency_key)
                if (await session.exec(known)).first() is not None:
                    return
                session.add(
                    CrmNote(
                        record_type=note.record_type,
                        record_id=note.record_id,
                        author=note.author,
                        text=note.text,
                        noted_at=note.at,
                        idempotency_key=note.idempotency_key,
                    )
                )
        except IntegrityError:
            return  # another delivery of the same note won the race


async def timeline(db: Database, *, record_type: str, record_ids: list[str]) -> list[CrmNote]:
    """The local timeline of some records, oldest first."""
    async with db.read() as session:
        query = (
            select(CrmNote)
            .where(CrmNote.record_type == record_type, col(CrmNote.record_id).in_(record_ids))
            .order_by(col(CrmNote.noted_at), col(CrmNote.id))
        )
        return list((await session.exec(query)).all())

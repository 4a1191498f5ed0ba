"""The CRM port: what partnerbot writes to (and reads from) the CRM, as typed records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol


class CrmError(Exception):
    """A CRM call failed; `permanent` errors are not retried (the row is dead-lettered)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class DealRecord:
    """A registration as the CRM's deal/opportunity, with the partner fields."""

    deal_id: int
    customer: str
    domain: str
    partner: str
    status: str
    motion: str
    amount: Decimal
    currency: str
    close_date: date
    protection_expires_at: datetime | None

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> DealRecord:
        """Rebuild the record an outbox row carries."""
        expires = payload.get("protection_expires_at")
        return cls(
            deal_id=int(payload["deal_id"]),
            customer=str(payload["customer"]),
            domain=str(payload["domain"]),
            partner=str(payload["partner"]),
            status=str(payload["status"]),
            motion=str(payload["motion"]),
            amount=Decimal(str(payload["amount"])),
            currency=str(payload["currency"]),
            close_date=date.fromisoformat(str(payload["close_date"])),
            protection_expires_at=datetime.fromisoformat(expires) if expires else None,
        )


@dataclass(frozen=True)
class TimelineNote:
    """A note on a CRM record's timeline; the idempotency key makes a repeat harmless."""

    record_type: str  # deal|company|contact
    record_id: str
    author: str
    text: str
    at: datetime
    idempotency_key: str


class Crm(Protocol):
    """One CRM: every write is idempotent, so the outbox may deliver a row twice safely."""

    name: str

    async def upsert_deal(self, deal: DealRecord) -> str:
        """Create or update the deal; return the CRM's id for it."""
        ...

    async def add_note(self, note: TimelineNote) -> None:
        """Add a note to a record's timeline (once per idempotency key)."""
        ...

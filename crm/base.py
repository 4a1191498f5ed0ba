"""The CRM port: what partnerbot writes to (and reads from) the CRM, as typed records.

Every write is a batch: the outbox hands an adapter up to `batch_size` records of one kind
and gets one `WriteResult` per record back, in the same order. A failure of the whole call
raises `CrmError` (or `RateLimited`); a failure of one record is that record's result.
Every write is idempotent — keyed by our own ids — so a repeat after a crash is harmless.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """`items` in slices of at most `size` (a CRM's batch limit)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


class CrmError(Exception):
    """A CRM call failed; `permanent` errors are not retried (the row is dead-lettered)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class RateLimited(CrmError):
    """The CRM said "too many requests": try again after `retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RecordType(StrEnum):
    """What a timeline note hangs on, and which of our ids names it."""

    DEAL = "deal"  # our registration id
    COMPANY = "company"  # the partner company's primary email domain
    CONTACT = "contact"  # the person's email address


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

    def to_payload(self) -> dict[str, Any]:
        """The JSON an outbox row carries."""
        expires = self.protection_expires_at
        return {
            "deal_id": self.deal_id,
            "customer": self.customer,
            "domain": self.domain,
            "partner": self.partner,
            "status": self.status,
            "motion": self.motion,
            "amount": str(self.amount),
            "currency": self.currency,
            "close_date": self.close_date.isoformat(),
            "protection_expires_at": expires.isoformat() if expires else None,
        }

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


def takes_currency(deal: DealRecord, accepted: Collection[str]) -> bool:
    """One rule for every CRM: the deal's amount goes into the CRM's own amount field (with
    its currency code) only when the CRM takes that currency — a HubSpot portal's currencies,
    a Salesforce org's active currencies (or its one currency). Otherwise the CRM's amount is
    left unset, the amount and its currency go into partnerbot's own fields, and the deal's
    timeline says so (`currency_remark`): a total never silently mixes currencies."""
    return deal.currency.upper() in {code.upper() for code in accepted}


def currency_remark(deal: DealRecord) -> str:
    """The timeline's explanation when the CRM does not take the deal's currency."""
    return (
        f"Amount not set in the CRM's currency: this registration is {deal.currency} "
        f"{deal.amount:,.2f}, a currency the CRM does not use; it is kept in partnerbot's "
        "amount and currency fields."
    )


@dataclass(frozen=True)
class TimelineNote:
    """A note on a CRM record's timeline; the idempotency key makes a repeat harmless."""

    record_type: RecordType
    record_id: str
    author: str
    text: str
    at: datetime
    idempotency_key: str
    subject: str = ""

    def to_payload(self) -> dict[str, Any]:
        """The JSON an outbox row carries (the idempotency key is the row's own)."""
        return {
            "record_type": str(self.record_type),
            "record_id": self.record_id,
            "author": self.author,
            "text": self.text,
            "at": self.at.isoformat(),
            "subject": self.subject,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any], *, idempotency_key: str) -> TimelineNote:
        """Rebuild the note an outbox row carries (rows before 0004 name only `deal_id`)."""
        record_id = payload.get("record_id", payload.get("deal_id"))
        return cls(
            record_type=RecordType(payload.get("record_type", RecordType.DEAL)),
            record_id=str(record_id),
            author=str(payload["author"]),
            text=str(payload["text"]),
            at=datetime.fromisoformat(str(payload["at"])),
            idempotency_key=idempotency_key,
            subject=str(payload.get("subject", "")),
        )


@dataclass(frozen=True)
class CertificationEntry:
    """One current certification a partner company holds."""

    name: str
    expires_at: datetime


@dataclass(frozen=True)
class PartnerCompany:
    """The partner-program properties of a partner's company record in the CRM."""

    partner_id: int
    name: str
    domain: str  # the primary email domain: how the CRM's company/account is found
    tier: str
    certifications: tuple[CertificationEntry, ...] = ()

    def to_payload(self) -> dict[str, Any]:
        """The JSON an outbox row carries."""
        return {
            "partner_id": self.partner_id,
            "name": self.name,
            "domain": self.domain,
            "tier": self.tier,
            "certifications": [
                {"name": c.name, "expires_at": c.expires_at.isoformat()}
                for c in self.certifications
            ],
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> PartnerCompany:
        """Rebuild the record an outbox row carries."""
        return cls(
            partner_id=int(payload["partner_id"]),
            name=str(payload["name"]),
            domain=str(payload["domain"]),
            tier=str(payload["tier"]),
            certifications=tuple(
                CertificationEntry(str(c["name"]), datetime.fromisoformat(str(c["expires_at"])))
                for c in payload.get("certifications", [])
            ),
        )

    def certifications_text(self) -> str:
        """`Name (until 2027-05-01); …`, as a CRM text property shows it."""
        return "; ".join(
            f"{c.name} (until {c.expires_at.date().isoformat()})"
            for c in sorted(self.certifications, key=lambda c: c.name)
        )


@dataclass(frozen=True)
class AccountRecord:
    """A CRM account/company as the conflict checks need it."""

    crm_id: str
    domain: str
    name: str
    owner_kind: str  # direct|partner|none
    incumbent_partner: str | None  # a partner company's name, as the CRM holds it
    modified_at: datetime


@dataclass(frozen=True)
class AccountPage:
    """One page of accounts changed since a cursor; `cursor` resumes after it."""

    accounts: list[AccountRecord]
    cursor: str | None
    more: bool
    total: int | None = None  # how many remain to be read, when the CRM says


@dataclass(frozen=True)
class WriteResult:
    """What became of one record in a batch: its CRM id, or the error that refused it."""

    crm_id: str | None = None
    error: CrmError | None = field(default=None, compare=False)

    @property
    def ok(self) -> bool:
        """True when the CRM took the record."""
        return self.error is None


class Crm(Protocol):
    """One CRM. Writes are batches answered record by record, all idempotent."""

    name: str
    batch_size: int

    async def upsert_deals(self, deals: Sequence[DealRecord]) -> list[WriteResult]:
        """Create or update deals keyed by our deal id; the result carries the CRM's id."""
        ...

    async def add_notes(self, notes: Sequence[TimelineNote]) -> list[WriteResult]:
        """Add notes to deal/company/contact timelines, once per idempotency key."""
        ...

    async def set_partner_companies(self, companies: Sequence[PartnerCompany]) -> list[WriteResult]:
        """Set partner-program properties (tier, certifications) on partners' companies."""
        ...

    async def accounts_changed_since(self, cursor: str | None, *, limit: int) -> AccountPage:
        """Accounts/companies modified since `cursor` (all of them when None), oldest first."""
        ...

    async def erase_contact(self, email: str) -> None:
        """Erase a contact and what identifies them (a privacy request); absent is fine."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...

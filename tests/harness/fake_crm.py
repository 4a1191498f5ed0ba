"""A base for the tests' fake CRM adapters: each overrides only what its test exercises."""

from __future__ import annotations

from collections.abc import Sequence

from crm.base import AccountPage, DealRecord, PartnerCompany, TimelineNote, WriteResult


class FakeCrm:
    """Every `crm.base.Crm` method; those a test does not override fail loudly."""

    name = "fake"
    batch_size = 100

    async def upsert_deals(self, deals: Sequence[DealRecord]) -> list[WriteResult]:
        raise NotImplementedError

    async def add_notes(self, notes: Sequence[TimelineNote]) -> list[WriteResult]:
        raise NotImplementedError

    async def set_partner_companies(self, companies: Sequence[PartnerCompany]) -> list[WriteResult]:
        raise NotImplementedError

    async def accounts_changed_since(self, cursor: str | None, *, limit: int) -> AccountPage:
        raise NotImplementedError

    async def erase_contact(self, email: str) -> None:
        raise NotImplementedError

    async def aclose(self) -> None:
        pass

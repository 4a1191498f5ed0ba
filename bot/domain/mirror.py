"""The CRM account mirror: CRM accounts/companies copied into the store for conflict checks.

The conflict engine reads only this table, never the CRM, on the request path. A sync reads
accounts changed since the last cursor, page by page; each page and the cursor after it are
committed together, so a sync stopped half-way resumes where it stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.domain.conflicts import company_key, normalize_company, registrable_domain
from crm.base import AccountRecord, Crm
from store.db import Database
from store.models import CrmAccount, Partner, SyncCursor

log = logging.getLogger(__name__)

MIRROR_LOCK = 7261002  # PostgreSQL advisory lock: one sync at a time across workers

Progress = Callable[[int, int | None], None]  # (accounts copied by this page, how many remain)


@dataclass
class MirrorReport:
    """What a sync copied."""

    copied: int = 0
    pages: int = 0
    skipped: bool = False  # another worker was syncing


def cursor_name(crm: Crm) -> str:
    """The sync cursor of a CRM's account mirror."""
    return f"crm_accounts:{crm.name}"


def _domain(raw: str) -> str:
    try:
        return registrable_domain(raw)
    except ValueError:
        return raw.strip().lower()


async def _apply(
    session: AsyncSession,
    crm: Crm,
    accounts: list[AccountRecord],
    partners: dict[str, int],
    now: datetime,
) -> None:
    ids = [account.crm_id for account in accounts]
    existing = {
        row.crm_id: row
        for row in (
            await session.exec(
                select(CrmAccount).where(
                    CrmAccount.crm == crm.name, col(CrmAccount.crm_id).in_(ids)
                )
            )
        ).all()
    }
    for account in accounts:
        normalized = normalize_company(account.name)
        incumbent = (account.incumbent_partner or "").strip().lower()
        values: dict[str, Any] = {
            "domain": _domain(account.domain),
            "name": account.name[:200],
            "normalized_name": normalized[:200],
            "company_key": company_key(normalized),
            "owner_kind": account.owner_kind,
            "incumbent_partner_id": partners.get(incumbent) if incumbent else None,
            "modified_at": account.modified_at,
            "synced_at": now,
        }
        row = existing.get(account.crm_id)
        if row is None:
            row = CrmAccount.model_validate({"crm": crm.name, "crm_id": account.crm_id, **values})
        else:
            row.sqlmodel_update(values)
        session.add(row)


async def sync_accounts(
    db: Database,
    crm: Crm,
    *,
    clock: Clock,
    full: bool = False,
    page_size: int = 200,
    progress: Progress | None = None,
) -> MirrorReport:
    """Copy accounts changed since the last sync (all of them with `full`) into the mirror;
    each page is stamped with the time `clock` gives when it is written."""
    report = MirrorReport()
    name = cursor_name(crm)
    async with db.read() as session:
        saved = await session.get(SyncCursor, name)
        partners = {
            n.lower(): i
            for n, i in (await session.exec(select(Partner.name, Partner.id))).all()
            if i is not None
        }
    cursor = None if full or saved is None else saved.cursor
    while True:
        page = await crm.accounts_changed_since(cursor, limit=page_size)
        async with db.session() as session:
            if db.dialect == "postgresql":
                locked = await session.exec(
                    text("SELECT pg_try_advisory_xact_lock(:id)").bindparams(id=MIRROR_LOCK)  # type: ignore[call-overload]
                )
                if not locked.scalar():
                    report.skipped = True
                    return report
            now = clock()
            await _apply(session, crm, page.accounts, partners, now)
            if page.cursor is not None:
                row = await session.get(SyncCursor, name) or SyncCursor(
                    name=name, cursor="", updated_at=now
                )
                row.cursor, row.updated_at = page.cursor, now
                session.add(row)
        report.copied += len(page.accounts)
        report.pages += 1
        if progress is not None:
            progress(len(page.accounts), page.total)
        if not page.more:
            return report
        cursor = page.cursor


async def mirrored_accounts(db: Database, crm_name: str) -> int:
    """How many accounts the mirror holds for a CRM."""
    async with db.read() as session:
        query = select(func.count()).where(CrmAccount.crm == crm_name)
        return int((await session.exec(query)).one())

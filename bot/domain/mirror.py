"""The CRM account mirror: CRM accounts/companies copied into the store for conflict checks.

The conflict engine reads only this table, never the CRM, on the request path. A sync reads
accounts changed since the last cursor, page by page; each page and the cursor after it are
committed together, so a sync stopped half-way resumes where it stopped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock, as_utc
from bot.domain.registration import index_names
from crm.base import AccountPage, AccountRecord, Crm, CrmError, RateLimited
from matching.domains import registrable_domain
from matching.names import company_key, normalize_company
from store.db import Database
from store.models import CrmAccount, Partner, SyncCursor

log = logging.getLogger(__name__)

MIRROR_LOCK = 7261002  # PostgreSQL advisory lock: one sync at a time across workers
FULL_SYNC = ":full"  # a cursor row of this suffix marks a full sync not yet finished
PAUSED = ":paused"  # a cursor row of this suffix: the CRM's request limit, waited out until

# A CRM's "wait" this short is waited out within a sync (as the outbox would); a longer one,
# or an outage, ends the sync: the next one resumes from the last page written.
LIMIT_WAIT_SECONDS = 60.0
LIMIT_WAITS = 3

Progress = Callable[[int, int | None], None]  # (accounts copied by this page, how many remain)


@dataclass
class MirrorReport:
    """What a sync copied."""

    copied: int = 0  # accounts new or changed (those read again unchanged are not counted)
    read: int = 0  # accounts the CRM sent
    pages: int = 0
    skipped: bool = False  # another worker was syncing
    error: str | None = None  # why the sync stopped before the end (it resumes from there)
    retry_after: float | None = None  # when the CRM said to come back, if it said


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
) -> int:
    """Write the page into the mirror; return how many accounts were new or changed (a CRM
    re-reads the tail of the last sync: those come back unchanged and are skipped)."""
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
    added: list[tuple[CrmAccount, str]] = []  # rows whose names the name index must learn
    removed: list[tuple[int, str]] = []
    applied = 0
    for account in accounts:
        normalized = normalize_company(account.name)[:200]
        incumbent = (account.incumbent_partner or "").strip().lower()
        values: dict[str, Any] = {
            "domain": _domain(account.domain),
            "name": account.name[:200],
            "normalized_name": normalized,
            "company_key": company_key(normalized),
            "owner_kind": account.owner_kind,
            "incumbent_partner_id": partners.get(incumbent) if incumbent else None,
            "modified_at": account.modified_at,
            "synced_at": now,
        }
        row = existing.get(account.crm_id)
        if row is not None and _already_mirrored(row, values):
            continue
        applied += 1
        if row is None:
            row = CrmAccount.model_validate({"crm": crm.name, "crm_id": account.crm_id, **values})
            added.append((row, normalized))
        else:
            if row.normalized_name != normalized:
                removed.append((row.id or 0, row.normalized_name))
                added.append((row, normalized))
            row.sqlmodel_update(values)
        session.add(row)
    await session.flush()  # new rows get their ids
    await index_names(session, "account", [(r.id or 0, n) for r, n in added], removed)
    return applied


def _already_mirrored(row: CrmAccount, values: dict[str, Any]) -> bool:
    """The row holds this version of the account already, or a newer one (read earlier)."""
    if row.modified_at > values["modified_at"]:
        return True
    return all(getattr(row, key) == value for key, value in values.items() if key != "synced_at")


async def sync_accounts(
    db: Database,
    crm: Crm,
    *,
    clock: Clock,
    full: bool = False,
    page_size: int = 200,
    progress: Progress | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> MirrorReport:
    """Copy accounts changed since the last sync (all of them with `full`) into the mirror;
    each page is stamped with the time `clock` gives when it is written. A CRM that refuses
    or fails ends the sync with `report.error` (logged once, never raised)."""
    report = MirrorReport()
    name = cursor_name(crm)
    async with db.read() as session:
        saved = await session.get(SyncCursor, name)
        partners = {
            n.lower(): i
            for n, i in (await session.exec(select(Partner.name, Partner.id))).all()
            if i is not None
        }
        # A full sync that stopped half-way (an outage, a limit) resumes where it stopped.
        unfinished = await session.get(SyncCursor, name + FULL_SYNC)
        paused = await session.get(SyncCursor, name + PAUSED)
    # The CRM said "request limit" to an earlier sync: wait as long as the outbox would hold
    # its rows (RateLimited.retry_after), in every worker and across restarts, asking nothing.
    if paused is not None and (until := as_utc(datetime.fromisoformat(paused.cursor))) > clock():
        report.retry_after = (until - clock()).total_seconds()
        report.error = (
            f"{crm.name} refused requests for its request limit; the mirror waits until"
            f" {until:%Y-%m-%d %H:%M} UTC"
        )
        log.info("account mirror of %s: %s", crm.name, report.error)
        return report
    cursor = None if (full and unfinished is None) or saved is None else saved.cursor
    while True:
        try:
            page = await _read_page(crm, cursor, page_size, sleep)
        except CrmError as exc:
            report.error = str(exc)
            report.retry_after = exc.retry_after if isinstance(exc, RateLimited) else None
            if report.retry_after is not None and report.retry_after > LIMIT_WAIT_SECONDS:
                now = clock()
                await _pause(db, name + PAUSED, now + timedelta(seconds=report.retry_after), now)
            log.warning(
                "account mirror of %s stopped after %d page(s), to resume there: %s",
                crm.name,
                report.pages,
                exc,
            )
            return report
        async with db.session() as session:
            if db.dialect == "postgresql":
                locked = await session.exec(
                    text("SELECT pg_try_advisory_xact_lock(:id)").bindparams(id=MIRROR_LOCK)  # type: ignore[call-overload]
                )
                if not locked.scalar():
                    report.skipped = True
                    return report
            now = clock()
            report.copied += await _apply(session, crm, page.accounts, partners, now)
            running = page.more and (full or unfinished is not None)
            await _mark_full_sync(session, name, running=running, now=now)
            if page.cursor is not None:
                row = await session.get(SyncCursor, name) or SyncCursor(
                    name=name, cursor="", updated_at=now
                )
                row.cursor, row.updated_at = page.cursor, now
                session.add(row)
        report.pages += 1
        report.read += len(page.accounts)
        if progress is not None:
            progress(len(page.accounts), page.total)
        if not page.more:
            return report
        cursor = page.cursor


async def _read_page(
    crm: Crm, cursor: str | None, limit: int, sleep: Callable[[float], Awaitable[None]]
) -> AccountPage:
    """One page of accounts; a short rate-limit pause the CRM asks for is waited out."""
    for attempt in range(1, LIMIT_WAITS + 1):
        try:
            return await crm.accounts_changed_since(cursor, limit=limit)
        except RateLimited as exc:
            if exc.retry_after > LIMIT_WAIT_SECONDS or attempt == LIMIT_WAITS:
                raise
            log.info("%s asks the account mirror to wait %.0f s", crm.name, exc.retry_after)
            await sleep(exc.retry_after)
    raise AssertionError("unreachable")


async def _pause(db: Database, name: str, until: datetime, now: datetime) -> None:
    """Remember, for every worker, that the CRM wants no requests from the mirror before
    `until` (a pause longer than a sync waits out itself)."""
    async with db.session() as session:
        row = await session.get(SyncCursor, name) or SyncCursor(
            name=name, cursor="", updated_at=now
        )
        row.cursor, row.updated_at = until.isoformat(), now
        session.add(row)


async def _mark_full_sync(
    session: AsyncSession, name: str, *, running: bool, now: datetime
) -> None:
    """Mark a full sync under way (its cursor is then resumed by `full`), or finished."""
    marker = await session.get(SyncCursor, name + FULL_SYNC)
    if running and marker is None:
        session.add(SyncCursor(name=name + FULL_SYNC, cursor="", updated_at=now))
    elif not running and marker is not None:
        await session.delete(marker)


async def mirrored_accounts(db: Database, crm_name: str) -> int:
    """How many accounts the mirror holds for a CRM."""
    async with db.read() as session:
        query = select(func.count()).where(CrmAccount.crm == crm_name)
        return int((await session.exec(query)).one())

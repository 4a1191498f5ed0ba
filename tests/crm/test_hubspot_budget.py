"""HubSpot counts requests per app, not per process: two workers on PostgreSQL share one
request budget and together stay within the portal's limit."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from bot.clock import fixed_clock
from bot.domain import outbox
from crm.base import DealRecord
from crm.hubspot import HubSpotCrm
from crm.links import Links
from crm.ratelimit import RequestBudget, SharedRequestBudget
from store.db import Database
from store.models import OutboxItem
from tests.harness.hubspot_standin import VALID_TOKEN, HubSpotStandIn

LIMIT, WINDOW = 20, 1.0  # the stand-in's limit: 20 requests per rolling second (for speed)
DEALS = 40  # one call per record: 2 requests a deal (look-up, upsert) — four windows' worth
AT = datetime(2026, 11, 21, tzinfo=UTC)


async def queue_deals(db: Database) -> None:
    writes = [
        outbox.Write(
            outbox.OutboxKind.UPSERT_DEAL,
            f"deal:{n}",
            f"deal:{n}:approved",
            DealRecord(
                deal_id=n,
                customer=f"Customer {n} GmbH",
                domain=f"customer{n}.example",
                partner="Northwind Resellers",
                status="approved",
                motion="resale",
                amount=Decimal("25000"),
                currency="EUR",
                close_date=date(2027, 1, 31),
                protection_expires_at=AT,
            ).to_payload(),
        )
        for n in range(1, DEALS + 1)
    ]
    async with db.session() as session:
        await outbox.enqueue_many(session, writes, now=AT)


async def two_workers(
    db: Database, hubspot: HubSpotStandIn, budget: Callable[[], RequestBudget]
) -> tuple[list[int], float]:
    """Two workers, each with its own connections and adapter, deliver the queue."""
    second = Database(db.url)  # another process's connection pool
    crms = [
        HubSpotCrm(
            token=VALID_TOKEN,
            host=hubspot.url,
            budget=budget(),
            links=Links(worker_db, "hubspot"),
            batch_size=1,
            currencies=["USD", "EUR"],
        )
        for worker_db in (db, second)
    ]

    async def work(worker_db: Database, crm: HubSpotCrm, name: str) -> int:
        delivered = 0
        while True:
            report = await outbox.deliver_due(
                worker_db, crm, worker=name, clock=fixed_clock(AT + timedelta(hours=1)), limit=5
            )
            delivered += report.delivered
            if not report.delivered and not report.retried:
                return delivered

    started = time.monotonic()
    try:
        counts = await asyncio.gather(work(db, crms[0], "w1"), work(second, crms[1], "w2"))
    finally:
        for crm in crms:
            await crm.aclose()
        await second.dispose()
    return list(counts), time.monotonic() - started


@pytest.mark.postgres
async def test_two_workers_together_stay_within_the_portals_limit(
    postgres_db: Database, hubspot: HubSpotStandIn
) -> None:
    hubspot.reset(limit_per_10s=LIMIT, window_seconds=WINDOW, currencies=("USD", "EUR"))
    await queue_deals(postgres_db)
    counts, seconds = await two_workers(
        postgres_db,
        hubspot,
        lambda: SharedRequestBudget(
            postgres_db.url, key=7261099, requests=LIMIT, per_seconds=WINDOW + 0.2
        ),
    )
    assert sum(counts) == DEALS and min(counts) > 0  # both workers delivered
    assert hubspot.rate_limited == 0  # never over the limit together
    requests = sum(hubspot.requests.values())
    assert requests >= 2 * DEALS and seconds >= (requests / LIMIT - 1) * WINDOW
    assert len(hubspot.objects["deals"]) == DEALS
    async with postgres_db.read() as session:
        assert set((await session.exec(select(OutboxItem.status))).all()) == {"delivered"}


@pytest.mark.postgres
async def test_two_workers_each_with_its_own_budget_would_exceed_it(
    postgres_db: Database, hubspot: HubSpotStandIn
) -> None:
    """The control: the same run with a budget per process is answered 429."""
    hubspot.reset(limit_per_10s=LIMIT, window_seconds=WINDOW, currencies=("USD", "EUR"))
    await queue_deals(postgres_db)
    await two_workers(postgres_db, hubspot, lambda: RequestBudget(LIMIT, WINDOW + 0.2))
    assert hubspot.rate_limited > 0

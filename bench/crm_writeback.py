"""CRM write-back throughput under HubSpot's rate limit: batching against one call per record.

Queues 10,000 deal upserts and 10,000 timeline notes (one of each per deal) in the outbox
of a fresh SQLite database, then delivers them with the real outbox and HubSpot adapter,
through hubspot-api-client, to the HubSpot stand-in enforcing 190 requests per rolling
10 s (answering 429 with Retry-After past it). Then, in the same run, the same adapter
with a batch size of 1 (one call per record) delivers a sample of the same writes.

    .venv/bin/python bench/crm_writeback.py [--deals 10000] [--baseline-deals 150]

Prints records per second, requests, 429s and the fraction of the rate-limit ceiling
used: the request rate achieved / 19 requests per second. A rolling window admits a
first burst of 190 at once, so a short run can exceed 100 %. Targets (issue #4): >= 80 % of the ceiling, no 429
that loses data, >= 20x the baseline's records per second.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func
from sqlmodel import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.clock import system_clock  # noqa: E402
from bot.domain import outbox  # noqa: E402
from crm.base import DealRecord, RecordType, TimelineNote  # noqa: E402
from crm.hubspot import HubSpotCrm  # noqa: E402
from crm.ratelimit import RequestBudget  # noqa: E402
from store.db import Database  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from store.models import OutboxItem  # noqa: E402
from tests.harness.hubspot_standin import VALID_TOKEN, HubSpotStandIn  # noqa: E402

LIMIT = 190  # requests per 10 s (HubSpot Professional/Enterprise)
WINDOW = 10.0


@dataclass
class Run:
    label: str
    records: int
    seconds: float
    requests: int
    rate_limited: int
    undelivered: int

    @property
    def per_second(self) -> float:
        return self.records / self.seconds

    @property
    def ceiling_used(self) -> float:
        return self.requests / self.seconds / (LIMIT / WINDOW)


async def queue(db: Database, deals: int) -> None:
    """One deal upsert and one note per deal, queued as the business code queues them."""
    at = datetime(2026, 11, 21, tzinfo=UTC)
    rows = []
    for n in range(1, deals + 1):
        deal = DealRecord(
            deal_id=n,
            customer=f"Customer {n} GmbH",
            domain=f"customer{n}.example",
            partner="Northwind Resellers",
            status="approved",
            motion="resale",
            amount=Decimal("25000"),
            currency="EUR",
            close_date=date(2027, 1, 31),
            protection_expires_at=at,
        )
        note = TimelineNote(
            record_type=RecordType.DEAL,
            record_id=str(n),
            author="Mia Manager",
            text="Approved. Protection runs 90 days.",
            at=at,
            idempotency_key=f"deal:{n}:approved:note",
            subject=f"Deal registration: Customer {n} GmbH",
        )
        key = f"deal:{n}"
        rows.append(
            OutboxItem(
                target="crm",
                kind=outbox.OutboxKind.UPSERT_DEAL,
                record_key=key,
                idempotency_key=f"{key}:approved",
                payload=deal.to_payload(),
                created_at=at,
                next_attempt_at=at,
            )
        )
        rows.append(
            OutboxItem(
                target="crm",
                kind=outbox.OutboxKind.ADD_NOTE,
                record_key=key,
                idempotency_key=note.idempotency_key,
                payload=note.to_payload(),
                created_at=at,
                next_attempt_at=at,
            )
        )
    async with db.session() as session:
        session.add_all(rows)


async def deliver(
    label: str, db: Database, hubspot: HubSpotStandIn, *, deals: int, batch_size: int
) -> Run:
    hubspot.reset(limit_per_10s=LIMIT)
    await queue(db, deals)
    crm = HubSpotCrm(
        token=VALID_TOKEN,
        host=hubspot.url,
        budget=RequestBudget(LIMIT, WINDOW),
        batch_size=batch_size,
    )
    started = time.perf_counter()
    while True:
        report = await outbox.deliver_due(db, crm, worker="bench", clock=system_clock, limit=2000)
        if not (report.delivered or report.retried or report.dead):
            left = await outbox.next_due(db)
            if left is None:
                break
            await asyncio.sleep(0.2)  # a row waits out a Retry-After
    seconds = time.perf_counter() - started
    async with db.read() as session:
        undelivered = (
            await session.exec(select(func.count()).where(OutboxItem.status != "delivered"))
        ).one()
    assert len(hubspot.objects["deals"]) == deals and len(hubspot.objects["notes"]) == deals
    return Run(
        label,
        2 * deals,
        seconds,
        sum(hubspot.requests.values()),
        hubspot.rate_limited,
        int(undelivered),
    )


async def run(deals: int, baseline_deals: int) -> int:
    hubspot = HubSpotStandIn().start()
    results = []
    try:
        for label, count, size in (
            ("batched (100 per call)", deals, 100),
            ("one call per record", baseline_deals, 1),
        ):
            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite:///{tmp}/bench.db"
                db = Database(url)
                await upgrade(db)
                try:
                    print(f"delivering {2 * count:,} writes, {label} …", flush=True)
                    results.append(await deliver(label, db, hubspot, deals=count, batch_size=size))
                finally:
                    await db.dispose()
    finally:
        hubspot.stop()
    print()
    print(
        f"{'run':<24}{'records':>9}{'seconds':>9}{'rec/s':>9}{'requests':>10}"
        f"{'429s':>6}{'ceiling':>9}{'lost':>6}"
    )
    for r in results:
        print(
            f"{r.label:<24}{r.records:>9,}{r.seconds:>9.1f}{r.per_second:>9.1f}{r.requests:>10,}"
            f"{r.rate_limited:>6}{r.ceiling_used:>8.0%}{r.undelivered:>6}"
        )
    batched, baseline = results
    speedup = batched.per_second / baseline.per_second
    print(f"\nbatching: {speedup:.0f}x the baseline's records per second")
    ok = batched.ceiling_used >= 0.8 and speedup >= 20 and batched.undelivered == 0
    print("targets (>= 80 % of the ceiling, >= 20x, nothing lost):", "met" if ok else "MISSED")
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--deals", type=int, default=10_000)
    parser.add_argument("--baseline-deals", type=int, default=150)
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args.deals, args.baseline_deals)))


if __name__ == "__main__":
    main()

"""The scheduler at scale: one sweep over 1,000,000 registrations, and 1,000 nudges sent.

Seeds N registrations (default 1,000,000) into SQLite and PostgreSQL, most of them history
(expired, declined, withdrawn), 15 % approved and live, 0.5 % waiting for a decision, and
exactly `--due` (1,000) that fall due now across the five deadline jobs, plus a history of
nudges already sent (a breached item already escalated must not count again). Then:

1. times one full sweep — every job's query and the look-up of the nudges already recorded
   (`bot.scheduler.deadlines.sweep`) — `--runs` times, and prints p50/p95/p99;
2. prints each query's plan, to show it is index-backed;
3. runs the jobs once (they record the 1,000 nudges and queue their messages) and times the
   worker delivering them to the Slack stand-in, which enforces chat.postMessage's limits
   (1 message/s per channel, `--slack-per-minute` in the workspace, 429 beyond), against the
   minimum those limits allow.

    .venv/bin/python bench/scheduler_sweep.py [--rows 1000000] [--due 1000] [--runs 100]

Target (issue #12): sweep p99 <= 50 ms on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.app import build_app  # noqa: E402
from bot.delivery import Delivery  # noqa: E402
from bot.demo.slack_standin import VALID_TOKEN, SlackStandIn  # noqa: E402
from bot.scheduler import deadlines  # noqa: E402
from bot.scheduler.jobs import JobContext, run_jobs  # noqa: E402
from bot.settings import Settings, load_settings  # noqa: E402
from store.db import Database  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from tests.harness.postgres import PostgresServer  # noqa: E402

PARTNERBOT = str(Path(sys.executable).with_name("partnerbot"))
NOW = datetime.now(UTC).replace(microsecond=0)
PARTNERS = 200
DESK = "C0DEALDESK"
H, D = timedelta(hours=1), timedelta(days=1)

COLUMNS = [
    "partner_id",
    "registered_by_id",
    "customer_company",
    "customer_domain",
    "normalized_domain",
    "normalized_company",
    "company_key",
    "contact_name",
    "contact_email",
    "estimated_value",
    "currency",
    "expected_close_date",
    "products",
    "motion",
    "notes",
    "status",
    "conflict_details",
    "submitted_at",
    "sla_due_at",
    "decided_at",
    "protection_expires_at",
    "extension_count",
    "last_activity_at",
    "idempotency_key",
    "sla_reminded_at",
    "sla_escalated_at",
    "expiry_reminded_for",
]
NUDGE_COLUMNS = ["kind", "subject_key", "due_key", "outcome", "sent_at"]


def program_csv() -> str:
    """PARTNERS partner companies with two Slack users each; half looked after by a manager."""
    lines = ["partner,type,tier,region,domains,name,email,role,slack_user_id,channel_manager"]
    lines.append(",,,,,Mia Manager,mia@vendor.example,manager,U0MIA,")
    for p in range(PARTNERS):
        manager = "mia@vendor.example" if p % 2 else ""
        for u in range(2):
            lines.append(
                f"Partner {p},reseller,gold,emea,p{p}.example,User {p}-{u},"
                f"u{u}@p{p}.example,partner,U{p:04d}{u:03d},{manager}"
            )
    return "\n".join(lines) + "\n"


def plan(
    rows: int, due: int, rng: random.Random
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Registrations (most of them history) with exactly `due` due now, and old nudges."""
    kinds = {  # what falls due now, by job
        "reminder": due * 25 // 100,
        "expiring": due * 20 // 100,
        "sla-reminder": due * 20 // 100,
        "escalation": due * 15 // 100,
    }
    kinds["inactive"] = due - sum(kinds.values())
    deals, nudges = [], []
    for n in range(rows):
        partner = 1 + n % PARTNERS
        person = 2 + (partner - 1) * 2 + n % 2  # Mia is person 1
        submitted = NOW - timedelta(minutes=rng.randrange(0, 3 * 365 * 24 * 60))
        status, sla, decided, expires, activity = "expired", None, None, None, submitted
        reminded = escalated = reminded_for = None
        roll = rng.random()
        if n < sum(kinds.values()):
            index = n
            kind = "inactive"
            for name, count in kinds.items():
                if index < count:
                    kind = name
                    break
                index -= count
            if kind in ("expiring", "escalation"):  # reminded on time, before they fell due
                reminded = NOW - D
                nudges.append(
                    (
                        "deal.expiry_reminder" if kind == "expiring" else "deal.sla_reminder",
                        f"deal:{n + 1}",
                        "?",  # completed below, once the deadline is drawn
                        "sent",
                        NOW - D,
                    )
                )
            if kind == "reminder":
                status, expires = "approved", NOW + 7 * D - timedelta(minutes=rng.randrange(1, 600))
                activity = NOW - rng.randrange(1, 20) * D
            elif kind == "expiring":
                status, expires = "approved", NOW - timedelta(minutes=rng.randrange(1, 600))
                activity = NOW - rng.randrange(1, 20) * D
            elif kind == "sla-reminder":
                status, sla = "pending", NOW + 24 * H - timedelta(minutes=rng.randrange(1, 600))
                submitted = sla - 48 * H
            elif kind == "escalation":
                status, sla = "pending", NOW - timedelta(minutes=rng.randrange(1, 600))
                submitted = sla - 48 * H
            else:
                status, expires = "approved", NOW + rng.randrange(10, 60) * D
                activity = NOW - 30 * D - timedelta(minutes=rng.randrange(1, 600))
        elif roll < 0.15:  # approved, protected, busy, nothing due
            status = "approved"
            expires = NOW + 8 * D + timedelta(minutes=rng.randrange(0, 80 * 24 * 60))
            activity = NOW - timedelta(minutes=rng.randrange(0, 28 * 24 * 60))
        elif roll < 0.155:  # waiting for a decision
            status = "pending"
            if rng.random() < 0.5:  # not due yet
                sla = NOW + 25 * H + timedelta(minutes=rng.randrange(0, 23 * 60))
            else:  # long overdue, already reminded and escalated
                sla = NOW - timedelta(minutes=rng.randrange(60, 60 * 24 * 60))
                for kind in ("deal.sla_reminder", "deal.sla_escalation"):
                    nudges.append((kind, f"deal:{n + 1}", sla.isoformat(), "sent", sla))
                reminded = escalated = sla
            submitted = sla - 48 * H
        elif roll < 0.30:
            status, decided = "declined", submitted + 20 * H
        elif roll < 0.40:
            status, decided = "withdrawn", submitted + 20 * H
        else:  # expired long ago
            decided = submitted + 20 * H
            expires = decided + 90 * D
            if expires >= NOW - D:
                expires = NOW - 2 * D
        if nudges and nudges[-1][2] == "?":
            deadline = expires if nudges[-1][0] == "deal.expiry_reminder" else sla
            assert deadline is not None
            nudges[-1] = (*nudges[-1][:2], deadline.isoformat(), *nudges[-1][3:])
            if nudges[-1][0] == "deal.expiry_reminder":
                reminded, reminded_for = None, expires
        if status == "expired" and expires is not None:
            reminded_for = expires
        deals.append(
            (
                partner,
                person,
                f"Customer {n} GmbH",
                f"customer{n}.example",
                f"customer{n}.example",
                f"customer {n}",
                f"customer{n}"[:64],
                "Pat",
                "pat@example.com",
                1000,
                "EUR",
                (NOW + 60 * D).date(),
                '["Core"]',
                "resale",
                "",
                status,
                "{}",
                submitted,
                sla or submitted + 48 * H,
                decided,
                expires,
                0,
                activity,
                f"bench-{n}",
                reminded,
                escalated,
                reminded_for,
            )
        )
        if expires is not None and expires < NOW and status == "expired":
            due_key = expires.isoformat()
            nudges.append(
                ("deal.expiry_reminder", f"deal:{n + 1}", due_key, "sent", expires - 7 * D)
            )
    return deals, nudges


def _sqlite(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[union-attr]
    return value


async def seed(
    url: str, deals: list[tuple[Any, ...]], nudges: list[tuple[Any, ...]], workdir: Path
) -> float:
    """Migrate, import the partners with the real CLI, bulk-load the rows; return seconds."""
    started = time.perf_counter()
    db = Database(url)
    await upgrade(db)
    await db.dispose()
    (workdir / "program.csv").write_text(program_csv())
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERBOT_")}
    importer = await asyncio.create_subprocess_exec(
        PARTNERBOT,
        "partners",
        "import",
        str(workdir / "program.csv"),
        env=env | {"PARTNERBOT_DATABASE_URL": url},
        stdout=asyncio.subprocess.DEVNULL,
    )
    assert await importer.wait() == 0
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            conn.executemany(
                f"INSERT INTO deal_registration ({','.join(COLUMNS)}) VALUES ({','.join('?' * len(COLUMNS))})",  # noqa: S608
                [tuple(_sqlite(v) for v in r) for r in deals],
            )
            conn.executemany(
                f"INSERT INTO sent_nudge ({','.join(NUDGE_COLUMNS)}) VALUES (?,?,?,?,?)",  # noqa: S608
                [tuple(_sqlite(v) for v in r) for r in nudges],
            )
            conn.execute("ANALYZE")
    else:
        conn = await asyncpg.connect(url)
        try:
            await conn.copy_records_to_table("deal_registration", records=deals, columns=COLUMNS)
            await conn.copy_records_to_table("sent_nudge", records=nudges, columns=NUDGE_COLUMNS)
            await conn.execute("ANALYZE")
        finally:
            await conn.close()
    return time.perf_counter() - started


def settings_for(url: str, slack: SlackStandIn, per_minute: int) -> Settings:
    return load_settings(
        database_url=url,
        slack_bot_token=VALID_TOKEN,
        slack_signing_secret="bench",
        slack_api_url=slack.api_url,
        deal_desk_channel=DESK,
        quiet_hours="none",
        slack_messages_per_minute=per_minute,
    )


async def time_sweeps(
    url: str, settings: Settings, runs: int
) -> tuple[list[float], dict[str, int]]:
    db = Database(url)
    ctx = JobContext(db, settings)
    found: dict[str, int] = {}
    try:
        for _ in range(5):  # warm the pool and the caches
            found = await deadlines.sweep(ctx, NOW)
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            found = await deadlines.sweep(ctx, NOW)
            timings.append(time.perf_counter() - started)
    finally:
        await db.dispose()
    return timings, found


PLAN_QUERIES = {
    "expiry reminders": "SELECT id FROM deal_registration WHERE status = 'approved' "
    "AND protection_expires_at <= :soon AND protection_expires_at > :back",
    "expirations": "SELECT id FROM deal_registration WHERE status = 'approved' "
    "AND protection_expires_at <= :now ORDER BY protection_expires_at LIMIT 200",
    "approval SLA": "SELECT id FROM deal_registration WHERE status = 'pending' "
    "AND sla_due_at <= :half AND sla_due_at > :back",
    "inactivity": "SELECT id FROM deal_registration WHERE status = 'approved' "
    "AND last_activity_at <= :quiet AND last_activity_at > :quiet_back "
    "AND protection_expires_at > :now",
    "nudges recorded": "SELECT kind FROM sent_nudge WHERE kind = 'deal.sla_escalation' "
    "AND subject_key = 'deal:1' AND due_key = 'x'",
}


async def plans(url: str) -> None:
    db = Database(url)
    sqlite = url.startswith("sqlite")
    stamp = (lambda v: _sqlite(v)) if sqlite else (lambda v: v)
    binds = {
        "soon": stamp(NOW + 7 * D),
        "back": stamp(NOW - 30 * D),
        "now": stamp(NOW),
        "half": stamp(NOW + 24 * H),
        "quiet": stamp(NOW - 30 * D),
        "quiet_back": stamp(NOW - 60 * D),
    }
    try:
        async with db.engine.connect() as conn:
            for name, query in PLAN_QUERIES.items():
                used = {key: value for key, value in binds.items() if f":{key}" in query}
                explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
                rows = (await conn.execute(text(explain + query), used)).all()
                lines = [str(row[-1]) if sqlite else str(row[0]) for row in rows]
                print(f"    {name:<17} " + " | ".join(line.strip() for line in lines)[:150])
    finally:
        await db.dispose()


async def send(url: str, settings: Settings, slack: SlackStandIn, per_minute: int) -> None:
    slack.reset()
    slack.enforce_post_limits(per_channel_seconds=1.0, per_minute=per_minute)
    app = build_app(settings, db=Database(url))
    await app.start()
    try:
        reports = await run_jobs(JobContext(app.services.db, settings), NOW)
        print("    jobs: " + "; ".join(r.summary() for r in reports))
        delivery = Delivery(app.services, None, worker="bench")
        started = time.perf_counter()
        sent = failed = 0
        while True:
            report = await delivery.deliver_due(
                NOW + timedelta(seconds=time.perf_counter() - started + 1)
            )
            sent, failed = sent + report.sent, failed + report.failed
            if not (report.sent or report.retried or report.failed):
                break
        took = time.perf_counter() - started
        posts = slack.calls_to("chat.postMessage")
        by_channel = Counter(str(c.params.get("channel")) for c in posts)
        minimum = max(
            (sent - 1) / per_minute * 60 if sent > per_minute else 0.0,
            max(by_channel.values(), default=1) - 1.0,
        )
        print(
            f"    sent {sent} messages ({failed} failed) in {took:.1f} s;"
            f" {len(posts)} calls to chat.postMessage, {len(posts) - sent} answered 429;"
            f" the limits allow it in >= {minimum:.1f} s"
            f" ({per_minute}/min in the workspace, 1/s per channel,"
            f" busiest channel {max(by_channel.values(), default=0)} messages)"
        )
    finally:
        await app.aclose()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--slack-per-minute", type=int, default=300)
    parser.add_argument("--no-send", action="store_true", help="skip the Slack delivery part")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()

    deals, nudges = plan(args.rows, args.due, random.Random(1))
    print(
        f"{args.rows:,} registrations ({Counter(d[15] for d in deals)}), {len(nudges):,} old nudges"
    )
    slack = SlackStandIn().start()
    pg = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            targets = []
            if args.only in (None, "sqlite"):
                targets.append(("SQLite", f"sqlite:///{tmp}/bench.db"))
            if args.only in (None, "postgresql"):
                pg = await PostgresServer().start()
                targets.append(("PostgreSQL", await pg.create_database()))
            for label, url in targets:
                seconds = await seed(url, deals, nudges, Path(tmp))
                print(f"\n{label}: seeded in {seconds:.0f} s")
                settings = settings_for(url, slack, args.slack_per_minute)
                timings, found = await time_sweeps(url, settings, args.runs)
                print(
                    f"  sweep (every job's query + the nudges recorded), {args.runs} runs:"
                    f" p50 {pct(timings, 0.5):.1f} ms, p95 {pct(timings, 0.95):.1f} ms,"
                    f" p99 {pct(timings, 0.99):.1f} ms (target <= 50 ms);"
                    f" mean {statistics.mean(timings) * 1000:.1f} ms"
                )
                print(f"  due now: {json.dumps(found)} = {sum(found.values())}")
                print("  plans:")
                await plans(url)
                if not args.no_send:
                    print("  delivery to the Slack stand-in:")
                    await send(url, settings, slack, args.slack_per_minute)
    finally:
        slack.stop()
        if pg is not None:
            await pg.stop()


if __name__ == "__main__":
    asyncio.run(main())

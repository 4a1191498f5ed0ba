"""A simulated 120-day program: 1,000 registrations, an advancing clock, and every nudge,
expiry, escalation and inactivity flag on the right step, exactly once.

Registrations are decided, extended and withdrawn by the domain services at their moments;
the jobs run every 6 hours of simulated time and the worker delivers to the Slack stand-in
and a real SMTP server. An oracle computes, from the same event plan, what must happen when.
The same timeline runs with two workers at once on PostgreSQL and with workers killed
(cancelled mid-step) at random points.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import gc
import logging
import math
import random
import time
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from bot.app import build_app
from bot.delivery import Delivery
from bot.demo.slack_standin import SlackStandIn
from bot.demo.smtp import SmtpServer
from bot.domain import decisions
from bot.domain.access import find_by_email
from bot.mail.outbound import Outbox
from bot.mail.smtp import SmtpMailer
from bot.scheduler.jobs import JobContext, run_jobs
from bot.settings import Settings
from store.db import Database
from store.models import DealRegistration, Notification, Partner, Person, SentNudge
from tests.conftest import seed
from tests.mail.world import mail_settings

T0 = datetime(2027, 1, 4, tzinfo=UTC)  # a Monday
STEP = timedelta(hours=6)
DAYS = 120
DEALS = 1000
DESK = "C0DEALDESK"
ZONES = ["America/Los_Angeles", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney"]
H = timedelta(hours=1)
D = timedelta(days=1)


def step_of(moment: datetime) -> datetime:
    """The first run of the jobs at or after `moment`."""
    steps = math.ceil((moment - T0) / STEP)
    return T0 + STEP * max(steps, 0)


@dataclass
class Plan:
    """One registration's life, decided in advance."""

    deal_id: int
    email: str
    submitted: datetime
    decision: str | None  # approve|decline|None (waits for ever)
    decided: datetime | None
    extension_at: datetime | None = None  # request + approval of 30 more days
    withdrawn_at: datetime | None = None


@dataclass
class World:
    settings: Settings
    plans: list[Plan]
    manager_email: str
    events: list[tuple[datetime, int, str]] = field(default_factory=list)


def _rows(count: int) -> list[dict[str, str]]:
    """20 partner companies, each with a Slack user and every third also an email-only one;
    three managers (one looks after even-numbered partners)."""
    rows = []
    for n in range(20):
        partner = {
            "partner": f"Partner {n:02d}",
            "type": "reseller" if n % 2 else "referral",
            "tier": "gold",
            "region": "emea",
            "domains": f"partner{n:02d}.example",
            "channel_manager": "mgr0@vendor.example" if n % 2 == 0 else "",
        }
        rows.append(
            partner
            | {
                "name": f"Slack User {n}",
                "email": f"slack{n}@partner{n:02d}.example",
                "role": "partner",
                "slack_user_id": f"U0P{n:03d}",
            }
        )
        if n % 3 == 0:
            rows.append(
                {key: "" for key in partner}
                | {
                    "partner": partner["partner"],
                    "name": f"Mail User {n}",
                    "email": f"mail{n}@partner{n:02d}.example",
                    "role": "partner",
                    "slack_user_id": "",
                }
            )
    for m in range(3):
        rows.append(
            {
                "partner": "",
                "type": "",
                "tier": "",
                "region": "",
                "domains": "",
                "channel_manager": "",
                "name": f"Manager {m}",
                "email": f"mgr{m}@vendor.example",
                "role": "manager",
                "slack_user_id": f"U0M{m:03d}",
            }
        )
    del count
    return rows


async def build(db: Database, slack: SlackStandIn, smtp: SmtpServer, seed_value: int) -> World:
    rng = random.Random(seed_value)
    rows = [row | {"channel_manager": row.get("channel_manager", "")} for row in _rows(DEALS)]
    # The managers must exist before partners point at them: managers first.
    await seed(db, [r for r in rows if r["role"] == "manager"], now=T0 - 30 * D)
    await seed(db, rows, now=T0 - 30 * D)
    async with db.session() as session:
        for person in (await session.exec(select(Person))).all():
            if person.slack_user_id:
                person.time_zone = ZONES[(person.id or 0) % len(ZONES)]
                session.add(person)
        partners = {p.name: p for p in (await session.exec(select(Partner))).all()}
        users = list((await session.exec(select(Person).where(Person.role == "partner"))).all())
    settings = mail_settings(
        db,
        smtp,
        slack_bot_token="xoxb-test-token",
        slack_signing_secret="s",
        slack_api_url=slack.api_url,
        deal_desk_channel=DESK,
        quiet_hours="09:00-18:00",
        slack_channel_post_seconds=0,  # Slack's pace is real time; this Slack lives in sim time
        slack_messages_per_minute=100_000,
    )
    plans, deals = [], []
    for n in range(DEALS):
        user = users[n % len(users)]
        submitted = T0 + timedelta(minutes=rng.randrange(0, 80 * 24 * 60))
        kind = rng.random()
        decision, decided = None, None
        if kind < 0.75:
            decision = "approve"
            decided = submitted + timedelta(minutes=rng.randrange(30, 72 * 60))
        elif kind < 0.88:
            decision = "decline"
            decided = submitted + timedelta(minutes=rng.randrange(30, 72 * 60))
        plan = Plan(0, user.email, submitted, decision, decided)
        if decision == "approve" and decided is not None:
            expires = decided + 90 * D
            roll = rng.random()
            if roll < 0.12:
                plan.extension_at = expires - 10 * D  # before the reminder
            elif roll < 0.22:
                plan.extension_at = expires - 3 * D  # after the reminder
            elif roll < 0.32:
                plan.withdrawn_at = decided + 20 * D
        partner_id = user.partner_id or 0
        deals.append(
            DealRegistration(
                partner_id=partner_id,
                registered_by_id=user.id or 0,
                customer_company=f"Customer {n} AG",
                customer_domain=f"customer{n}.example",
                normalized_domain=f"customer{n}.example",
                normalized_company=f"customer {n}",
                company_key=f"customer{n}",
                contact_name="Pat",
                contact_email="pat@customer.example",
                estimated_value=Decimal("10000"),
                currency="EUR",
                expected_close_date=(submitted + 200 * D).date(),
                products=["Core"],
                motion="resale",
                status="pending",
                conflict_verdict="clear",
                conflict_rule="no_match",
                submitted_at=submitted,
                sla_due_at=submitted + 48 * H,
                last_activity_at=submitted,
                idempotency_key=f"timeline-{n}",
            )
        )
        plans.append(plan)
    async with db.session() as session:
        session.add_all(deals)
        await session.flush()
        for plan, deal in zip(plans, deals, strict=True):
            plan.deal_id = deal.id or 0
    del partners
    world = World(settings, plans, "mgr1@vendor.example")
    for plan in plans:
        if plan.decided:
            world.events.append((plan.decided, plan.deal_id, plan.decision or ""))
        if plan.extension_at:
            world.events.append((plan.extension_at, plan.deal_id, "extend"))
        if plan.withdrawn_at:
            world.events.append((plan.withdrawn_at, plan.deal_id, "withdraw"))
    world.events.sort()
    return world


def expected(world: World) -> Counter[tuple[str, int, datetime]]:
    """The oracle: (kind, deal, the step it must be recorded at), from the plan alone."""
    want: Counter[tuple[str, int, datetime]] = Counter()
    end = T0 + DAYS * D
    for plan in world.plans:
        decided = step_of(plan.decided) if plan.decided else end + D
        for kind, moment in (("deal.sla_reminder", 24 * H), ("deal.sla_escalation", 48 * H)):
            due = step_of(plan.submitted + moment)
            if due < decided and due <= end:
                want[(kind, plan.deal_id, due)] += 1
        if plan.decision != "approve" or plan.decided is None:
            continue
        approved = step_of(plan.decided)
        expires = plan.decided + 90 * D
        withdrawn = step_of(plan.withdrawn_at) if plan.withdrawn_at else end + D
        extended = step_of(plan.extension_at) if plan.extension_at else None
        deadlines = [(expires, extended or end + D)]
        if plan.extension_at is not None and extended is not None:
            deadlines.append((expires + 30 * D, end + D))
        for deadline, valid_until in deadlines:
            remind = step_of(deadline - 7 * D)
            if remind < valid_until and remind < withdrawn and remind <= end:
                want[("deal.expiry_reminder", plan.deal_id, remind)] += 1
        final = deadlines[-1][0]
        if step_of(final) < withdrawn and step_of(final) <= end:
            want[("deal.expired", plan.deal_id, step_of(final))] += 1
        activity = [approved] + ([extended] if extended else [])
        for index, last in enumerate(activity):
            flag = step_of(last + 30 * D)
            until = activity[index + 1] if index + 1 < len(activity) else end + D
            deadline = expires if index == 0 else expires + 30 * D
            if flag < until and flag < withdrawn and flag < step_of(deadline) and flag <= end:
                want[("deal.inactive", plan.deal_id, flag)] += 1
    return want


async def apply_events(db: Database, world: World, until: datetime) -> None:
    """The people's side of the story: decisions, extensions, withdrawals up to `until`."""
    manager = await _person(db, world.manager_email)
    while world.events and world.events[0][0] <= until:
        at, deal_id, what = world.events.pop(0)
        plan = next(p for p in world.plans if p.deal_id == deal_id)
        partner_user = await _person(db, plan.email)
        async with db.session() as session:
            if what == "approve":
                await decisions.approve(
                    session, manager=manager, deal_id=deal_id, settings=world.settings, now=at
                )
            elif what == "decline":
                await decisions.decline(
                    session, manager=manager, deal_id=deal_id, reason="Not a fit", now=at
                )
            elif what == "withdraw":
                await decisions.withdraw(
                    session, partner_user=partner_user, deal_id=deal_id, now=at
                )
            else:
                asked = await decisions.request_extension(
                    session,
                    partner_user=partner_user,
                    deal_id=deal_id,
                    days=30,
                    settings=world.settings,
                    now=at,
                )
                await decisions.decide_extension(
                    session,
                    manager=manager,
                    extension_id=asked.extension.id or 0,
                    approve=True,
                    now=at,
                )


async def _person(db: Database, email: str) -> Person:
    async with db.read() as session:
        found = await find_by_email(session, email)
    assert found is not None
    return found


async def _recorded(db: Database) -> Counter[tuple[str, int, datetime]]:
    async with db.read() as session:
        rows = (await session.exec(select(SentNudge))).all()
    kinds = {"deal.expiry_reminder", "deal.sla_reminder", "deal.sla_escalation", "deal.inactive"}
    return Counter(
        (row.kind, int(row.subject_key.removeprefix("deal:")), row.sent_at)
        for row in rows
        if row.kind in kinds and row.outcome == "sent"
    )


async def _expired(db: Database) -> Counter[tuple[str, int, datetime]]:
    async with db.read() as session:
        rows = (
            await session.exec(select(Notification).where(Notification.kind == "deal.expired_desk"))
        ).all()
    return Counter(("deal.expired", int(row.payload["deal_id"]), row.created_at) for row in rows)


async def simulate(
    dbs: list[Database],
    world: World,
    slack: SlackStandIn,
    smtp: SmtpServer,
    *,
    kills: float = 0.0,
    seed_value: int = 7,
) -> None:
    """Advance the clock step by step; each database handle is one worker."""
    rng = random.Random(seed_value)
    apps = [build_app(world.settings, db=db) for db in dbs]
    for app in apps:
        await app.start()
    deliveries = [
        Delivery(
            app.services,
            Outbox(app.services.db, world.settings, SmtpMailer(world.settings)),
            worker=f"w{n}",
        )
        for n, app in enumerate(apps)
    ]
    try:
        now = T0
        end = T0 + DAYS * D
        while now <= end + 4 * D:  # a few days more, so what was held for hours goes out
            slack.clock = now.timestamp  # Slack lives in the simulated time too
            await apply_events(dbs[0], world, now)
            if now <= end:
                await asyncio.gather(*(_worker_step(db, world, now, rng, kills) for db in dbs))
            await asyncio.gather(*(_deliver(d, now, rng, kills) for d in deliveries))
            now += STEP
        for delivery in deliveries:  # a last round after every claim has lapsed
            await delivery.deliver_due(now + D)
    finally:
        slack.clock = time.time
        for app in apps:
            await app.services.slack_http.close()


async def _killed(db: Database) -> None:
    """What dying does to a worker's connections. A killed process's connections end with it,
    and the database drops their transactions and locks at once; a cancelled coroutine can
    leave its connection to be cleaned up later, by the garbage collector — and on SQLite
    that connection's write lock would stall every other writer meanwhile, which no real
    kill does. So the simulated kill ends with the dead worker's connections given back."""
    for _ in range(200):
        gc.collect()
        if db._write_engine.pool.checkedout() == 0:
            return
        await asyncio.sleep(0.01)


async def _worker_step(
    db: Database, world: World, now: datetime, rng: random.Random, kills: float
) -> None:
    if rng.random() < kills:  # killed part-way through, then restarted by its supervisor
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                run_jobs(JobContext(db, world.settings), now), timeout=rng.uniform(0.0, 0.05)
            )
        await _killed(db)
    await _as_the_worker_loop(run_jobs(JobContext(db, world.settings), now))


async def _deliver(delivery: Delivery, now: datetime, rng: random.Random, kills: float) -> None:
    if rng.random() < kills:  # killed mid-delivery: what it claimed waits for its claim to lapse
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(delivery.deliver_due(now), timeout=rng.uniform(0.0, 0.05))
        await _killed(delivery.services.db)
    await _as_the_worker_loop(delivery.deliver_due(now))


async def _as_the_worker_loop(step: Awaitable[object]) -> None:
    """Run a step as `partnerbot worker`'s loops do: a database that stays locked past the
    busy timeout (here: right after a simulated kill, on SQLite) fails the step, which is
    logged and runs again on the next cycle. Whatever it left half done must still come out
    exactly once — which `check` verifies."""
    try:
        await step
    except OperationalError as exc:
        logging.getLogger(__name__).warning("step failed, next cycle retries: %s", exc)


async def check(db: Database, world: World, slack: SlackStandIn, smtp: SmtpServer) -> None:
    want = expected(world)
    got = await _recorded(db) + await _expired(db)
    missing, extra = want - got, got - want
    assert not missing and not extra, (sorted(missing)[:5], sorted(extra)[:5], len(want))
    async with db.read() as session:
        rows = (await session.exec(select(Notification))).all()
        zones = {p.id: p.time_zone for p in (await session.exec(select(Person))).all()}
    failures = Counter(row.error for row in rows if row.status != "sent")
    assert not failures, failures.most_common(5)
    # What people saw: the messages in Slack's channels (a call cut off before Slack stored
    # its message is no message).
    posted = Counter(
        message["metadata"]["event_payload"]["key"]
        for messages in slack.history.values()
        for message in messages
        if isinstance(message.get("metadata"), dict)
    )
    assert posted and set(posted.values()) == {1}  # no Slack message twice
    slack_rows = {row.key for row in rows if row.via == "slack"}
    assert set(posted) == slack_rows
    # Each email once; a worker killed inside the SMTP exchange resends it with the same
    # Message-ID (so the receiving side can tell), at most a couple of times in the run.
    ids = Counter(email.message_from_bytes(r.data)["Message-ID"] for r in smtp.received)
    assert len(ids) == sum(1 for row in rows if row.via == "email")
    assert sum(ids.values()) - len(ids) <= 3
    for row in rows:  # held ones went out in the person's working hours
        if row.held and row.via == "slack" and row.sent_at is not None:
            local = row.sent_at.astimezone(ZoneInfo(zones[row.person_id] or "UTC"))
            assert local.weekday() < 5 and 9 <= local.hour < 18, (row.kind, local)


# Known flaky (about one run in five on a 2-core machine, root cause not found yet): on SQLite a
# simulated kill — a coroutine cancelled mid-transaction — can leave a write lock that a real
# kill (the process gone) would not; the next writer then waits out the busy timeout. Each
# run is still checked in full; a rerun is allowed twice. PostgreSQL's variant has no rerun.
@pytest.mark.flaky(reruns=2)
async def test_a_120_day_program_on_sqlite_with_a_worker_killed_at_random_points(
    sqlite_db: Database, slack: SlackStandIn, smtp_server: SmtpServer
) -> None:
    smtp_server.clear()
    world = await build(sqlite_db, slack, smtp_server, seed_value=1)
    await simulate([sqlite_db], world, slack, smtp_server, kills=0.05)
    await check(sqlite_db, world, slack, smtp_server)


@pytest.mark.postgres
async def test_a_120_day_program_on_postgresql_with_two_workers_one_killed_now_and_then(
    postgres_db: Database, slack: SlackStandIn, smtp_server: SmtpServer
) -> None:
    smtp_server.clear()
    world = await build(postgres_db, slack, smtp_server, seed_value=2)
    second = Database(postgres_db.url)
    try:
        await simulate([postgres_db, second], world, slack, smtp_server, kills=0.05)
    finally:
        await second.dispose()
    await check(postgres_db, world, slack, smtp_server)

"""`partnerbot worker`: the process that runs the mail loop, outbox delivery and scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot import blocks, notify
from bot.clock import fixed_clock
from bot.context import Services
from bot.delivery import Delivery, DeliveryReport
from bot.domain import mirror, outbox
from bot.mail.outbound import Outbox
from bot.mrkdwn import join, md
from bot.scheduler.jobs import JobReport
from bot.scheduler.leader import Leadership, Loop, lead, leadership_for
from bot.scheduler.runner import cycle, scheduler_loop
from crm.base import Crm

log = logging.getLogger(__name__)


class Worker:
    """Runs its loops side by side until SIGTERM or SIGINT, then stops them cleanly."""

    def __init__(self, services: Services, loops: Sequence[tuple[str, Loop]] = ()) -> None:
        self.services = services
        self.loops = list(loops)
        self.stop = asyncio.Event()

    def install_signal_handlers(self) -> None:
        """Turn SIGTERM/SIGINT into a graceful stop."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._on_signal, signum)

    def _on_signal(self, signum: int) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        self.stop.set()

    async def _supervise(self, name: str, loop: Loop) -> None:
        while not self.stop.is_set():
            try:
                await loop(self.services, self.stop)
                return
            except Exception:
                log.exception("worker loop %s crashed; restarting in 5 s", name)
                try:
                    await asyncio.wait_for(self.stop.wait(), timeout=5)
                except TimeoutError:
                    continue

    async def run(self) -> None:
        """Run until stopped; every loop gets the chance to finish its current item."""
        names = ", ".join(name for name, _ in self.loops) or "none yet"
        log.info("worker started (loops: %s)", names)
        tasks = [
            asyncio.create_task(self._supervise(name, loop), name=name) for name, loop in self.loops
        ]
        await self.stop.wait()
        _done, pending = await asyncio.wait(tasks, timeout=30) if tasks else (set(), set())
        for task in pending:
            log.warning("worker loop %s did not stop in 30 s; cancelling it", task.get_name())
            task.cancel()
        await self.services.tasks.drain()
        await self.services.db.dispose()
        log.info("worker stopped")


async def alert_dead_letters(services: Services, dead: list[outbox.DeadLetter]) -> None:
    """Tell the deal desk which CRM writes were refused for good, and how to replay them."""
    channel = services.settings.deal_desk_channel
    if not dead or not channel or not services.settings.slack_configured:
        return
    lines = [md("• #{} {} {}: {}", d.id, d.kind, d.record_key, d.error[:300]) for d in dead[:20]]
    if len(dead) > 20:
        lines.append(md("…and {} more", len(dead) - 20))
    text = md(
        ":warning: The CRM refused {} write(s); they are kept as dead letters.\n{}\n"
        "Fix the cause, then run `partnerbot outbox retry`.",
        len(dead),
        join(lines),
    )
    await notify.post(services.slack_http.client, channel, text, [blocks.section(text)])


def outbox_loop(crm: Crm, *, idle_seconds: float = 1.0) -> Loop:
    """Deliver the outbox to the CRM until stopped; sleep while there is nothing due."""

    async def run(services: Services, stop: asyncio.Event) -> None:
        while not stop.is_set():
            report = await outbox.deliver_due(
                services.db, crm, worker=worker_id(), clock=services.clock
            )
            if report.delivered or report.retried or report.dead:
                log.info(
                    "outbox: %s delivered, %s to retry, %s dead",
                    report.delivered,
                    report.retried,
                    report.dead,
                )
                await alert_dead_letters(services, report.dead_letters)
                if report.delivered or report.dead:
                    continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=idle_seconds)

    return run


def mirror_loop(crm: Crm, *, every_minutes: int) -> Loop:
    """Sync the CRM account mirror at start-up and then every `every_minutes`."""

    async def run(services: Services, stop: asyncio.Event) -> None:
        while not stop.is_set():
            report = await mirror.sync_accounts(services.db, crm, clock=services.clock)
            if not report.skipped:
                log.info("account mirror: %s account(s) copied from %s", report.copied, crm.name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every_minutes * 60)

    return run


def mirror_loops(crm: Crm, services: Services) -> list[tuple[str, Loop]]:
    """The account mirror, for a remote CRM (a singleton: one worker syncs)."""
    if crm.name == "local":
        return []
    return [("mirror", mirror_loop(crm, every_minutes=services.settings.crm_sync_minutes))]


def worker_id() -> str:
    """This process, as it signs its claims on shared rows."""
    return f"{socket.gethostname()}:{os.getpid()}"


def delivery_loop(delivery: Delivery, *, via: str | None = None, idle_seconds: float = 1.0) -> Loop:
    """Deliver due notifications (those going `via` Slack or email) until stopped; sleep
    while there is nothing due."""

    async def run(services: Services, stop: asyncio.Event) -> None:
        while not stop.is_set():
            report = await delivery.deliver_due(services.clock(), via=via)
            if report.sent or report.failed or report.retried or report.held:
                log.info("%s", report.summary())
                if report.sent or report.failed:
                    continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=idle_seconds)

    return run


def mail_outbox(services: Services) -> Outbox | None:
    """The mail sender, when SMTP is configured."""
    from bot.mail.smtp import SmtpMailer

    settings = services.settings
    if not settings.smtp_host or not settings.mail_from:
        return None
    return Outbox(services.db, settings, SmtpMailer(settings))


def build_worker(services: Services, crm: Crm, *, leadership: Leadership | None = None) -> Worker:
    """Every worker delivers the CRM outbox and the notifications side by side; the leader
    alone runs the scheduler, the IMAP loop and the CRM mirror."""
    leadership = leadership or leadership_for(services.settings.database_url)
    delivery = Delivery(services, mail_outbox(services), worker=worker_id())
    singletons = [
        ("scheduler", scheduler_loop(leadership)),
        *mail_loops(services),
        *mirror_loops(crm, services),
    ]

    async def singleton(services: Services, stop: asyncio.Event) -> None:
        await lead(services, stop, leadership, singletons)

    return Worker(
        services,
        [
            ("outbox", outbox_loop(crm)),
            ("slack-notifications", delivery_loop(delivery, via="slack")),
            ("email-notifications", delivery_loop(delivery, via="email")),
            ("leader", singleton),
        ],
    )


@dataclass
class OnceReport:
    """What `worker --once` did."""

    at: datetime
    jobs: list[JobReport] = field(default_factory=list)
    notifications: DeliveryReport = field(default_factory=DeliveryReport)
    crm: outbox.DeliveryReport = field(default_factory=outbox.DeliveryReport)

    def lines(self) -> list[str]:
        """What a person reads."""
        return [
            f"as of {self.at.isoformat(timespec='seconds')}:",
            *(f"  {report.summary()}" for report in self.jobs),
            f"  {self.notifications.summary()}",
            f"  crm outbox: {self.crm.delivered} delivered, {self.crm.retried} to retry,"
            f" {self.crm.dead} dead",
        ]


async def run_once(services: Services, crm: Crm, at: datetime) -> OnceReport:
    """Every job once as of `at`, then deliver what is due: the long-running worker's code."""
    services.clock = fixed_clock(at)
    report = OnceReport(at, jobs=await cycle(services))
    delivery = Delivery(services, mail_outbox(services), worker=worker_id())
    while True:
        round_ = await delivery.deliver_due(at)
        for name in ("sent", "held", "retried", "failed"):
            setattr(
                report.notifications,
                name,
                getattr(report.notifications, name) + getattr(round_, name),
            )
        if not (round_.sent or round_.failed):
            break
    report.crm = await outbox.deliver_due(
        services.db, crm, worker=worker_id(), clock=services.clock
    )
    await alert_dead_letters(services, report.crm.dead_letters)
    return report


def mail_loops(services: Services) -> list[tuple[str, Loop]]:
    """The IMAP loop, when a mailbox is configured."""
    settings = services.settings
    if not settings.imap_host:
        return []
    from bot.app import mail_context
    from bot.mail.inbound import parser_pool
    from bot.mail.sources import ImapSource

    async def run(services: Services, stop: asyncio.Event) -> None:
        ctx = mail_context(settings, services.db, services.clock)
        ctx.parsers = parser_pool()
        try:
            await ImapSource(ctx).run(stop)
        finally:
            ctx.parsers.shutdown(cancel_futures=True)

    return [("imap", run)]

"""`partnerbot worker`: the process that runs the mail loop, outbox delivery and scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Awaitable, Callable, Sequence

from bot import notify
from bot.context import Services
from bot.domain import mirror, outbox
from crm.base import Crm

log = logging.getLogger(__name__)

# A loop runs until `stop` is set, then returns; the worker supervises each one.
Loop = Callable[[Services, asyncio.Event], Awaitable[None]]


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
    lines = [f"• #{d.id} {d.kind} {d.record_key}: {d.error[:300]}" for d in dead[:20]]
    more = f"\n…and {len(dead) - 20} more" if len(dead) > 20 else ""
    text = (
        f":warning: The CRM refused {len(dead)} write(s); they are kept as dead letters."
        f"\n" + "\n".join(lines) + more + "\nFix the cause, then run `partnerbot outbox retry`."
    )
    await notify.post(
        services.slack_http.client,
        channel,
        text,
        [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}],
    )


def outbox_loop(crm: Crm, *, idle_seconds: float = 1.0) -> Loop:
    """Deliver the outbox to the CRM until stopped; sleep while there is nothing due."""

    async def run(services: Services, stop: asyncio.Event) -> None:
        worker_id = f"{socket.gethostname()}:{os.getpid()}"
        while not stop.is_set():
            report = await outbox.deliver_due(
                services.db, crm, worker=worker_id, clock=services.clock
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


def crm_loops(crm: Crm, services: Services) -> list[tuple[str, Loop]]:
    """The worker's CRM loops: outbox delivery, and the mirror for a remote CRM."""
    loops: list[tuple[str, Loop]] = [("outbox", outbox_loop(crm))]
    if crm.name != "local":
        loops.append(("mirror", mirror_loop(crm, every_minutes=services.settings.crm_sync_minutes)))
    return loops


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

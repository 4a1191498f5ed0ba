"""Running the jobs: every `PARTNERBOT_SCHEDULER_SECONDS` in the leading worker (APScheduler),
or once as of a given time (`partnerbot worker --once [--at …]`), through the same code."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.context import Services
from bot.scheduler.jobs import JobContext, JobReport, run_jobs
from bot.scheduler.leader import Leadership, Loop

log = logging.getLogger(__name__)


async def cycle(services: Services) -> list[JobReport]:
    """Run every job once, as of the worker's clock now."""
    now = services.clock()
    reports = await run_jobs(JobContext(services.db, services.settings), now)
    for report in reports:
        if report.sent or report.skipped or report.changed or report.notes:
            log.info("scheduler at %s: %s", now.isoformat(timespec="seconds"), report.summary())
    return reports


def scheduler_loop(leadership: Leadership, *, every_seconds: int | None = None) -> Loop:
    """The jobs on an APScheduler interval (no catch-up storm after downtime: one coalesced
    run, which sends each nudge that fell due once). The lock is checked before each cycle."""

    async def run(services: Services, stop: asyncio.Event) -> None:
        seconds = every_seconds or services.settings.scheduler_seconds
        lost = asyncio.Event()

        async def guarded() -> None:
            if not await leadership.still_held():
                log.warning("scheduler: not the leader any more; skipping this cycle")
                lost.set()
                return
            await cycle(services)

        await guarded()  # a first run at start-up, then on the interval
        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.add_job(
            guarded,
            IntervalTrigger(seconds=seconds),
            id="partnerbot-jobs",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=seconds,
        )
        scheduler.start()
        try:
            waiting = [asyncio.ensure_future(e.wait()) for e in (stop, lost)]
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            for task in waiting:
                task.cancel()
        finally:
            scheduler.shutdown(wait=False)
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(0)

    return run

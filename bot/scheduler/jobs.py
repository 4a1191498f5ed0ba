"""The frame every scheduled job shares: a job is an idempotent function of (now, store).

A job finds what fell due, then hands each nudge to `send_nudges`, which records it under its
unique key (kind, subject, due date) in the same transaction that queues its messages. A
restart, a retry or a second worker therefore never sends a nudge twice; after downtime each
nudge that fell due is sent once, and one whose moment has passed its usefulness is recorded
as skipped. Jobs never talk to Slack or SMTP: the worker delivers what they queued.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import notifications
from bot.settings import Settings
from store.db import Database
from store.models import SentNudge

log = logging.getLogger(__name__)

BATCH = 200  # nudges recorded per transaction


@dataclass(frozen=True)
class JobContext:
    """What a job may use: the store and the settings (never Slack, SMTP or the clock)."""

    db: Database
    settings: Settings
    reader: AsyncSession | None = None  # one read session for many queries (a sweep)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """The shared read session if there is one, else a fresh one."""
        if self.reader is not None:
            yield self.reader
            return
        async with self.db.read() as session:
            yield session


@dataclass
class JobReport:
    """What one run of a job did."""

    job: str
    sent: int = 0
    skipped: int = 0
    changed: int = 0  # records the job changed itself (expired registrations, …)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for logs and `worker --once`."""
        parts = [f"{self.sent} sent", f"{self.skipped} skipped"]
        if self.changed:
            parts.append(f"{self.changed} changed")
        return f"{self.job}: " + ", ".join(parts)


@dataclass(frozen=True)
class Nudge:
    """One nudge that fell due: its unique key and what to say (nothing, when `skip` says
    why it is no longer useful)."""

    kind: str
    subject_key: str
    due_key: str
    messages: Sequence[notifications.Message] = ()
    skip: str | None = None
    mark: Any = None  # a statement run with the record (a job's own "already nudged" mark)
    # More work done in the record's transaction (CRM writes, audit): done once, like it.
    also: Callable[[AsyncSession], Awaitable[None]] | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        """The unique key it is recorded under."""
        return self.kind, self.subject_key, self.due_key


Job = Callable[[JobContext, datetime], Awaitable[JobReport]]
JOBS: list[tuple[str, Job]] = []


def job(name: str) -> Callable[[Job], Job]:
    """Register a job; they run in registration order (so a reminder is decided before the
    deadline it reminds of is acted on in the same run)."""

    def add(function: Job) -> Job:
        JOBS.append((name, function))
        return function

    return add


async def recorded_keys(
    session: AsyncSession, kind: str, subjects: Sequence[str]
) -> set[tuple[str, str]]:
    """(subject, due) of the nudges of `kind` already recorded for these subjects."""
    rows = await session.exec(
        select(SentNudge.subject_key, SentNudge.due_key).where(
            SentNudge.kind == kind, col(SentNudge.subject_key).in_(set(subjects))
        )
    )
    return {(subject, due) for subject, due in rows.all()}


async def recorded(session: AsyncSession, nudges: Sequence[Nudge]) -> set[tuple[str, str, str]]:
    """The keys of these nudges already recorded (one query per kind)."""
    found: set[tuple[str, str, str]] = set()
    for kind in {nudge.kind for nudge in nudges}:
        subjects = [nudge.subject_key for nudge in nudges if nudge.kind == kind]
        found |= {(kind, s, d) for s, d in await recorded_keys(session, kind, subjects)}
    return found


async def _claim(session: AsyncSession, nudge: Nudge, now: datetime) -> bool:
    """Record the nudge; False when another run (or worker) recorded it first."""
    try:
        async with session.begin_nested():
            session.add(
                SentNudge(
                    kind=nudge.kind,
                    subject_key=nudge.subject_key,
                    due_key=nudge.due_key,
                    outcome="skipped" if nudge.skip else "sent",
                    sent_at=now,
                )
            )
        return True
    except IntegrityError:
        return False


Combine = Callable[[list["Nudge"]], list[notifications.Message]]


async def send_nudges(
    db: Database,
    nudges: Sequence[Nudge],
    report: JobReport,
    now: datetime,
    *,
    combine: Combine | None = None,
) -> None:
    """Record each nudge once and queue its messages in the same transaction; `combine`
    makes one message more of the nudges a transaction recorded (a digest)."""
    for start in range(0, len(nudges), BATCH):
        batch = nudges[start : start + BATCH]
        async with db.session() as session:
            done = await recorded(session, batch)
            fresh = [nudge for nudge in batch if nudge.key not in done]
            messages: list[notifications.Message] = []
            claimed: list[Nudge] = []
            for nudge in fresh:
                if not await _claim(session, nudge, now):
                    continue
                if nudge.mark is not None:
                    await session.exec(nudge.mark)
                if nudge.also is not None:
                    await nudge.also(session)
                if nudge.skip:
                    report.skipped += 1
                    log.info("nudge %s %s skipped: %s", nudge.kind, nudge.subject_key, nudge.skip)
                    continue
                report.sent += 1
                claimed.append(nudge)
                messages += nudge.messages
            if combine is not None:
                messages += combine(claimed)
            await notifications.queue(session, messages, now=now)


async def run_jobs(ctx: JobContext, now: datetime) -> list[JobReport]:
    """Run every registered job once as of `now`; one failing job does not stop the others."""
    from bot.scheduler import (  # noqa: F401  (they register their jobs)
        announcements,
        certifications,
        deadlines,
        training_report,
    )

    reports = []
    for name, function in JOBS:
        try:
            reports.append(await function(ctx, now))
        except Exception:
            log.exception("scheduled job %s failed; the next run tries again", name)
            reports.append(JobReport(name, notes=["failed (see the log)"]))
    return reports

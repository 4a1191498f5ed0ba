"""One leader among the workers: the singleton loops (scheduler, IMAP, CRM mirror) run in one.

On PostgreSQL the leader holds a session advisory lock on a dedicated connection, outside
the pool, and checks before each cycle that it still holds it (a dropped connection releases
the lock without a word). On SQLite the leader holds an exclusive lock on a file beside the
database; the operating system releases it when the process dies. A standby tries again
every few seconds, so it takes over well within 30 s of the leader's end.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import IO, Any, Protocol

import asyncpg
from sqlalchemy.engine import make_url

from bot.context import Services

log = logging.getLogger(__name__)

LEADER_LOCK = 7261003  # the advisory lock id (migrations use 7261001, the mirror 7261002)
RETRY_SECONDS = 5.0


class Leadership(Protocol):
    """Who runs the singleton loops."""

    async def try_acquire(self) -> bool:
        """Become the leader if nobody is; True when this process leads."""
        ...

    async def still_held(self) -> bool:
        """True while this process still leads (checked before every cycle)."""
        ...

    async def release(self) -> None:
        """Step down."""
        ...


class PostgresLeadership:
    """A session advisory lock held on a connection of its own."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url.replace("postgres://", "postgresql://", 1))
        self.dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        self._connection: asyncpg.Connection | None = None

    async def try_acquire(self) -> bool:
        """Take the lock if it is free (a new connection if the old one went away)."""
        try:
            if self._connection is None or self._connection.is_closed():
                self._connection = await asyncpg.connect(self.dsn, timeout=10)
            return bool(
                await self._connection.fetchval("SELECT pg_try_advisory_lock($1)", LEADER_LOCK)
            )
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            log.warning("leader election: database unreachable (%s)", type(exc).__name__)
            await self._drop()
            return False

    async def still_held(self) -> bool:
        """Ask PostgreSQL whether our backend holds the lock."""
        if self._connection is None or self._connection.is_closed():
            return False
        try:
            return bool(
                await self._connection.fetchval(
                    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
                    " AND pid = pg_backend_pid() AND objid = $1 AND granted)",
                    LEADER_LOCK,
                    timeout=10,
                )
            )
        except (OSError, asyncpg.PostgresError, TimeoutError):
            await self._drop()
            return False

    async def release(self) -> None:
        """Unlock and close the connection."""
        if self._connection is not None and not self._connection.is_closed():
            with contextlib.suppress(OSError, asyncpg.PostgresError, TimeoutError):
                await self._connection.execute("SELECT pg_advisory_unlock($1)", LEADER_LOCK)
        await self._drop()

    async def _drop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close(timeout=5)
        self._connection = None


class FileLeadership:
    """An exclusive `flock` on `<database>.leader` (one machine, as SQLite is)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    async def try_acquire(self) -> bool:
        """Take the lock if no other process holds it."""
        if self._file is not None:
            return True
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle
        return True

    async def still_held(self) -> bool:
        """Ours while our handle is open and the file is still the one we locked."""
        if self._file is None:
            return False
        try:
            return os.fstat(self._file.fileno()).st_ino == os.stat(self.path).st_ino
        except OSError:
            return False

    async def release(self) -> None:
        """Unlock (closing the file releases the lock)."""
        if self._file is not None:
            self._file.close()
            self._file = None


def leadership_for(url: str) -> Leadership:
    """The election that fits the database."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    if parsed.get_backend_name() == "postgresql":
        return PostgresLeadership(url)
    database = parsed.database or "partnerbot.db"
    return FileLeadership(Path(database).resolve().with_name(Path(database).name + ".leader"))


# A worker loop: runs until `stop` is set, then returns.
Loop = Callable[[Services, asyncio.Event], Coroutine[Any, Any, None]]


async def lead(
    services: Services,
    stop: asyncio.Event,
    leadership: Leadership,
    loops: Sequence[tuple[str, Loop]],
    *,
    retry_seconds: float = RETRY_SECONDS,
) -> None:
    """Wait to lead, run the singleton loops while leading, step back when the lock is lost."""
    names = ", ".join(name for name, _ in loops)
    while not stop.is_set():
        if not await leadership.try_acquire():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=retry_seconds)
            continue
        log.info("this worker leads: running %s", names)
        stepping_down = asyncio.Event()
        tasks = [
            asyncio.create_task(loop(services, stepping_down), name=name) for name, loop in loops
        ]
        while not stop.is_set() and not all(task.done() for task in tasks):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=retry_seconds)
            if not stop.is_set() and not await leadership.still_held():
                log.warning("this worker lost the leadership; stopping %s", names)
                break
        stepping_down.set()
        _done, pending = await asyncio.wait(tasks, timeout=30)
        for task in pending:
            task.cancel()
        for task in tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                log.error("singleton loop %s failed", task.get_name(), exc_info=task.exception())
        await leadership.release()

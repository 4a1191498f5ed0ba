"""A request budget per CRM portal/org: at most N requests in any rolling window.

Adapters take a slot before each HTTP request. The CRM's own word wins: a 429's
Retry-After, or HubSpot's `X-HubSpot-RateLimit-Remaining: 0`, pauses every caller until
the window has passed.

HubSpot counts requests per app, not per process: `SharedRequestBudget` keeps one budget for
every worker on one PostgreSQL database (see its docstring); `RequestBudget` is one process's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable

import asyncpg
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)


class RequestBudget:
    """At most `requests` requests per `per_seconds` rolling window, shared by one adapter."""

    def __init__(
        self,
        requests: int,
        per_seconds: float = 10.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if requests < 1:
            raise ValueError("a request budget needs at least one request per window")
        self.requests = requests
        self.per_seconds = per_seconds
        self._clock = clock
        self._sent: deque[float] = deque()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()
        self.used = 0  # requests sent through this budget, for metrics and benchmarks
        self.waited = 0.0  # seconds spent waiting for a slot

    async def acquire(self) -> None:
        """Wait for a slot in the window (callers are served in turn)."""
        async with self._lock:
            while True:
                now = self._clock()
                while self._sent and self._sent[0] <= now - self.per_seconds:
                    self._sent.popleft()
                wait = self._paused_until - now
                if wait <= 0 and len(self._sent) >= self.requests:
                    wait = self._sent[0] + self.per_seconds - now
                if wait <= 0:
                    self._sent.append(now)
                    self.used += 1
                    return
                self.waited += wait
                await asyncio.sleep(wait)

    def pause(self, seconds: float) -> None:
        """Send nothing more for `seconds` (after a 429, or when the CRM says none remain)."""
        self._paused_until = max(self._paused_until, self._clock() + max(seconds, 0.0))

    async def aclose(self) -> None:
        """Release what the budget holds (nothing, for one process's budget)."""


class SharedRequestBudget(RequestBudget):
    """One budget for every process on one PostgreSQL database: each of the `requests`
    requests a window allows is a slot, a session advisory lock `(key, slot)` taken on a
    connection of this budget's own. A request takes a free slot and holds it for
    `per_seconds`, so all processes together send at most `requests` in any rolling window —
    the way HubSpot counts — with no table, no shared clock (each process times the slots it
    holds on its own monotonic clock) and nothing to clean up: PostgreSQL releases the slots
    of a process whose connection ends. A process waiting for a slot asks again every
    `per_seconds / requests` seconds (50 ms for 190 per 10 s)."""

    def __init__(
        self,
        database_url: str,
        *,
        key: int,
        requests: int,
        per_seconds: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(requests, per_seconds, clock=clock)
        parsed = make_url(database_url.replace("postgres://", "postgresql://", 1))
        self._dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        self.key = key
        self._connection: asyncpg.Connection | None = None
        self._held: deque[tuple[float, int]] = deque()  # (taken at, slot), oldest first
        self._db_lock = asyncio.Lock()  # one statement at a time on the connection
        self._releaser: asyncio.Task[None] | None = None
        self._poll = min(max(per_seconds / requests, 0.01), 0.25)

    async def acquire(self) -> None:
        """Wait for a free slot of the shared window (this process's callers in turn)."""
        async with self._lock:
            while True:
                wait = self._paused_until - self._clock()
                if wait <= 0:
                    slot = await self._take()
                    if slot is not None:
                        self._held.append((self._clock(), slot))
                        self.used += 1
                        self._release_later()
                        return
                    wait = self._poll
                self.waited += wait
                await asyncio.sleep(wait)

    async def _take(self) -> int | None:
        """Lock a free slot (none held by this process: session locks stack), or None."""
        try:
            async with self._db_lock:
                connection = await self._connect()
                await self._release_expired(connection)
                mine = [slot for _at, slot in self._held]
                slot = await connection.fetchval(
                    "SELECT s FROM generate_series(0, $2::int - 1) AS s WHERE CASE"
                    " WHEN s = ANY($3::int[]) THEN false ELSE pg_try_advisory_lock($1::int, s) END"
                    " LIMIT 1",
                    self.key,
                    self.requests,
                    mine,
                    timeout=10,
                )
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            log.warning("shared request budget: database unavailable (%s)", type(exc).__name__)
            await self._drop()
            return None
        return None if slot is None else int(slot)

    async def _connect(self) -> asyncpg.Connection:
        if self._connection is None or self._connection.is_closed():
            self._held.clear()  # a closed connection released every slot it held
            self._connection = await asyncpg.connect(self._dsn, timeout=10)
        return self._connection

    async def _release_expired(self, connection: asyncpg.Connection) -> None:
        expired = []
        now = self._clock()
        while self._held and self._held[0][0] + self.per_seconds <= now:
            expired.append(self._held.popleft()[1])
        if expired:
            await connection.execute(
                "SELECT pg_advisory_unlock($1::int, s) FROM unnest($2::int[]) AS s",
                self.key,
                expired,
                timeout=10,
            )

    def _release_later(self) -> None:
        """Free each slot when its window has passed, even if no request follows."""
        if self._releaser is None or self._releaser.done():
            self._releaser = asyncio.get_running_loop().create_task(self._release_loop())

    async def _release_loop(self) -> None:
        while self._held:
            await asyncio.sleep(max(self._held[0][0] + self.per_seconds - self._clock(), 0.0))
            try:
                async with self._db_lock:
                    if self._connection is not None and not self._connection.is_closed():
                        await self._release_expired(self._connection)
                    else:
                        self._held.clear()
            except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                log.warning("shared request budget: release failed (%s)", type(exc).__name__)
                await self._drop()

    async def _drop(self) -> None:
        self._held.clear()
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close(timeout=5)
        self._connection = None

    async def aclose(self) -> None:
        """Give every held slot back and close the connection."""
        if self._releaser is not None:
            self._releaser.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._releaser
        async with self._db_lock:
            await self._drop()


def budget_for(database_url: str, *, key: int, requests: int, per_seconds: float) -> RequestBudget:
    """The budget a CRM adapter should use: shared by every worker on PostgreSQL, the
    process's own on SQLite (which one process serves)."""
    if database_url.startswith(("postgresql", "postgres:")):
        return SharedRequestBudget(
            database_url, key=key, requests=requests, per_seconds=per_seconds
        )
    return RequestBudget(requests, per_seconds)

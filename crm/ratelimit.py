"""A request budget per CRM portal/org: at most N requests in any rolling window.

Adapters take a slot before each HTTP request. The CRM's own word wins: a 429's
Retry-After, or HubSpot's `X-HubSpot-RateLimit-Remaining: 0`, pauses every caller until
the window has passed, which also keeps several workers sharing one portal within it.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable


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

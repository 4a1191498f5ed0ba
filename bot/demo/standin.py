"""The common part of the local stand-ins for Slack, HubSpot and Salesforce.

Each runs an aiohttp server on loopback in its own thread and event loop, so it answers
even while a test blocks (on a subprocess, or on a synchronous SDK in a worker thread).
"""

from __future__ import annotations

import asyncio
import ssl
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass
from typing import Any, Self

from aiohttp import web


@dataclass
class Fault:
    """A scripted misbehaviour: the next `remaining` matching requests get it."""

    kind: str  # error|rate_limit|slow|...
    value: Any
    remaining: int


class RollingWindow:
    """Counts requests in a rolling window, as a CRM's rate limiter does."""

    def __init__(self, limit: int | None, seconds: float) -> None:
        self.limit, self.seconds = limit, seconds
        self._seen: deque[float] = deque()

    def take(self) -> tuple[bool, int]:
        """Admit one request if the window has room; return (admitted, remaining)."""
        now = time.monotonic()
        while self._seen and self._seen[0] <= now - self.seconds:
            self._seen.popleft()
        if self.limit is None:
            return True, 1_000_000
        if len(self._seen) >= self.limit:
            return False, 0
        self._seen.append(now)
        return True, self.limit - len(self._seen)

    def retry_after(self) -> float:
        """Seconds until the oldest request leaves the window."""
        if not self._seen:
            return 0.0
        return max(self._seen[0] + self.seconds - time.monotonic(), 0.0)


class ThreadedStandIn(ABC):
    """Subclasses add their routes; `start()` serves them on a free loopback port."""

    thread_name = "stand-in"

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.port = 0
        self.ssl_context = ssl_context
        self.lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    @abstractmethod
    def add_routes(self, app: web.Application) -> None:
        """Register the stand-in's routes."""

    def start(self) -> Self:
        """Serve on a free loopback port in a background thread."""
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self._serve())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name=self.thread_name, daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError(f"{self.thread_name} did not start")
        return self

    async def _serve(self) -> None:
        app = web.Application(client_max_size=20 * 1024 * 1024)
        self.add_routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self.ssl_context)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def stop(self) -> None:
        """Shut the server and its thread down."""
        if self._loop is None or self._runner is None:
            return
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

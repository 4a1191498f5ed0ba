"""`partnerbot serve`: uvicorn over HTTP, plus Socket Mode when an app token is set."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.applications import Starlette

from bot.app import build_app
from bot.logs import configure_logging
from bot.settings import Settings, load_settings

log = logging.getLogger(__name__)


class GracefulServer(uvicorn.Server):
    """uvicorn that stops gracefully on SIGTERM/SIGINT and then exits 0, like the worker.

    (uvicorn itself re-raises the signal after shutting down, so the process would end
    with -15; a platform would read that as a crash.)
    """

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Turn SIGTERM/SIGINT into a graceful exit for as long as the server runs."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._on_signal, signum)
        try:
            yield
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)

    def _on_signal(self, signum: int) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        if self.should_exit and signum == signal.SIGINT:
            self.force_exit = True  # a second Ctrl-C does not wait for open connections
        self.should_exit = True


def _explain_missing_slack(settings: Settings, url: str) -> None:
    missing = settings.missing_slack_settings()
    lines = [
        f"partnerbot is serving {url}/healthz and {url}/metrics, but Slack is not configured.",
        "To talk to Slack, set (in the environment or a .env file):",
        *(f"  {name}" for name in missing),
        "then create the Slack app from slack-manifest.yml (see README.md).",
    ]
    sys.stderr.write("\n".join(lines) + "\n")


async def run_server(settings: Settings, *, host: str, port: int) -> None:
    """Serve until SIGTERM/SIGINT (uvicorn handles both), then shut down cleanly."""
    bot = build_app(settings)
    config = uvicorn.Config(
        bot.asgi,
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        access_log=False,
        lifespan="on",
    )
    server = GracefulServer(config)
    socket_mode = None
    if not settings.slack_configured:
        _explain_missing_slack(settings, f"http://{host}:{port}")
    elif settings.slack_app_token is not None and bot.bolt is not None:
        from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

        socket_mode = AsyncSocketModeHandler(bot.bolt, settings.slack_app_token.get_secret_value())
        await socket_mode.connect_async()
        log.info("connected to Slack over Socket Mode")
    else:
        log.info("receiving Slack requests at http://%s:%s/slack/events", host, port)
    try:
        await server.serve()
    finally:
        if socket_mode is not None:
            await socket_mode.close_async()


def create_asgi() -> Starlette:
    """The ASGI app for one of `serve --workers N`'s processes (settings from the environment)."""
    settings = load_settings()
    configure_logging(settings.log_level)
    return build_app(settings).asgi


def run_workers(settings: Settings, *, host: str, port: int, workers: int) -> None:
    """Serve HTTP from several processes sharing one socket (uvicorn's supervisor)."""
    if not settings.slack_configured:
        _explain_missing_slack(settings, f"http://{host}:{port}")
    uvicorn.run(
        "bot.server:create_asgi",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level.lower(),
        access_log=False,
    )

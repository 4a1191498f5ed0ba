"""`partnerbot serve`: uvicorn over HTTP, plus Socket Mode when an app token is set."""

from __future__ import annotations

import logging
import sys

import uvicorn

from bot.app import build_app
from bot.settings import Settings

log = logging.getLogger(__name__)


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
    server = uvicorn.Server(config)
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

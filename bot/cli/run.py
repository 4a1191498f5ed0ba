"""Running partnerbot: `serve`, `worker` (long-running or `--once [--at]`), `db upgrade`."""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Annotated

import typer

from bot.cli.base import (
    app,
    err,
    group,
    out,
    settings_or_exit,
)
from bot.clock import parse_instant, system_clock
from bot.errors import UserFacingError
from store.migrate import upgrade_sync

log = logging.getLogger(__name__)

db_app = group("db", "Database schema.")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Port (default: $PORT, else 3000).")] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="HTTP worker processes (default: $WEB_CONCURRENCY, else 1)."),
    ] = None,
) -> None:
    """Serve Slack over HTTP (or Socket Mode when an app token is set), /healthz and /metrics."""
    from bot.server import run_server, run_workers

    settings = settings_or_exit()
    workers = workers if workers is not None else int(os.environ.get("WEB_CONCURRENCY", "1") or 1)
    if workers > 1 and settings.slack_app_token is not None:
        err.print("partnerbot: Socket Mode runs in one process; drop --workers.")
        raise typer.Exit(2)
    upgrade_sync(settings.database_url)
    chosen_port = port if port is not None else int(os.environ.get("PORT", "3000"))
    if workers > 1:
        run_workers(settings, host=host, port=chosen_port, workers=workers)
    else:
        asyncio.run(run_server(settings, host=host, port=chosen_port))


@app.command()
def worker(
    once: Annotated[
        bool, typer.Option("--once", help="Run every job once, deliver what it queued, exit.")
    ] = False,
    at: Annotated[
        str | None,
        typer.Option(help="With --once: as of this ISO-8601 time (default: now)."),
    ] = None,
) -> None:
    """Run the background worker: CRM outbox and notifications, and in one leading worker the
    scheduler, the mail loop and the CRM mirror. Stops cleanly on SIGTERM."""
    from bot.app import build_app
    from bot.worker import build_worker, run_once
    from crm import build_crm

    settings = settings_or_exit()
    if at is not None and not once:
        err.print("partnerbot: --at goes with --once")
        raise typer.Exit(2)
    try:
        moment = parse_instant(at) if at is not None else system_clock()
    except ValueError as exc:
        err.print(f"partnerbot: --at: {exc}", highlight=False)
        raise typer.Exit(2) from None
    upgrade_sync(settings.database_url)

    async def run() -> None:
        bot = build_app(settings)
        try:
            crm = build_crm(settings, bot.services.db)
        except UserFacingError as exc:
            err.print(f"[red]partnerbot: {exc.message}[/red]", highlight=False)
            raise typer.Exit(2) from None
        if once:
            await bot.start()
            try:
                report = await run_once(bot.services, crm, moment)
            finally:
                await bot.aclose()
                await crm.aclose()
            for line in report.lines():
                out.print(line, highlight=False, markup=False)
            return
        runner = build_worker(bot.services, crm)
        runner.install_signal_handlers()
        await runner.run()

    asyncio.run(run())


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the latest version."""
    settings = settings_or_exit()
    upgrade_sync(settings.database_url)
    out.print("Database is up to date.")

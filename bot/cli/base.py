"""What every command group shares: the app, settings, one session, printing rows and JSON."""

from __future__ import annotations

import asyncio
import getpass
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from bot.domain import audit
from bot.errors import UserFacingError
from bot.logs import configure_logging
from bot.settings import ConfigError, Settings, load_settings
from store.db import Database
from store.migrate import upgrade

log = logging.getLogger(__name__)
T = TypeVar("T")

app = typer.Typer(
    help="partnerbot: partner deal registration and collaboration, in Slack and email.",
    no_args_is_help=True,
    add_completion=False,
)


def group(name: str, help: str) -> typer.Typer:
    """A command group (`partnerbot NAME …`)."""
    sub = typer.Typer(help=help, no_args_is_help=True)
    app.add_typer(sub, name=name)
    return sub


err = Console(stderr=True)
out = Console()

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def settings_or_exit() -> Settings:
    try:
        settings = load_settings()
    except ConfigError as exc:
        err.print(f"[red]partnerbot: {exc}[/red]", highlight=False)
        raise typer.Exit(2) from None
    configure_logging(settings.log_level)
    return settings


def cli_actor() -> audit.Actor:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return audit.Actor.system(f"cli:{user}")


def in_session(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run `work(session)` in one transaction against an up-to-date schema."""

    async def run() -> T:
        db = Database(settings.database_url)
        try:
            await upgrade(db)
            async with db.session() as session:
                return await work(session)
        finally:
            await db.dispose()

    try:
        return asyncio.run(run())
    except UserFacingError as exc:
        err.print(f"[red]{exc.message}[/red]", highlight=False)
        raise typer.Exit(1) from None


def print_rows(rows: list[Any], fields: tuple[str, ...], *, as_json: bool) -> None:
    """Rows as a table, or as JSON objects with these fields."""
    if as_json:
        print_json([{f: getattr(r, f) for f in fields} for r in rows])
        return
    table = Table(*fields)
    for row in rows:
        table.add_row(*(str(getattr(row, f) or "") for f in fields))
    out.print(table)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, default=str, indent=2) + "\n")

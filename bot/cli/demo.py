"""`partnerbot demo`: the whole product, end to end, offline, in well under a minute."""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from bot.cli import base as cli_base
from bot.cli.base import app, err

STYLES = {"slack": "magenta", "view": "cyan", "email": "yellow", "cli": "green"}


@app.command()
def demo(
    keep: Annotated[
        Path | None,
        typer.Option(help="Leave the database and the mail in DIR, to explore with the CLI."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the events as JSON.")] = False,
) -> None:
    """Run the real `serve` and `worker` on a temporary SQLite database with the local CRM and
    local stand-ins for Slack and SMTP, and drive a story through Slack, email and the CLI:
    registration and a conflict, an approval, an announcement, training, deadlines, the CRM.
    Exits non-zero, naming the step, if anything does not work as it should."""
    from bot.demo.story import EXAMPLES, Event, Story

    if not (EXAMPLES / "training").is_dir():
        err.print(f"partnerbot demo needs the examples in {EXAMPLES} (run it from a clone).")
        raise typer.Exit(2)
    workdir = Path(tempfile.mkdtemp(prefix="partnerbot-demo-"))
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        if any(keep.iterdir()):
            err.print(f"partnerbot demo: {keep} is not empty.")
            raise typer.Exit(2)
        workdir = keep
    events: list[Event] = []
    out = Console(highlight=False)
    # The commands the story runs print into the transcript: as wide as its panels' insides.
    cli_base.out.size = cli_base.err.size = (max(out.width - 4, 60), out.height)

    def show(event: Event) -> None:
        events.append(event)
        if as_json:
            return
        if event.kind == "step":
            out.print()
            out.rule(f"[bold]{event.step}. {event.who}[/bold]", align="left")
        elif event.kind == "note":
            out.print(Text("▸ ", style="bold") + Text.from_markup(event.lines[0]))
        elif event.kind == "cli":
            out.print(Text.from_markup(event.lines[0]))
            for line in event.lines[1:]:
                out.print(Text("  ") + Text.from_markup(line, style="green"), soft_wrap=True)
        else:
            body = Text.from_markup("\n".join(event.lines) or " ")
            style = STYLES.get(event.kind, "white")
            out.print(Panel(body, title=event.who, title_align="left", border_style=style))

    started = time.monotonic()
    results = asyncio.run(Story(workdir, show).run())
    total = time.monotonic() - started
    ok = len(results) == 7 and all(r.ok for r in results)
    if as_json:
        print(  # the JSON document is the output
            json.dumps(
                {
                    "ok": ok,
                    "seconds": round(total, 2),
                    "steps": [asdict(r) for r in results],
                    "events": [
                        {"step": e.step, "kind": e.kind, "who": e.who, "text": _plain(e.lines)}
                        for e in events
                    ],
                },
                indent=2,
            )
        )
    else:
        table = Table("step", "what happened", "seconds", "result", title="partnerbot demo")
        for result in results:
            table.add_row(
                str(result.number),
                result.title,
                f"{result.seconds:.1f}",
                "[green]passed[/green]" if result.ok else "[red]FAILED[/red]",
            )
        out.print()
        out.print(table)
        out.print(f"All done in {total:.1f} s." if ok else f"Stopped after {total:.1f} s.")
        failed = next((r for r in results if not r.ok), None)
        if failed is not None:
            err.print(f"[red]Step {failed.number} ({failed.title}) failed:[/red]")
            err.print(failed.problem, markup=False, highlight=False)
        if keep is not None:
            out.print(
                f"The database and mail are in {keep}: try "
                f"PARTNERBOT_DATABASE_URL=sqlite:///{keep}/partnerbot.db partnerbot deals list"
            )
    if keep is None:
        shutil.rmtree(workdir, ignore_errors=True)
    if not ok:
        raise typer.Exit(1)


def _plain(lines: list[str]) -> str:
    return "\n".join(Text.from_markup(line).plain for line in lines)

"""`program load FILE` and `program show`: each tier's protection window, extension cap and
whether it needs certifications for gated products."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from bot.cli.base import (
    JsonOption,
    cli_actor,
    err,
    group,
    in_session,
    out,
    print_json,
    settings_or_exit,
)
from bot.clock import system_clock
from bot.domain import program
from bot.domain.sourcefile import FileProblems

program_app = group("program", "Program settings per tier (from a YAML file).")


@program_app.command("load")
def program_load(
    file: Annotated[Path, typer.Argument(help="The program file (YAML; see the README).")],
) -> None:
    """Set each tier's protection days, extension cap and certification requirement; all or
    nothing, and safe to re-run."""
    settings = settings_or_exit()
    source = str(file)
    try:
        specs = program.parse(source, file.read_text(encoding="utf-8"))
    except FileProblems as exc:
        err.print(exc.message, highlight=False, markup=False)
        raise typer.Exit(1) from None
    except (OSError, UnicodeDecodeError) as exc:
        err.print(f"{source}: cannot be read: {exc}", highlight=False, markup=False)
        raise typer.Exit(1) from None

    async def work(session: Any) -> program.LoadReport:
        return await program.apply(session, specs, actor=cli_actor(), now=system_clock())

    report = in_session(settings, work)
    out.print(
        f"Loaded {source}: {len(report.created)} tier(s) created, {len(report.updated)} "
        f"updated, {len(report.unchanged)} unchanged.",
        highlight=False,
    )
    if report.untouched:
        out.print("Not in the file (kept as they were): " + ", ".join(report.untouched))


@program_app.command("show")
def program_show(as_json: JsonOption = False) -> None:
    """Each tier with the settings in effect (the program defaults where it sets none) and
    how many active partners it has."""
    settings = settings_or_exit()

    async def work(session: Any) -> list[program.TierView]:
        return await program.show(session, default_protection_days=settings.protection_days)

    tiers = in_session(settings, work)
    if as_json:
        print_json([asdict(tier) for tier in tiers])
        return
    table = Table("tier", "protection days", "max extensions", "certification required", "partners")
    for tier in tiers:
        table.add_row(
            tier.name,
            f"{tier.protection_days}" + ("" if tier.protection_days_set else " (default)"),
            f"{tier.max_extensions}" + ("" if tier.max_extensions_set else " (default)"),
            "yes" if tier.certification_required else "no",
            str(tier.partners),
        )
    out.print(table)

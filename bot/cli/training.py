"""`training load DIR`, `training list` and `training invite MODULE …`."""

from __future__ import annotations

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
from bot.domain import catalogue, training
from bot.domain.sourcefile import FileProblems

training_app = group("training", "The training catalogue and invitations.")


def _split(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


@training_app.command("load")
def training_load(
    directory: Annotated[Path, typer.Argument(help="A directory of module files (*.yaml).")],
) -> None:
    """Check and load every module in DIR; a bad file loads nothing. Reloading updates modules
    in place and retires those whose file is gone (attempts and certifications stay)."""
    settings = settings_or_exit()
    try:
        specs = catalogue.read_catalogue(directory, settings.products)
    except FileProblems as exc:
        err.print(exc.message, highlight=False, markup=False)
        raise typer.Exit(1) from None

    async def work(session: Any) -> catalogue.LoadReport:
        return await catalogue.apply(session, specs, actor=cli_actor(), now=system_clock())

    report = in_session(settings, work)
    out.print(
        f"Loaded {directory}: {len(report.created)} module(s) created, {len(report.updated)} "
        f"updated, {len(report.unchanged)} unchanged, {len(report.retired)} retired"
        + (f", {len(report.restored)} restored" if report.restored else "")
        + ".",
        highlight=False,
    )


@training_app.command("list")
def training_list(
    retired: Annotated[bool, typer.Option(help="Include retired modules.")] = False,
    as_json: JsonOption = False,
) -> None:
    """The catalogue: each module's path, partner types, quiz, certification and products."""
    settings = settings_or_exit()

    async def work(session: Any) -> list[dict[str, Any]]:
        modules = await catalogue.modules(session, include_retired=retired)
        return [
            {
                "id": module.slug,
                "title": module.title,
                "path": module.learning_path,
                "partner_types": list(module.partner_types) or ["all"],
                "questions": len(module.quiz),
                "pass_mark": round(module.pass_mark * 100),
                "certification": module.certification,
                "valid_days": module.certification_valid_days if module.certification else None,
                "products": list(module.products),
                "retired": module.retired_at is not None,
            }
            for module in modules
        ]

    rows = in_session(settings, work)
    if as_json:
        print_json(rows)
        return
    table = Table(
        "id",
        "title",
        "path",
        "partner types",
        "questions",
        "pass mark",
        "certification",
        "products",
    )
    for row in rows:
        table.add_row(
            row["id"] + (" (retired)" if row["retired"] else ""),
            row["title"],
            row["path"],
            ", ".join(row["partner_types"]),
            str(row["questions"]),
            f"{row['pass_mark']}%",
            f"{row['certification']} ({row['valid_days']} days)" if row["certification"] else "",
            ", ".join(row["products"]),
        )
    out.print(table)


@training_app.command("invite")
def training_invite(
    module: Annotated[str, typer.Argument(help="The module's id (as in its file).")],
    partner: Annotated[str | None, typer.Option(help="Everyone at this partner company.")] = None,
    types: Annotated[str | None, typer.Option(help="Partner types, comma-separated.")] = None,
    tiers: Annotated[str | None, typer.Option(help="Tiers, comma-separated.")] = None,
    regions: Annotated[str | None, typer.Option(help="Regions, comma-separated.")] = None,
    email: Annotated[str | None, typer.Option(help="One person, by email address.")] = None,
    via: Annotated[str, typer.Option(help="slack, email or slack,email.")] = "slack",
) -> None:
    """Send a module: by Slack a DM with `Start training`; by email its content and quiz, to
    answer by replying (`1b 2a 3c`). People without Slack get the email. Each person is
    invited once per version of the module."""
    settings = settings_or_exit()
    chosen = [name for name, value in (("--partner", partner), ("--email", email)) if value]
    if types or tiers or regions:
        chosen.append("--types/--tiers/--regions")
    if len(chosen) > 1:
        err.print("partnerbot: choose one of " + ", ".join(chosen), highlight=False)
        raise typer.Exit(2)
    ways = tuple(sorted(set(_split(via))))
    if not ways or any(way not in ("slack", "email") for way in ways):
        err.print("partnerbot: --via takes slack, email or slack,email", highlight=False)
        raise typer.Exit(2)

    async def work(session: Any) -> training.Invited:
        return await training.invite(
            session,
            slug=module,
            audience=training.InviteAudience(
                partner=partner,
                email=email,
                partner_types=tuple(_split(types)),
                tiers=tuple(_split(tiers)),
                regions=tuple(_split(regions)),
            ),
            via=ways,
            actor=cli_actor(),
            now=system_clock(),
        )

    invited = in_session(settings, work)
    out.print(
        f"Invited {invited.people} people to “{invited.title}”: {invited.by_slack} by Slack, "
        f"{invited.by_email} by email"
        + (f"; {invited.already} already invited" if invited.already else "")
        + (f"; {invited.passed} passed it already" if invited.passed else "")
        + ".",
        highlight=False,
    )
    for person, why in invited.unreachable:
        out.print(f"Not reachable: {person} ({why})", highlight=False)
    if settings.slack_configured is False and invited.by_slack:
        err.print("Slack is not configured: the Slack invitations wait in the outbox.")

"""`partners import` and `users add|revoke|list`."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
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
from bot.domain import partner_import, people

partners_app = group("partners", "Partner companies.")
users_app = group("users", "People who may use partnerbot.")


@partners_app.command("import")
def partners_import(
    file: Annotated[Path, typer.Argument(help="CSV or YAML: " + ",".join(partner_import.FIELDS))],
) -> None:
    """Import partner companies and their people; all or nothing, and safe to re-run."""
    settings = settings_or_exit()
    source = str(file)
    try:
        rows = partner_import.read_rows(file)
        specs, persons = partner_import.validate(source, rows)
    except partner_import.PartnerImportError as exc:
        err.print(exc.message, highlight=False, markup=False)
        raise typer.Exit(1) from None
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task(f"Importing {file.name}", total=len(persons))

        async def work(session: Any) -> partner_import.ImportReport:
            return await partner_import.import_partners(
                session,
                source,
                specs,
                persons,
                actor=cli_actor(),
                now=system_clock(),
                on_progress=lambda done: progress.update(task, completed=done),
            )

        report = in_session(settings, work)
    out.print(
        f"Imported {source}: {report.partners_created} partner(s) created, "
        f"{report.partners_updated} updated; {report.people_created} people created, "
        f"{report.people_updated} updated, {report.unchanged} unchanged."
    )
    if report.still_revoked:
        out.print(
            "Left revoked (use `partnerbot users add` to restore): "
            + ", ".join(report.still_revoked)
        )


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Option(help="Full name.")],
    email: Annotated[str, typer.Option(help="Email address (their identity).")],
    role: Annotated[str, typer.Option(help="partner, manager or admin.")],
    partner: Annotated[str | None, typer.Option(help="Partner company (partner users).")] = None,
    slack_user_id: Annotated[
        str | None, typer.Option(help="Slack user id, e.g. U012ABCDEF.")
    ] = None,
) -> None:
    """Add a person (or update and restore the one with this email)."""
    settings = settings_or_exit()

    async def work(session: Any) -> str:
        person = await people.add_person(
            session,
            actor=cli_actor(),
            name=name,
            email=email,
            role=role,
            partner_name=partner,
            slack_user_id=slack_user_id,
            now=system_clock(),
        )
        return f"{person.email} is a {person.role}" + (f" at {partner}" if partner else "") + "."

    out.print(in_session(settings, work))


@users_app.command("revoke")
def users_revoke(email: Annotated[str, typer.Argument(help="The person's email address.")]) -> None:
    """Revoke a person's access; it takes effect on their very next request."""
    settings = settings_or_exit()

    async def work(session: Any) -> str:
        person = await people.revoke_person(
            session, actor=cli_actor(), email=email, now=system_clock()
        )
        return f"Revoked {person.email}."

    out.print(in_session(settings, work))


@users_app.command("list")
def users_list(as_json: JsonOption = False) -> None:
    """List everybody, with role, partner company and whether they are revoked."""
    settings = settings_or_exit()

    async def work(session: Any) -> list[people.PersonRow]:
        return await people.list_people(session)

    rows = in_session(settings, work)
    if as_json:
        print_json([asdict(row) for row in rows])
        return
    table = Table("email", "name", "role", "partner", "slack", "revoked")
    for row in rows:
        revoked = row.revoked_at.strftime("%Y-%m-%d") if row.revoked_at else ""
        table.add_row(
            row.email, row.name, row.role, row.partner or "", row.slack_user_id or "", revoked
        )
    out.print(table)

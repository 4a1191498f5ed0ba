"""`announce` (publish from a script) and `report acks` (read receipts)."""

from __future__ import annotations

import csv
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlmodel import col, select

from bot.cli.base import JsonOption, app, err, in_session, out, print_json, settings_or_exit
from bot.cli.report import report_app
from bot.clock import system_clock
from bot.domain import publishing
from bot.domain.access import find_by_email
from bot.domain.publishing import MANAGERS, DraftErrors
from bot.errors import UserFacingError
from store.models import Channel, Person


def _split(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


async def _publisher(session: Any, email: str | None) -> Person:
    """The manager publishing: --as EMAIL, or the only manager or admin there is."""
    if email:
        person = await find_by_email(session, email)
        if person is None or person.role not in MANAGERS or person.revoked_at is not None:
            raise UserFacingError(f"{email} is not an active channel manager or admin")
        return person
    managers = list(
        (
            await session.exec(
                select(Person).where(
                    col(Person.role).in_(MANAGERS), col(Person.revoked_at).is_(None)
                )
            )
        ).all()
    )
    if len(managers) != 1:
        raise UserFacingError("say who publishes it: --as manager@vendor.example")
    return managers[0]


@app.command()
def announce(
    title: Annotated[str, typer.Option(help="The announcement's title.")],
    body_file: Annotated[
        Path, typer.Option("--body-file", help="The message (Slack mrkdwn), from a file.")
    ],
    types: Annotated[str | None, typer.Option(help="Partner types, comma-separated.")] = None,
    tiers: Annotated[str | None, typer.Option(help="Tiers, comma-separated.")] = None,
    regions: Annotated[str | None, typer.Option(help="Regions, comma-separated.")] = None,
    via: Annotated[str, typer.Option(help="slack, email or slack,email.")] = "slack",
    ack_required: Annotated[
        bool, typer.Option("--ack-required", help="Ask everyone to acknowledge.")
    ] = False,
    deadline: Annotated[str | None, typer.Option(help="Acknowledge by (YYYY-MM-DD).")] = None,
    rules: Annotated[bool, typer.Option("--rules", help="The new rules of engagement.")] = False,
    publisher: Annotated[
        str | None, typer.Option("--as", help="The publishing manager's email.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Publish an announcement; prints its id and returns at once (the worker delivers it)."""
    settings = settings_or_exit()
    try:
        body = body_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        err.print(f"partnerbot: cannot read {body_file}: {exc}", highlight=False)
        raise typer.Exit(2) from None
    now = system_clock()
    try:
        draft = publishing.validate_draft(
            title=title,
            body=body,
            partner_types=_split(types),
            tiers=_split(tiers),
            regions=_split(regions),
            via=_split(via),
            ack_required=ack_required,
            deadline=deadline,
            rules=rules,
            now=now,
        )
    except DraftErrors as exc:
        for field, message in exc.errors.items():
            err.print(f"partnerbot: --{field.replace('_', '-')}: {message}", highlight=False)
        raise typer.Exit(2) from None

    async def work(session: Any) -> dict[str, Any]:
        author = await _publisher(session, publisher)
        announcement = await publishing.create(
            session, author=author, draft=draft, now=now, publish=True, channel=Channel.CLI
        )
        reach = await publishing.audience(session, draft)
        return {
            "id": announcement.id,
            "people": reach.people,
            "companies": reach.companies,
            "slack": reach.by("slack"),
            "email": reach.by("email"),
            "unreachable": len(reach.unreachable),
        }

    result = in_session(settings, work)
    if as_json:
        print_json(result)
        return
    out.print(
        f"{result['id']}\nQueued for {result['people']} people at {result['companies']} companies"
        f" ({result['slack']} by Slack, {result['email']} by email; {result['unreachable']}"
        " unreachable). The worker delivers it.",
        highlight=False,
    )


@report_app.command("acks")
def report_acks(
    announcement_id: Annotated[
        int | None, typer.Argument(help="An announcement's id (default: the recent ones).")
    ] = None,
    as_json: JsonOption = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
) -> None:
    """Read receipts: per person and company, delivered / acknowledged (when, how) / not yet."""
    settings = settings_or_exit()
    if announcement_id is None:

        async def latest(session: Any) -> list[dict[str, Any]]:
            return [
                {
                    "id": a.id,
                    "title": a.title,
                    "published_at": a.published_at,
                    "audience": done.total,
                    "delivered": done.sent,
                    "failed": done.failed,
                    "acknowledged": acked,
                }
                for a, done, acked in await publishing.recent(session, limit=20)
            ]

        rows = in_session(settings, latest)
        if as_json:
            print_json(rows)
            return
        columns = ("id", "title", "published_at", "audience", "delivered", "failed", "acknowledged")
        table = Table(*columns)
        for summary in rows:
            table.add_row(*(str(summary[k]) for k in columns))
        out.print(table)
        return

    async def work(session: Any) -> publishing.Receipts:
        return await publishing.receipts(session, announcement_id)

    found = in_session(settings, work)
    people = [asdict(row) for row in found.rows]
    if as_json:
        print_json(
            {"announcement": found.announcement.id, "counts": found.counts, "people": people}
        )
        return
    if as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=list(people[0]) if people else ["person"])
        writer.writeheader()
        writer.writerows(people)
        return
    table = Table("person", "company", "delivered", "acknowledged", "how")
    for row in found.rows:
        when = row.acknowledged_at.strftime("%Y-%m-%d %H:%M") if row.acknowledged_at else "not yet"
        table.add_row(row.person, row.company, row.delivered, when, row.acknowledged_by or "")
    out.print(f"{found.announcement.title}: {found.counts}")
    out.print(table)

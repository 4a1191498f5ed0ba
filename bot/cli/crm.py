"""`deals list`, `crm timeline|sync` and `outbox list|retry`."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Annotated, Any

import typer
from rich.progress import Progress
from rich.table import Table
from sqlmodel import col, select

from bot.cli.base import (
    JsonOption,
    err,
    group,
    in_session,
    out,
    print_json,
    print_rows,
    settings_or_exit,
)
from bot.clock import system_clock
from bot.errors import UserFacingError
from store.db import Database
from store.migrate import upgrade_sync

deals_app = group("deals", "Deal registrations.")
crm_app = group("crm", "The CRM (local timeline).")
outbox_app = group("outbox", "Pending CRM writes.")


@deals_app.command("list")
def deals_list(as_json: JsonOption = False) -> None:
    """List deal registrations, newest first."""
    from bot.domain.deals import list_registrations

    settings = settings_or_exit()

    async def work(session: Any) -> list[Any]:
        page = await list_registrations(session, limit=100_000)
        return page.deals

    deals = in_session(settings, work)
    if as_json:
        print_json([asdict(deal) | {"next_step": deal.next_step} for deal in deals])
        return
    table = Table("id", "customer", "partner", "status", "protected until")
    for deal in deals:
        expiry = (
            deal.protection_expires_at.strftime("%Y-%m-%d") if deal.protection_expires_at else ""
        )
        table.add_row(str(deal.id), deal.customer, deal.partner or "", deal.status, expiry)
    out.print(table)


@crm_app.command("timeline")
def crm_timeline(
    deal: Annotated[int | None, typer.Option("--deal", help="A registration's id.")] = None,
    partner: Annotated[
        str | None, typer.Option("--partner", help="A partner company's name.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The local CRM's timeline of one registration, or of a partner company: its own notes
    (acknowledgements, replies, training, certifications) and its registrations'."""
    from crm.local import timeline
    from store.models import DealRegistration, Partner, PartnerDomain

    if (deal is None) == (partner is None):
        err.print("partnerbot: give --deal ID or --partner NAME")
        raise typer.Exit(2)
    settings = settings_or_exit()

    async def work(session: Any) -> list[Any]:
        ids, domains = [str(deal)], []
        if partner is not None:
            company = (await session.exec(select(Partner).where(Partner.name == partner))).first()
            if company is None:
                raise UserFacingError(f"No partner company named “{partner}”.")
            query = select(DealRegistration.id).where(DealRegistration.partner_id == company.id)
            ids = [str(i) for i in (await session.exec(query)).all()]
            owned = select(PartnerDomain.domain).where(PartnerDomain.partner_id == company.id)
            domains = list((await session.exec(owned)).all())
        db = Database(settings.database_url)
        try:
            notes = await timeline(db, record_type="deal", record_ids=ids)
            notes += await timeline(db, record_type="company", record_ids=domains)
        finally:
            await db.dispose()
        return sorted(notes, key=lambda n: (n.noted_at, n.id))

    notes = in_session(settings, work)
    if as_json:
        print_json(
            [
                {
                    "deal": n.record_id if n.record_type == "deal" else None,
                    "company": n.record_id if n.record_type == "company" else None,
                    "at": n.noted_at,
                    "author": n.author,
                    "text": n.text,
                }
                for n in notes
            ]
        )
        return
    table = Table("on", "when", "author", "note")
    for note in notes:
        on = f"deal {note.record_id}" if note.record_type == "deal" else note.record_id
        table.add_row(on, note.noted_at.strftime("%Y-%m-%d %H:%M"), note.author, note.text)
    out.print(table)


@crm_app.command("sync")
def crm_sync(
    full: Annotated[
        bool, typer.Option("--full", help="Copy every account, not only those changed.")
    ] = False,
) -> None:
    """Copy CRM accounts (domain, name, owner, incumbent partner) into the conflict mirror."""

    from bot.domain.mirror import sync_accounts
    from crm import build_crm
    from crm.base import CrmError

    settings = settings_or_exit()
    upgrade_sync(settings.database_url)

    async def run() -> int:
        db = Database(settings.database_url)
        try:
            crm = build_crm(settings, db)
        except UserFacingError as exc:
            err.print(f"[red]partnerbot: {exc.message}[/red]", highlight=False)
            raise typer.Exit(2) from None
        stopped: CrmError | str | None = None
        try:
            with Progress(console=err, transient=False) as bar:
                task = bar.add_task(f"Syncing {crm.name} accounts", total=None)

                def advance(copied: int, remaining: int | None) -> None:
                    done = bar.tasks[0].completed + copied
                    total = done + remaining if remaining is not None else None
                    bar.update(task, completed=done, total=total)

                try:
                    report = await sync_accounts(
                        db, crm, clock=system_clock, full=full, progress=advance
                    )
                except CrmError as exc:  # an outage, a limit HubSpot kept answering: say so
                    read = int(bar.tasks[0].completed)
                    stopped = exc
            if stopped is None and report.error is not None:  # the mirror stopped, said why
                read, stopped = report.read, report.error
            if stopped is not None:
                again = "crm sync --full" if full else "crm sync"
                err.print(
                    f"partnerbot: the sync stopped after {read} account(s): {stopped}\n"
                    f"What was read is kept; run `partnerbot {again}` again to go on from there.",
                    highlight=False,
                    markup=False,
                )
                raise typer.Exit(1)
            return report.copied
        finally:
            await crm.aclose()
            await db.dispose()

    try:
        copied = asyncio.run(run())
    except KeyboardInterrupt:  # Ctrl-C: every page written so far is kept with its cursor
        again = "crm sync --full" if full else "crm sync"
        err.print(
            f"\npartnerbot: the sync was interrupted; what was read is kept. Run"
            f" `partnerbot {again}` again to go on from there.",
            highlight=False,
            markup=False,
        )
        raise typer.Exit(130) from None
    out.print(f"{copied} account(s) copied into the mirror.")


@outbox_app.command("list")
def outbox_list(
    status: Annotated[str | None, typer.Option(help="pending, delivered or dead.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Rows waiting for (or done with, or given up on) the CRM, oldest first."""
    from store.models import OutboxItem

    settings = settings_or_exit()

    async def work(session: Any) -> list[Any]:
        query = select(OutboxItem).order_by(col(OutboxItem.id)).limit(1000)
        if status:
            query = query.where(OutboxItem.status == status)
        return list((await session.exec(query)).all())

    fields = ("id", "kind", "record_key", "status", "attempts", "next_attempt_at", "last_error")
    print_rows(in_session(settings, work), fields, as_json=as_json)


@outbox_app.command("retry")
def outbox_retry(
    ids: Annotated[
        list[int] | None, typer.Argument(help="Row ids (default: every dead row).")
    ] = None,
) -> None:
    """Send dead rows back to the queue; the worker delivers them again."""
    from bot.domain.outbox import retry_dead

    settings = settings_or_exit()

    async def work(session: Any) -> int:
        return await retry_dead(session, ids=ids, now=system_clock())

    out.print(f"{in_session(settings, work)} row(s) queued again.")

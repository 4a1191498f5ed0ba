"""The `partnerbot` command line."""

from __future__ import annotations

import asyncio
import getpass
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from sqlmodel import col, select

from bot.clock import parse_instant, system_clock
from bot.domain import audit, partner_import, people
from bot.errors import UserFacingError
from bot.logs import configure_logging
from bot.settings import ConfigError, Settings, load_settings
from store.db import Database
from store.migrate import upgrade, upgrade_sync

log = logging.getLogger(__name__)
T = TypeVar("T")

app = typer.Typer(
    help="partnerbot: partner deal registration and collaboration, in Slack and email.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
partners_app = typer.Typer(help="Partner companies.", no_args_is_help=True)
users_app = typer.Typer(help="People who may use partnerbot.", no_args_is_help=True)
deals_app = typer.Typer(help="Deal registrations.", no_args_is_help=True)
crm_app = typer.Typer(help="The CRM (local timeline).", no_args_is_help=True)
outbox_app = typer.Typer(help="Pending CRM writes.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)
mail_app = typer.Typer(help="Inbound email.", no_args_is_help=True)
for sub, name in (
    (db_app, "db"),
    (partners_app, "partners"),
    (users_app, "users"),
    (deals_app, "deals"),
    (audit_app, "audit"),
    (crm_app, "crm"),
    (outbox_app, "outbox"),
    (mail_app, "mail"),
):
    app.add_typer(sub, name=name)

err = Console(stderr=True)
out = Console()

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _settings() -> Settings:
    try:
        settings = load_settings()
    except ConfigError as exc:
        err.print(f"[red]partnerbot: {exc}[/red]", highlight=False)
        raise typer.Exit(2) from None
    configure_logging(settings.log_level)
    return settings


def _cli_actor() -> audit.Actor:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return audit.Actor.system(f"cli:{user}")


def _in_session(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
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


def _print_rows(rows: list[Any], fields: tuple[str, ...], *, as_json: bool) -> None:
    """Rows as a table, or as JSON objects with these fields."""
    if as_json:
        _print_json([{f: getattr(r, f) for f in fields} for r in rows])
        return
    table = Table(*fields)
    for row in rows:
        table.add_row(*(str(getattr(row, f) or "") for f in fields))
    out.print(table)


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, default=str, indent=2) + "\n")


# --- serve / worker / db ----------------------------------------------------------------


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

    settings = _settings()
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

    settings = _settings()
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
    settings = _settings()
    upgrade_sync(settings.database_url)
    out.print("Database is up to date.")


# --- partners / users ---------------------------------------------------------------------


@partners_app.command("import")
def partners_import(
    file: Annotated[Path, typer.Argument(help="CSV or YAML: " + ",".join(partner_import.FIELDS))],
) -> None:
    """Import partner companies and their people; all or nothing, and safe to re-run."""
    settings = _settings()
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
                actor=_cli_actor(),
                now=system_clock(),
                on_progress=lambda done: progress.update(task, completed=done),
            )

        report = _in_session(settings, work)
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
    settings = _settings()

    async def work(session: Any) -> str:
        person = await people.add_person(
            session,
            actor=_cli_actor(),
            name=name,
            email=email,
            role=role,
            partner_name=partner,
            slack_user_id=slack_user_id,
            now=system_clock(),
        )
        return f"{person.email} is a {person.role}" + (f" at {partner}" if partner else "") + "."

    out.print(_in_session(settings, work))


@users_app.command("revoke")
def users_revoke(email: Annotated[str, typer.Argument(help="The person's email address.")]) -> None:
    """Revoke a person's access; it takes effect on their very next request."""
    settings = _settings()

    async def work(session: Any) -> str:
        person = await people.revoke_person(
            session, actor=_cli_actor(), email=email, now=system_clock()
        )
        return f"Revoked {person.email}."

    out.print(_in_session(settings, work))


@users_app.command("list")
def users_list(as_json: JsonOption = False) -> None:
    """List everybody, with role, partner company and whether they are revoked."""
    settings = _settings()

    async def work(session: Any) -> list[people.PersonRow]:
        return await people.list_people(session)

    rows = _in_session(settings, work)
    if as_json:
        _print_json([asdict(row) for row in rows])
        return
    table = Table("email", "name", "role", "partner", "slack", "revoked")
    for row in rows:
        revoked = row.revoked_at.strftime("%Y-%m-%d") if row.revoked_at else ""
        table.add_row(
            row.email, row.name, row.role, row.partner or "", row.slack_user_id or "", revoked
        )
    out.print(table)


# --- deals / audit --------------------------------------------------------------------------


@deals_app.command("list")
def deals_list(as_json: JsonOption = False) -> None:
    """List deal registrations, newest first."""
    from bot.domain.deals import list_registrations

    settings = _settings()

    async def work(session: Any) -> list[Any]:
        page = await list_registrations(session, limit=100_000)
        return page.deals

    deals = _in_session(settings, work)
    if as_json:
        _print_json([asdict(deal) | {"next_step": deal.next_step} for deal in deals])
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
    """The local CRM's timeline of one registration, or of all a partner's registrations."""
    from crm.local import timeline
    from store.models import DealRegistration, Partner

    if (deal is None) == (partner is None):
        err.print("partnerbot: give --deal ID or --partner NAME")
        raise typer.Exit(2)
    settings = _settings()

    async def work(session: Any) -> list[Any]:
        ids = [str(deal)]
        if partner is not None:
            query = select(DealRegistration.id).join(Partner).where(Partner.name == partner)
            ids = [str(i) for i in (await session.exec(query)).all()]
        db = Database(settings.database_url)
        try:
            return await timeline(db, record_type="deal", record_ids=ids)
        finally:
            await db.dispose()

    notes = _in_session(settings, work)
    if as_json:
        _print_json(
            [
                {"deal": n.record_id, "at": n.noted_at, "author": n.author, "text": n.text}
                for n in notes
            ]
        )
        return
    table = Table("deal", "when", "author", "note")
    for note in notes:
        table.add_row(
            note.record_id, note.noted_at.strftime("%Y-%m-%d %H:%M"), note.author, note.text
        )
    out.print(table)


@crm_app.command("sync")
def crm_sync(
    full: Annotated[
        bool, typer.Option("--full", help="Copy every account, not only those changed.")
    ] = False,
) -> None:
    """Copy CRM accounts (domain, name, owner, incumbent partner) into the conflict mirror."""
    from rich.progress import Progress

    from bot.domain.mirror import sync_accounts
    from crm import build_crm

    settings = _settings()
    upgrade_sync(settings.database_url)

    async def run() -> int:
        db = Database(settings.database_url)
        try:
            crm = build_crm(settings, db)
        except UserFacingError as exc:
            err.print(f"[red]partnerbot: {exc.message}[/red]", highlight=False)
            raise typer.Exit(2) from None
        try:
            with Progress(console=err, transient=False) as bar:
                task = bar.add_task(f"Syncing {crm.name} accounts", total=None)

                def advance(copied: int, remaining: int | None) -> None:
                    done = bar.tasks[0].completed + copied
                    total = done + remaining if remaining is not None else None
                    bar.update(task, completed=done, total=total)

                report = await sync_accounts(
                    db, crm, clock=system_clock, full=full, progress=advance
                )
            return report.copied
        finally:
            await crm.aclose()
            await db.dispose()

    copied = asyncio.run(run())
    out.print(f"{copied} account(s) copied into the mirror.")


@outbox_app.command("list")
def outbox_list(
    status: Annotated[str | None, typer.Option(help="pending, delivered or dead.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Rows waiting for (or done with, or given up on) the CRM, oldest first."""
    from store.models import OutboxItem

    settings = _settings()

    async def work(session: Any) -> list[Any]:
        query = select(OutboxItem).order_by(col(OutboxItem.id)).limit(1000)
        if status:
            query = query.where(OutboxItem.status == status)
        return list((await session.exec(query)).all())

    fields = ("id", "kind", "record_key", "status", "attempts", "next_attempt_at", "last_error")
    _print_rows(_in_session(settings, work), fields, as_json=as_json)


@outbox_app.command("retry")
def outbox_retry(
    ids: Annotated[
        list[int] | None, typer.Argument(help="Row ids (default: every dead row).")
    ] = None,
) -> None:
    """Send dead rows back to the queue; the worker delivers them again."""
    from bot.domain.outbox import retry_dead

    settings = _settings()

    async def work(session: Any) -> int:
        return await retry_dead(session, ids=ids, now=system_clock())

    out.print(f"{_in_session(settings, work)} row(s) queued again.")


EX_TEMPFAIL = 75  # sysexits.h: the MTA keeps the message and tries again later


@mail_app.command("ingest")
def mail_ingest(
    maildir: Annotated[
        Path | None, typer.Option(help="Process a Maildir instead of one message on stdin.")
    ] = None,
) -> None:
    """Process one raw message from stdin (for an MTA pipe), or every new message of a Maildir.

    Exit 0 when the message has its outcome (acted on, refused — also when it is too large or
    cannot be parsed —, ignored, duplicate); 75 (EX_TEMPFAIL) when it could not be processed
    now (our side failed: the store), so the MTA keeps it and retries."""
    from bot.app import mail_context
    from bot.mail.inbound import Outcome, ingest, parser_pool
    from bot.mail.sources import ingest_maildir, read_stream

    settings = _settings()

    async def run() -> int:
        db = Database(settings.database_url)
        try:
            await upgrade(db)
            ctx = mail_context(settings, db, system_clock)
            if maildir is not None:
                ctx.parsers = parser_pool()
                try:
                    results = await ingest_maildir(ctx, maildir)
                finally:
                    ctx.parsers.shutdown()
                for result in results:
                    out.print(f"{result.key}: {result.outcome} {result.reason or ''}")
                failed = any(r.outcome == Outcome.FAILED for r in results)
                return EX_TEMPFAIL if failed else 0
            received = read_stream(sys.stdin.buffer, settings.mail_max_bytes)
            result = await ingest(ctx, received, source="pipe")
            out.print(f"{result.outcome} {result.reason or ''}".strip())
            return EX_TEMPFAIL if result.outcome == Outcome.FAILED else 0
        except Exception:
            log.exception("mail ingest failed")
            return EX_TEMPFAIL
        finally:
            await db.dispose()

    raise typer.Exit(asyncio.run(run()))


@mail_app.command("rejected")
def mail_rejected(
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 100,
    as_json: JsonOption = False,
) -> None:
    """Received mail that was refused or could not be processed, with the reason."""
    from store.models import InboundEmail

    settings = _settings()

    async def work(session: Any) -> list[Any]:
        query = (
            select(InboundEmail)
            .where(col(InboundEmail.outcome).in_(["rejected", "failed"]))
            .order_by(col(InboundEmail.received_at).desc(), col(InboundEmail.id).desc())
            .limit(limit)
        )
        return list((await session.exec(query)).all())

    fields = ("id", "received_at", "from_address", "subject", "outcome", "reason", "source")
    _print_rows(_in_session(settings, work), fields, as_json=as_json)


@audit_app.command("verify")
def audit_verify(as_json: JsonOption = False) -> None:
    """Check the audit log's hash chain; exit 1 if any event was edited, inserted or deleted."""
    settings = _settings()
    report = _in_session(settings, audit.verify)
    if as_json:
        _print_json({"ok": report.ok, "checked": report.checked, "problems": report.problems})
    elif report.ok:
        out.print(f"Audit log intact: {report.checked} event(s) verified.")
    else:
        err.print(f"[red]Audit log tampered with ({len(report.problems)} problem(s)):[/red]")
        for problem in report.problems:
            err.print(f"  {problem}", highlight=False, markup=False)
    if not report.ok:
        raise typer.Exit(1)


def main() -> None:
    """Console-script entry point."""
    app()

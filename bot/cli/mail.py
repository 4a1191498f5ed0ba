"""`mail ingest` (an MTA pipe, or a Maildir) and `mail rejected`."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlmodel import col, select

from bot.cli.base import (
    JsonOption,
    group,
    in_session,
    out,
    print_rows,
    settings_or_exit,
)
from bot.clock import system_clock
from store.db import Database
from store.migrate import upgrade

log = logging.getLogger(__name__)
mail_app = group("mail", "Inbound email.")


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

    settings = settings_or_exit()

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

    settings = settings_or_exit()

    async def work(session: Any) -> list[Any]:
        query = (
            select(InboundEmail)
            .where(col(InboundEmail.outcome).in_(["rejected", "failed"]))
            .order_by(col(InboundEmail.received_at).desc(), col(InboundEmail.id).desc())
            .limit(limit)
        )
        return list((await session.exec(query)).all())

    fields = ("id", "received_at", "from_address", "subject", "outcome", "reason", "source")
    print_rows(in_session(settings, work), fields, as_json=as_json)

"""Mail processed in batches: one bad message holds no other back, copies act once."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlmodel import select

from bot.mail.inbound import Outcome, ingest, ingest_many
from store.db import Database
from store.models import Acknowledgement, DealMessage, InboundEmail
from tests.mail.world import build_world, mail_ctx, mail_settings, reply

POISON = {
    "sqlite": [
        "CREATE TRIGGER poison BEFORE INSERT ON deal_message WHEN NEW.text LIKE '%POISON%'"
        " BEGIN SELECT RAISE(ABORT, 'poisoned comment'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN IF NEW.text LIKE '%POISON%'"
        " THEN RAISE EXCEPTION 'poisoned comment'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER poison BEFORE INSERT ON deal_message FOR EACH ROW"
        " EXECUTE FUNCTION poison()",
    ],
}


async def _sql(db: Database, *statements: str) -> None:
    async with db.engine.begin() as connection:
        for statement in statements:
            await connection.execute(text(statement))


async def test_a_message_that_breaks_is_kept_and_the_rest_of_its_batch_is_applied(
    program: Database,
) -> None:
    world = await build_world(program)
    ctx = mail_ctx(mail_settings(program), program)
    batch = [
        await reply(world, program, "Noted, thanks."),
        await reply(world, program, "The POC starts Monday.", subject="DEAL"),
        await reply(world, program, "POISON in this one.", subject="DEAL"),
        await reply(world, program, "Budget approved by their CFO.", subject="DEAL"),
    ]
    await _sql(program, *POISON[program.dialect])  # the database refuses one comment

    results = await ingest_many(ctx, batch, source="maildir")

    assert [r.outcome for r in results] == ["acted", "acted", "failed", "acted"]
    assert "poisoned comment" in (results[2].reason or "") and results[2].stored
    async with program.read() as session:
        comments = (await session.exec(select(DealMessage.text))).all()
        kept = (
            await session.exec(select(InboundEmail).where(InboundEmail.outcome == "failed"))
        ).one()
    assert sorted(comments) == ["Budget approved by their CFO.", "The POC starts Monday."]
    assert kept.raw == batch[2]  # nothing is lost: the message waits with its error

    # Fixed: the same message, offered again by its source, is applied once.
    await _sql(
        program,
        "DROP TRIGGER poison" + (" ON deal_message" if program.dialect == "postgresql" else ""),
    )
    again = await ingest_many(ctx, batch, source="maildir")
    assert [r.outcome for r in again] == ["duplicate", "duplicate", "acted", "duplicate"]
    async with program.read() as session:
        outcomes = (await session.exec(select(InboundEmail.outcome))).all()
    assert sorted(outcomes) == ["acted"] * 4


async def test_two_workers_given_the_same_message_at_once_act_on_it_once(
    program: Database,
) -> None:
    world = await build_world(program)
    raw = await reply(world, program, "Acknowledged for the whole team.")
    other = Database(program.url)  # a second worker process's own connection pool
    try:
        settings = mail_settings(program)
        first, second = mail_ctx(settings, program), mail_ctx(settings, other)
        results = await asyncio.gather(
            ingest(first, raw, source="imap"), ingest(second, raw, source="pipe")
        )
    finally:
        await other.dispose()
    assert sorted(r.outcome for r in results) == [Outcome.ACTED, Outcome.DUPLICATE]
    async with program.read() as session:
        acks = (await session.exec(select(Acknowledgement))).all()
        rows = (await session.exec(select(InboundEmail))).all()
    assert len(acks) == 1 and len(rows) == 1

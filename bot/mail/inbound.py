"""The inbound mail pipeline: every received message gets exactly one recorded outcome.

    parse → deduplicate → classify (too large, unparseable, our own, bounce, auto-reply)
    → authenticate (one From, our server's verdict, signed reply address) → extract the
    new text → act → write to the CRM timeline

`ingest_many()` is the one entry point and the error boundary. Messages are processed in
batches, one transaction each: the outcome rows, the domain changes and their CRM writes
commit together, keyed by Message-ID (a hash of the raw message when there is none), so a
message processed twice — a restart, a concurrent copy — acts once. The common replies
(acknowledgements, comments) are applied for the whole batch with a fixed number of
queries. If a batch fails, its messages are retried one by one, so one bad message is
kept as FAILED with its error and holds no other back; a message that cannot be parsed is
not FAILED but REJECTED (no retry would parse it). Refused mail is kept with its reason
(`partnerbot mail rejected`); one short explanation goes to an address known to be its
owner's, at most one per reason and REFUSALS_PER_DAY in all per address a day. Mail that
failed or lacked authentication, auto-replies and bounces never get an answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import BrokenExecutor, Executor, ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.mail import bounces, replies
from bot.mail.outbound import Outbox, Outgoing
from bot.mail.reading import (
    Parsed,
    Received,
    Unparseable,
    is_auto_reply,
    is_bounce,
    is_own,
    is_own_address,
    kept,
    message_key,
    read,
    read_all,
    reply_text,
)
from bot.mail.replies import REFUSALS, Refusal, Reply
from bot.settings import Settings
from store.db import Database
from store.models import InboundEmail, Person, Role, SentNudge

log = logging.getLogger(__name__)

BATCH = 100  # messages per transaction
REFUSALS_PER_DAY = 3  # refusals mailed to one address a day, whatever their reasons


class Outcome(StrEnum):
    """What became of a received message."""

    ACTED = "acted"
    DUPLICATE = "duplicate"
    AUTO_REPLY = "ignored_auto_reply"
    BOUNCE = "bounce"
    OWN_MAIL = "ignored_own_mail"
    REJECTED = "rejected"
    FAILED = "failed"  # our fault: kept, and the source retries


@dataclass
class Result:
    """A message's outcome, as recorded."""

    outcome: Outcome
    key: str
    reason: str | None = None
    text: str | None = None
    person_id: int | None = None
    subject_kind: str | None = None
    subject_id: int | None = None
    action: str | None = None
    replied: bool = False
    stored: bool = True  # the outcome is in the store (False: the source must keep it)


@dataclass
class MailContext:
    """What the pipeline needs: the store, the settings, a clock and (for refusals) an
    outbox."""

    db: Database
    settings: Settings
    clock: Clock  # the sources' time; tests and `--at` set it
    mail_outbox: Outbox | None = None
    parsers: Executor | None = None  # see `parser_pool`


@dataclass
class _Item:
    """One message on its way through a batch."""

    mail: Parsed
    result: Result
    earlier: InboundEmail | None = None  # a failed attempt, replaced by this one
    reply: Reply | None = None
    refusal: Refusal | None = None
    told: Person | None = None  # who is mailed the refusal


def parser_pool() -> ProcessPoolExecutor:
    """A worker process that parses mail while the pipeline applies the previous batch (for
    the Maildir and IMAP sources; parsing is most of a message's CPU)."""
    return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))


async def _read(ctx: MailContext, raws: Sequence[Received]) -> list[Parsed]:
    """Parse a batch: in the parser process when there is one, else here."""
    max_bytes = ctx.settings.mail_max_bytes
    if ctx.parsers is None or len(raws) < 2:
        return [read(raw, max_bytes) for raw in raws]
    try:
        loop = asyncio.get_running_loop()
        mails = await loop.run_in_executor(ctx.parsers, read_all, list(raws), max_bytes)
    except BrokenExecutor:
        log.error("the mail parser process died; parsing in this process from now on")
        ctx.parsers = None
        return [read(raw, max_bytes) for raw in raws]
    for mail, raw in zip(mails, raws, strict=True):
        mail.raw = kept(raw, max_bytes)
    return mails


async def _seen(db: Database, keys: list[str]) -> dict[str, InboundEmail]:
    async with db.read() as session:
        rows = await session.exec(
            select(InboundEmail).where(col(InboundEmail.message_id).in_(set(keys)))
        )
        return {row.message_id: row for row in rows.all()}


async def _too_large(
    session: AsyncSession, mail: Parsed, settings: Settings, now: datetime
) -> Refusal:
    """Mail over the size limit (only its headers were read): refused, and answered only
    when its headers authenticate the sender."""
    detail = f"{mail.size} bytes"
    try:
        person, _token = await replies.authenticate(session, mail, settings, now=now)
    except Refusal as unauthenticated:
        return Refusal("too_large", f"{detail}; not answered: {unauthenticated.reason}")
    return Refusal("too_large", detail, person=person, answerable=True)


async def _classify(session: AsyncSession, item: _Item, settings: Settings, now: datetime) -> None:
    """Too large, unparseable, own mail, bounce, auto-reply, or a reply to authenticate
    (→ item.reply or .refusal)."""
    mail, result = item.mail, item.result
    if mail.size > settings.mail_max_bytes:
        item.refusal = await _too_large(session, mail, settings, now)
    elif mail.problem is not None:
        item.refusal = Refusal("unparseable", mail.problem)
    elif is_own(mail, settings):
        result.outcome = Outcome.OWN_MAIL
    elif is_bounce(mail):
        result.outcome = Outcome.BOUNCE
        result.reason = await bounces.record(session, mail, now=now)
    elif is_auto_reply(mail):
        result.outcome = Outcome.AUTO_REPLY
    else:
        try:
            person, token = await replies.authenticate(session, mail, settings, now=now)
            text = reply_text(mail)
        except Refusal as refusal:
            item.refusal = refusal
            return
        except Unparseable as exc:
            item.refusal = Refusal("unparseable", str(exc))
            return
        result.person_id = person.id
        result.subject_kind, result.subject_id = str(token.kind), token.subject_id
        result.text = text
        item.reply = Reply(person, token, mail, text)


async def _act(
    session: AsyncSession,
    items: list[_Item],
    loaded: replies.Loaded,
    settings: Settings,
    now: datetime,
) -> None:
    """Apply the batch's replies: acknowledgements and comments together, commands one by one
    (each in a savepoint, so a refused command changes nothing)."""
    acks = [i for i in items if i.reply and replies.is_acknowledgement(i.reply, loaded)]
    comments = [i for i in items if i.reply and replies.is_plain_comment(i.reply, loaded)]
    grouped = {id(i) for i in acks + comments}
    for item in items:
        if item.reply is None or id(item) in grouped:
            continue
        try:
            async with session.begin_nested():
                item.result.action = await replies.act(session, item.reply, settings, now=now)
        except Refusal as refusal:  # to an authenticated sender: they may hear why
            person = refusal.person or item.reply.person
            item.refusal = replace(refusal, person=person, answerable=True)
            item.reply = None
    actions = await replies.acknowledge_all(session, [i.reply for i in acks if i.reply], now=now)
    for item, action in zip(acks, actions, strict=True):
        item.result.action = action
    await replies.comment_all(session, [i.reply for i in comments if i.reply], now=now)
    for item in comments:
        item.result.action = "deal.commented"
    acted = [(i.reply, i.result.action or "") for i in items if i.reply is not None]
    await replies.write_notes(session, acted, now=now)


class _NoSlotLeft(Exception):
    """Today's refusals to an address are used up."""


def _address_key(address: str) -> str:
    """An address as a `sent_nudge` key (which holds 128 characters)."""
    address = address.lower()
    if len(address) <= 128:
        return address
    return "sha256:" + hashlib.sha256(address.encode()).hexdigest()


async def _claim(session: AsyncSession, kind: str, key: str, due: str, now: datetime) -> bool:
    """Insert a `sent_nudge` row in a savepoint; False when it was already there."""
    try:
        async with session.begin_nested():
            session.add(SentNudge(kind=kind, subject_key=key, due_key=due, sent_at=now))
        return True
    except IntegrityError:
        return False


async def _claim_refusal(session: AsyncSession, address: str, reason: str, now: datetime) -> bool:
    """Claim a refusal to this address today: one per reason and REFUSALS_PER_DAY in all,
    however many senders (or From addresses) cause them. The claims are `sent_nudge` rows in
    the batch's transaction, so concurrent workers cannot both take the same one."""
    key, day = _address_key(address), now.date().isoformat()
    try:
        async with session.begin_nested():
            if not await _claim(session, "mail.refusal", key, f"{reason}:{day}", now):
                return False
            for slot in range(1, REFUSALS_PER_DAY + 1):
                if await _claim(session, "mail.refusal.day", key, f"{day}:{slot}", now):
                    return True
            raise _NoSlotLeft  # undoes the claim of this reason too
    except _NoSlotLeft:
        return False


def _addressee(mail: Parsed, refusal: Refusal, settings: Settings) -> Person | None:
    """Whom a refusal may be mailed to: the person it concerns, else the sender — only when
    that address is known to be theirs (see `Refusal.answerable`), and never ourselves."""
    if not refusal.answerable or refusal.reason not in REFUSALS:
        return None
    person = refusal.person or Person(id=None, name="", email=mail.sender, role=Role.PARTNER)
    return None if is_own_address(person.email, settings) else person


async def _settle(session: AsyncSession, item: _Item, settings: Settings, now: datetime) -> None:
    """The outcome's reason; a refusal's outcome, and whether (and whom) it is told today."""
    result, refusal = item.result, item.refusal
    if result.action:
        result.reason = result.action
    if refusal is None:
        return
    result.outcome = Outcome.REJECTED
    result.reason = refusal.reason + (f": {refusal.detail}" if refusal.detail else "")
    if refusal.person is not None:
        result.person_id = refusal.person.id
    told = _addressee(item.mail, refusal, settings)
    if told is not None and await _claim_refusal(session, told.email, refusal.reason, now):
        item.told, result.replied = told, True


def _row(item: _Item, source: str, now: datetime) -> dict[str, Any]:
    """The message's `inbound_email` row (the raw message is kept unless it was acted on)."""
    mail, result = item.mail, item.result
    sender = mail.sender or ", ".join(mail.headers.all("from"))
    return {
        "message_id": result.key,
        "received_at": now,
        "from_address": sender[:320],
        "subject": mail.subject[:2000],
        "person_id": result.person_id,
        "outcome": result.outcome,
        "reason": result.reason,
        "extracted_text": result.text,
        "subject_kind": result.subject_kind,
        "subject_id": result.subject_id,
        "raw": None if result.outcome == Outcome.ACTED else mail.raw,
        "source": source,
        "size": mail.size,
    }


async def _insert_rows(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        connection = await session.connection()
        await connection.execute(insert(InboundEmail), rows)


async def _batch(ctx: MailContext, mails: list[Parsed], source: str, now: datetime) -> list[_Item]:
    """A batch of messages in one transaction; copies of a message already recorded (or
    earlier in the batch) come out as duplicates."""
    seen = await _seen(ctx.db, [m.key for m in mails])
    items: list[_Item] = []
    async with ctx.db.session() as session:
        fresh: list[_Item] = []
        keys: set[str] = set()
        for mail in mails:
            item = _Item(mail, Result(Outcome.ACTED, mail.key), seen.get(mail.key))
            items.append(item)
            if item.earlier is not None and item.earlier.outcome != Outcome.FAILED:
                item.result = Result(Outcome.DUPLICATE, mail.key, f"already {item.earlier.outcome}")
            elif mail.key in keys:
                item.result = Result(Outcome.DUPLICATE, mail.key, "already in this batch")
            else:
                keys.add(mail.key)
                fresh.append(item)
        loaded = await replies.load(session, [i.mail for i in fresh], ctx.settings)
        for item in fresh:
            await _classify(session, item, ctx.settings, now)
        await _act(session, fresh, loaded, ctx.settings, now)
        for item in fresh:
            await _settle(session, item, ctx.settings, now)
        failed = [i.earlier.id for i in fresh if i.earlier is not None]
        if failed:
            await session.exec(delete(InboundEmail).where(col(InboundEmail.id).in_(failed)))
        await _insert_rows(session, [_row(item, source, now) for item in fresh])
    return items


async def _keep_failed(
    ctx: MailContext, mail: Parsed, source: str, now: datetime, error: str
) -> bool:
    """Keep a message that broke, with its error; False if the store cannot take it either."""
    try:
        async with ctx.db.session() as session:
            await session.exec(delete(InboundEmail).where(col(InboundEmail.message_id) == mail.key))
            item = _Item(mail, Result(Outcome.FAILED, mail.key, error))
            await _insert_rows(session, [_row(item, source, now)])
        return True
    except Exception:
        log.exception("mail %s could not be kept either; its source keeps it", mail.key)
        return False


async def _send_refusal(ctx: MailContext, item: _Item, now: datetime) -> None:
    """Mail the refusal to whom `_settle` chose."""
    mail, refusal, told = item.mail, item.refusal, item.told
    assert refusal is not None and told is not None
    if ctx.mail_outbox is None:
        log.warning("no SMTP configured: a refusal (%s) was not sent", refusal.reason)
        return
    explanation, advice = REFUSALS[refusal.reason]
    await ctx.mail_outbox.send(
        Outgoing(
            person=told,
            template="refusal",
            context={
                "original_subject": mail.subject,
                "explanation": explanation.format(detail=refusal.detail),
                "advice": advice,
            },
            in_reply_to=mail.headers.first("message-id") or None,
        ),
        now=now,
    )


async def _process(
    ctx: MailContext, mails: list[Parsed], source: str, now: datetime
) -> list[_Item]:
    """A batch; if it fails, each message alone, so one bad message holds no other back."""
    try:
        return await _batch(ctx, mails, source, now)
    except Exception as exc:
        if len(mails) > 1:
            log.warning("a batch of %d failed (%s); processing them one by one", len(mails), exc)
            return [item for mail in mails for item in await _process(ctx, [mail], source, now)]
        [mail] = mails
        if isinstance(exc, IntegrityError) and mail.key in await _seen(ctx.db, [mail.key]):
            return [_Item(mail, Result(Outcome.DUPLICATE, mail.key, "processed concurrently"))]
        log.exception("mail %s could not be processed", mail.key)
        error = f"{type(exc).__name__}: {exc}"[:2000]
        stored = await _keep_failed(ctx, mail, source, now, error)
        return [_Item(mail, Result(Outcome.FAILED, mail.key, error, stored=stored))]


async def ingest_many(
    ctx: MailContext, raws: Sequence[Received], *, source: str, now: datetime | None = None
) -> list[Result]:
    """Process received messages in order, one outcome each; the pipeline's error boundary.

    A FAILED outcome with `stored` set is kept in the store with its error (listed by
    `mail rejected`); with `stored` unset nothing could be recorded — the source keeps the
    message and offers it again. Every row is stamped `now` (by default, the context's clock
    when the call starts)."""
    now = now or ctx.clock()
    results: list[Result] = []
    chunks = [raws[start : start + BATCH] for start in range(0, len(raws), BATCH)]
    reading = asyncio.ensure_future(_read(ctx, chunks[0])) if chunks else None
    for index, chunk in enumerate(chunks):
        try:
            assert reading is not None
            mails = await reading
            if index + 1 < len(chunks):  # the next batch is parsed while this one is applied
                reading = asyncio.ensure_future(_read(ctx, chunks[index + 1]))
            items = await _process(ctx, mails, source, now)
        except Exception as exc:
            log.exception("%d message(s) could not be processed; the source keeps them", len(chunk))
            held = [kept(raw, ctx.settings.mail_max_bytes) for raw in chunk]
            results += [
                Result(Outcome.FAILED, message_key("", raw), str(exc), stored=False) for raw in held
            ]
            continue
        for item in items:
            mail, result = item.mail, item.result
            log.info(
                "mail %s from %s: %s %s", mail.key, mail.sender, result.outcome, result.reason or ""
            )
            if item.told is not None:
                try:
                    await _send_refusal(ctx, item, now)
                except Exception:
                    log.exception("could not send the refusal for %s", mail.key)
            results.append(result)
    return results


async def ingest(
    ctx: MailContext, raw: Received, *, source: str, now: datetime | None = None
) -> Result:
    """Process one received message (see `ingest_many`)."""
    [result] = await ingest_many(ctx, [raw], source=source, now=now)
    return result

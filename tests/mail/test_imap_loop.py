"""End to end through real servers: an announcement mailed over SMTP (aiosmtpd), the
partner's reply delivered into Dovecot, picked up by the IMAP loop, acted on and written to
the CRM timeline exactly once — also when the worker restarts in the middle."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from email.utils import make_msgid

from aioimaplib import aioimaplib
from sqlmodel import select

from bot.demo.smtp import SmtpServer
from bot.domain.access import find_by_email
from bot.mail.outbound import Outgoing
from bot.mail.sources import ImapSource
from bot.mail.tokens import SubjectKind
from store.db import Database
from store.models import Acknowledgement, InboundEmail, OutboxItem
from tests.harness.dovecot import DovecotServer
from tests.mail.world import build_world, mail_ctx, mail_settings


async def _deliver(server: DovecotServer, raw: bytes) -> None:
    client = aioimaplib.IMAP4(host=server.host, port=server.port, timeout=10)
    await client.wait_hello_from_server()
    await client.login(server.user, server.password)
    assert (await client.append(raw, mailbox="INBOX")).result == "OK"
    await client.logout()


async def _unseen(server: DovecotServer) -> list[bytes]:
    client = aioimaplib.IMAP4(host=server.host, port=server.port, timeout=10)
    await client.wait_hello_from_server()
    await client.login(server.user, server.password)
    await client.select("INBOX")
    found = (await client.uid_search("UNSEEN")).lines[0].split()
    await client.logout()
    return list(found)


async def test_a_reply_in_dovecot_is_acted_on_once_across_a_restart(
    program: Database, smtp_server: SmtpServer, dovecot: DovecotServer
) -> None:
    world = await build_world(program)
    settings = mail_settings(
        program,
        smtp_server,
        imap_host=dovecot.host,
        imap_port=dovecot.port,
        imap_user=dovecot.user,
        imap_password=dovecot.password,
        imap_security="plain",
        imap_poll_seconds=1,
    )
    ctx = mail_ctx(settings, program, smtp_server)
    smtp_server.clear()
    async with program.read() as session:
        nora = await find_by_email(session, "nora@northwind.example")
    assert nora is not None and ctx.mail_outbox is not None
    sent = await ctx.mail_outbox.send(
        Outgoing(
            person=nora,
            template="announcement",
            context={
                "title": "New price list",
                "body": "From 1 December.",
                "ack_required": True,
                "deadline": "30 Nov",
                "published_by": "Mia Manager",
            },
            kind=SubjectKind.ANNOUNCEMENT,
            subject_id=world.subjects["ANN"],
        ),
        now=ctx.clock(),
    )
    assert sent.status == "sent"
    [received] = smtp_server.received
    announcement = email.message_from_bytes(received.data, policy=email.policy.default)
    assert announcement["Auto-Submitted"] == "auto-generated"
    assert announcement["X-Auto-Response-Suppress"] == "All"
    reply_to = str(announcement["Reply-To"])
    assert "@reply.vendor.example" in reply_to and "bot+a" in reply_to

    # Nora replies from her mail program; the reply lands in the bot's mailbox.
    reply = EmailMessage()
    reply["From"] = "Nora North <nora@northwind.example>"
    reply["To"] = reply_to
    reply["Subject"] = "Re: " + str(announcement["Subject"])
    reply["Message-ID"] = make_msgid(domain="northwind.example")
    reply["In-Reply-To"] = str(announcement["Message-ID"])
    reply.set_content(
        "Acknowledged for our sales team.\n\nOn Sat, 21 Nov 2026, partnerbot wrote:\n> From 1 December."
    )
    await _deliver(dovecot, reply.as_bytes())
    await _deliver(dovecot, reply.as_bytes())  # the same message delivered twice

    # The first worker processes the first message, then dies before flagging the second.
    first = ImapSource(ctx)
    await first.connect()
    stats = await first.drain()
    # (the shared mailbox may hold earlier tests' mail: each gets its own outcome too)
    assert stats.processed >= 2 and stats.outcomes.get("duplicate", 0) >= 1
    await first.close()
    # A restart (same store): nothing new, nothing done twice.
    second = ImapSource(ctx)
    assert (await second.drain()).processed == 0
    await second.close()

    async with program.read() as session:
        acks = (await session.exec(select(Acknowledgement))).all()
        notes = (await session.exec(select(OutboxItem).where(OutboxItem.kind == "add_note"))).all()
        kept = (await session.exec(select(InboundEmail))).all()
    assert len(acks) == 1 and acks[0].note == "Acknowledged for our sales team."
    # One note on the partner company's timeline: the acknowledgement, with her words.
    [note] = [n for n in notes if "Acknowledged for our sales team." in n.payload["text"]]
    assert note.idempotency_key.startswith("ack:")
    ours = [k for k in kept if k.message_id == str(reply["Message-ID"])]
    assert [(k.outcome, k.source) for k in ours] == [("acted", "imap")]
    assert await _unseen(dovecot) == []  # flagged only after the outcome was committed

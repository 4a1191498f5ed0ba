"""The real mail servers the email features are tested against: Dovecot (IMAP) and aiosmtpd."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib
import pytest
from aioimaplib import aioimaplib

from bot.demo.smtp import SmtpServer
from bot.mail.smtp import MailNotConfigured, SmtpMailer
from bot.settings import load_settings
from tests.harness.dovecot import DovecotServer


def _message(subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"] = "Nora <nora@northwind.example>", "bot@example.test"
    message["Subject"], message["Message-ID"] = subject, make_msgid(domain="northwind.example")
    message.set_content("Acknowledged, thanks!\n\nOn Mon, the bot wrote:\n> Please acknowledge")
    return message


async def _login(server: DovecotServer, password: str | None = None) -> aioimaplib.IMAP4:
    client = aioimaplib.IMAP4(host=server.host, port=server.port, timeout=10)
    await client.wait_hello_from_server()
    response = await client.login(server.user, password or server.password)
    if response.result != "OK":
        raise PermissionError(response.lines)
    await client.select("INBOX")
    return client


async def test_dovecot_receives_pushes_and_serves_a_reply(dovecot: DovecotServer) -> None:
    watcher = await _login(dovecot)
    idle = await watcher.idle_start(timeout=10)
    appender = await _login(dovecot)
    raw = _message("Re: [partnerbot] Q3 pricing update").as_bytes()
    assert (await appender.append(raw, mailbox="INBOX")).result == "OK"
    pushed = await asyncio.wait_for(watcher.wait_server_push(), timeout=10)
    assert any(b"EXISTS" in (line if isinstance(line, bytes) else line.encode()) for line in pushed)
    watcher.idle_done()
    await asyncio.wait_for(idle, timeout=10)

    search = await watcher.uid_search("UNSEEN")
    uids = search.lines[0].split()
    assert uids
    fetched = await watcher.uid("fetch", uids[-1].decode(), "(FLAGS BODY.PEEK[])")
    assert b"Acknowledged, thanks!" in bytes(fetched.lines[1])
    await watcher.uid("store", uids[-1].decode(), "+FLAGS (\\Seen)")
    assert uids[-1] not in (await watcher.uid_search("UNSEEN")).lines[0].split()
    for client in (watcher, appender):
        await client.logout()


async def test_dovecot_refuses_a_wrong_password_at_once(dovecot: DovecotServer) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(PermissionError):
        await _login(dovecot, password="wrong")
    assert loop.time() - started < 2


def _mail_settings(server: SmtpServer, password: str):
    return load_settings(
        smtp_host=server.host,
        smtp_port=server.port,
        smtp_user=server.user,
        smtp_password=password,
        mail_from="partnerbot <bot@example.test>",
    )


async def test_outbound_mail_reaches_the_smtp_server(smtp_server: SmtpServer) -> None:
    smtp_server.clear()
    message = _message("Your registration was approved")
    del message["From"]
    await SmtpMailer(_mail_settings(smtp_server, smtp_server.password)).send(message)
    (received,) = smtp_server.received
    assert received.rcpt_tos == ["bot@example.test"]
    assert received.message["From"] == "partnerbot <bot@example.test>"
    assert received.message["Subject"] == "Your registration was approved"


async def test_a_wrong_smtp_password_fails_loudly_and_sends_nothing(
    smtp_server: SmtpServer,
) -> None:
    smtp_server.clear()
    with pytest.raises(aiosmtplib.SMTPAuthenticationError) as caught:
        await SmtpMailer(_mail_settings(smtp_server, "wrong"), timeout=5).send(_message("x"))
    assert caught.value.code == 535
    assert smtp_server.received == []


def test_mail_without_smtp_settings_says_what_to_set() -> None:
    with pytest.raises(MailNotConfigured, match="PARTNERBOT_SMTP_HOST"):
        SmtpMailer(load_settings())

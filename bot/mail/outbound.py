"""Outbound mail: rendered from templates/email, signed reply address, recorded, sent.

Every message gets a Message-ID we record (`outbound_email`), a Reply-To of the form
`<local>+<token>@<PARTNERBOT_REPLY_DOMAIN>` when it invites a reply, and the headers that
keep autoresponders quiet (`Auto-Submitted: auto-generated`,
`X-Auto-Response-Suppress: All`). Transient SMTP failures (4xx, a dropped connection) are
retried; a permanent 5xx refusal of the recipient is recorded on the person.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid
from pathlib import Path
from typing import Any, Protocol

import aiosmtplib
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import update
from sqlmodel import col, select

from bot.mail import tokens
from bot.mail.tokens import ReplyToken, SubjectKind
from bot.settings import Settings
from store.db import Database
from store.models import OutboundEmail, Person

log = logging.getLogger(__name__)

BUILT_IN = Path(__file__).resolve().parents[2] / "templates" / "email"
RETRY_DELAYS = (1.0, 4.0)  # after the first and second transient failure


class Mailer(Protocol):
    """Something that delivers a message (SMTP in production)."""

    async def send(self, message: EmailMessage) -> None: ...


class Templates:
    """`<name>.txt.j2` and `<name>.html.j2`; a `subject` set in the text one."""

    def __init__(self, override: str | None = None) -> None:
        loaders = [FileSystemLoader(override)] if override else []
        self._env = Environment(
            loader=ChoiceLoader([*loaders, FileSystemLoader(str(BUILT_IN))]),
            autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )

    def render(self, name: str, context: dict[str, Any]) -> tuple[str, str, str]:
        """(subject, text, html) of a template."""
        text_template = self._env.get_template(f"{name}.txt.j2")
        module = text_template.make_module(context)
        subject = " ".join(str(getattr(module, "subject", "")).split())
        text = str(module)
        html = self._env.get_template(f"{name}.html.j2").render(context)
        return subject, text, html


@dataclass(frozen=True)
class Outgoing:
    """One message to one person, about one subject."""

    person: Person
    template: str
    context: dict[str, Any]
    kind: SubjectKind | None = None  # with subject_id: the reply address it invites
    subject_id: int | None = None
    in_reply_to: str | None = None
    message_id: str | None = None  # fixed by the caller when a resend must be recognisable


def sender_parts(settings: Settings) -> tuple[str, str]:
    """(display name, address) of PARTNERBOT_MAIL_FROM."""
    return _sender_parts(settings.mail_from or "")


@functools.lru_cache(maxsize=8)
def _sender_parts(mail_from: str) -> tuple[str, str]:
    [(name, address)] = getaddresses([mail_from]) or [("", "")]
    return name or "partnerbot", address


class Outbox:
    """Composes, records and sends partnerbot's mail."""

    def __init__(self, db: Database, settings: Settings, mailer: Mailer) -> None:
        self.db, self.settings, self.mailer = db, settings, mailer
        self.templates = Templates(settings.templates_dir)

    async def _person_secret(self, person: Person) -> str:
        if person.mail_secret:
            return person.mail_secret
        async with self.db.session() as session:
            fresh = await session.get(Person, person.id, populate_existing=True)
            assert fresh is not None
            if not fresh.mail_secret:
                fresh.mail_secret = tokens.new_person_secret()
                session.add(fresh)
            person.mail_secret = fresh.mail_secret
        return person.mail_secret or ""

    async def compose(self, outgoing: Outgoing, *, now: datetime) -> EmailMessage:
        """The message, with its Message-ID, signed Reply-To and loop-breaking headers."""
        settings, person = self.settings, outgoing.person
        name, address = sender_parts(settings)
        domain = settings.reply_domain or address.rpartition("@")[2] or "localhost"
        context = {
            "program": name,
            "recipient_name": person.name,
            "recipient_email": person.email,
            "expires": "",
            **outgoing.context,
        }
        reply_to = None
        if outgoing.kind is not None and outgoing.subject_id is not None:
            if not settings.secret_key or not settings.reply_domain:
                raise RuntimeError("PARTNERBOT_SECRET_KEY and PARTNERBOT_REPLY_DOMAIN sign replies")
            expires = tokens.expiry(now, settings.reply_token_days)
            token = tokens.mint(
                ReplyToken(person.id or 0, outgoing.kind, outgoing.subject_id, expires),
                secret_key=settings.secret_key.get_secret_value(),
                person_secret=await self._person_secret(person),
            )
            local = address.partition("@")[0] or "partnerbot"
            reply_to = tokens.reply_address(local, token, settings.reply_domain)
            context["expires"] = expires.isoformat()
        subject, text, html = self.templates.render(outgoing.template, context)
        message = EmailMessage()
        message["From"] = Address(name, addr_spec=address) if address else name
        message["To"] = Address(person.name, addr_spec=person.email)
        message["Subject"] = subject
        message["Date"] = format_datetime(now)
        message["Message-ID"] = outgoing.message_id or make_msgid(domain=domain)
        if reply_to:
            message["Reply-To"] = Address(name, addr_spec=reply_to)
        if outgoing.in_reply_to:
            message["In-Reply-To"] = message["References"] = outgoing.in_reply_to
        message["Auto-Submitted"] = "auto-generated"
        message["X-Auto-Response-Suppress"] = "All"
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        return message

    async def send(self, outgoing: Outgoing, *, now: datetime) -> OutboundEmail:
        """Compose, record and send (transient failures retried) at `now`; the record tells
        the outcome."""
        [stored] = await self.send_many([outgoing], now=now)
        return stored

    async def _secrets(self, people: list[Person]) -> None:
        """Give everyone about to get a reply address a mail secret (one transaction)."""
        missing = {p.id for p in people if not p.mail_secret and p.id is not None}
        if not missing:
            return
        async with self.db.session() as session:
            rows = await session.exec(select(Person).where(col(Person.id).in_(missing)))
            secrets = {}
            for fresh in rows.all():
                if not fresh.mail_secret:
                    fresh.mail_secret = tokens.new_person_secret()
                    session.add(fresh)
                secrets[fresh.id] = fresh.mail_secret
        for person in people:
            person.mail_secret = person.mail_secret or secrets.get(person.id)

    async def send_many(self, outgoings: list[Outgoing], *, now: datetime) -> list[OutboundEmail]:
        """Compose, record (one transaction), send each over the mailer's one connection, and
        record the outcomes (one transaction); the records, in order."""
        await self._secrets([o.person for o in outgoings if o.kind is not None and o.person.id])
        messages = [await self.compose(outgoing, now=now) for outgoing in outgoings]
        ids = [str(message["Message-ID"]) for message in messages]
        async with self.db.session() as session:
            found = await session.exec(
                select(OutboundEmail).where(col(OutboundEmail.message_id).in_(ids))
            )
            known = {row.message_id: row for row in found.all()}
            rows = []
            for outgoing, message, message_id in zip(outgoings, messages, ids, strict=True):
                row = known.get(message_id) or OutboundEmail(
                    message_id=message_id,
                    person_id=outgoing.person.id,
                    to_address=outgoing.person.email,
                    template=outgoing.template,
                    subject=str(message["Subject"]),
                    subject_kind=str(outgoing.kind) if outgoing.kind else None,
                    subject_id=outgoing.subject_id,
                    created_at=now,
                )
                session.add(row)
                rows.append(row)
            await session.flush()
        results = [await self._deliver(message) for message in messages]
        async with self.db.session() as session:
            bouncing = set()
            for row, (status, error, attempts) in zip(rows, results, strict=True):
                row.status, row.error, row.attempts = status, error, attempts
                row.sent_at = now if status == "sent" else None
                session.add(row)
                if status == "failed" and error and error.startswith("5") and row.person_id:
                    bouncing.add(row.person_id)
            if bouncing:
                await session.exec(
                    update(Person)
                    .where(col(Person.id).in_(bouncing), col(Person.email_bouncing_since).is_(None))
                    .values(email_bouncing_since=now)
                )
        return rows

    async def _deliver(self, message: EmailMessage) -> tuple[str, str | None, int]:
        attempt = 0
        while True:
            attempt += 1
            try:
                await self.mailer.send(message)
                return "sent", None, attempt
            except aiosmtplib.SMTPRecipientsRefused as exc:
                codes = [r.code for r in exc.recipients]
                error = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
                if any(code >= 500 for code in codes) or attempt > len(RETRY_DELAYS):
                    return "failed", error, attempt
            except aiosmtplib.SMTPResponseException as exc:
                error = f"{exc.code} {exc.message}"
                if exc.code >= 500 or attempt > len(RETRY_DELAYS):
                    log.error("mail %s refused: %s", message["Message-ID"], error)
                    return "failed", error, attempt
            except (aiosmtplib.SMTPException, OSError) as exc:
                error = f"connection: {exc}"
                if attempt > len(RETRY_DELAYS):
                    log.error("mail %s not sent: %s", message["Message-ID"], error)
                    return "failed", error, attempt
            log.warning("mail %s: %s; retrying", message["Message-ID"], error)
            await asyncio.sleep(RETRY_DELAYS[attempt - 1])

"""A partner program with something to reply to: an announcement (mailed to Nora), an
approved and a pending registration, a revoked user and an alias; reply tokens for the
corpus placeholders."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from sqlmodel import select

from bot.clock import fixed_clock
from bot.demo.smtp import SmtpServer
from bot.domain.access import find_by_email
from bot.mail import tokens
from bot.mail.inbound import MailContext
from bot.mail.outbound import Outbox
from bot.mail.smtp import SmtpMailer
from bot.settings import Settings, load_settings
from store.db import Database
from store.models import Announcement, OutboundEmail, Person, Role
from tests.domain.test_decisions import approve, person
from tests.domain.test_registration import FORM, NOW, register

SECRET = "test-secret-key"
ANNOUNCEMENT_MAIL = "<announcement.nora@vendor.example>"  # what we mailed Nora (bounces name it)
PLACEHOLDER = re.compile(rb"%(TOKEN|FORGED|EXPIRED):([^:%]+):([a-z]+):([A-Z]+)%")


def mail_settings(db: Database, smtp: SmtpServer | None = None, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": db.url,
        "secret_key": SECRET,
        "reply_domain": "reply.vendor.example",
        "mail_from": "partnerbot <bot@vendor.example>",
    }
    if smtp is not None:
        values |= {
            "smtp_host": smtp.host,
            "smtp_port": smtp.port,
            "smtp_user": smtp.user,
            "smtp_password": smtp.password,
        }
    return load_settings(**(values | overrides))


def mail_ctx(settings: Settings, db: Database, smtp: SmtpServer | None = None) -> MailContext:
    outbox = Outbox(db, settings, SmtpMailer(settings)) if smtp is not None else None
    return MailContext(db, settings, fixed_clock(NOW + timedelta(hours=1)), mail_outbox=outbox)


@dataclass
class World:
    subjects: dict[str, int]  # ANN, DEAL, PENDING

    async def token(self, db: Database, kind: str, email: str, subject: str) -> str:
        """A reply token as the placeholder asks: valid, forged or expired."""
        async with db.read() as session:
            who = await find_by_email(session, email)
        assert who is not None and who.mail_secret
        expires = date(2020, 1, 2) if kind == "EXPIRED" else NOW.date() + timedelta(days=30)
        secret = "someone-else" if kind == "FORGED" else who.mail_secret
        claim = tokens.ReplyToken(
            who.id or 0, tokens.SubjectKind(subject_kind(subject)), self.subjects[subject], expires
        )
        return tokens.mint(claim, secret_key=SECRET, person_secret=secret)

    async def fill(self, db: Database, raw: bytes) -> bytes:
        """Replace the corpus placeholders with real tokens."""
        for match in set(PLACEHOLDER.findall(raw)):
            kind, email, _kind_name, subject = (m.decode() for m in match)
            text = await self.token(db, kind, email, subject)
            raw = raw.replace(b"%" + b":".join(match) + b"%", text.encode())
        return raw


def subject_kind(subject: str) -> str:
    return {"ANN": "announcement", "DEAL": "deal", "PENDING": "approval"}[subject]


async def build_world(db: Database) -> World:
    """Nora's approved deal (Acme), her pending one (Globex), an announcement, Rex revoked."""
    deal = (await register(db, "nora@northwind.example")).deal
    mia = await person(db, "mia@vendor.example")
    await approve(db, mia, deal.id or 0)
    globex = replace(FORM, customer_company="Globex", customer_domain="globex.example")
    pending = (await register(db, "nora@northwind.example", globex)).deal
    async with db.session() as session:
        news = Announcement(
            title="New price list",
            body="From 1 December.",
            published_by_id=mia.id or 0,
            published_at=NOW,
        )
        session.add(news)
        nora = await find_by_email(session, "nora@northwind.example")
        assert nora is not None
        nora.email_aliases = ["n.north@northwind.example"]
        session.add(
            Person(
                name="Rex Revoked",
                email="rex@northwind.example",
                role=Role.PARTNER,
                partner_id=nora.partner_id,
                revoked_at=NOW - timedelta(days=1),
                created_at=NOW - timedelta(days=30),
                updated_at=NOW - timedelta(days=1),
            )
        )
        await session.flush()
        for someone in (await session.exec(select(Person))).all():
            someone.mail_secret = tokens.new_person_secret()
            session.add(someone)
        session.add(
            OutboundEmail(
                message_id=ANNOUNCEMENT_MAIL,
                person_id=nora.id,
                to_address=nora.email,
                template="announcement",
                subject="[partnerbot] New price list",
                subject_kind="announcement",
                subject_id=news.id,
                status="sent",
                created_at=NOW,
                sent_at=NOW,
            )
        )
        announcement_id = news.id or 0
    return World({"ANN": announcement_id, "DEAL": deal.id or 0, "PENDING": pending.id or 0})


async def reply(
    world: World,
    db: Database,
    text: str,
    *,
    subject: str = "ANN",
    sender: str = "nora@northwind.example",
    message_id: str | None = None,
) -> bytes:
    """A plain reply from `sender` to the mail about `subject` (ANN, DEAL or PENDING)."""
    token = await world.token(db, "TOKEN", sender, subject)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = f"partnerbot <bot+{token}@reply.vendor.example>"
    message["Subject"] = "Re: your partner program"
    message["Message-ID"] = message_id or make_msgid(domain="northwind.example")
    message.set_content(text)
    return message.as_bytes()

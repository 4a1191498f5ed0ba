"""Inbound mail throughput: the whole pipeline against bare mail-parser parsing.

Builds a partner program in a fresh SQLite database (40 partners, 200 partner users, 200
deal registrations, 10 announcements), then writes N realistic replies — Gmail-style
multipart text + HTML with the quoted original and a signature: acknowledgements, deal
comments, some out-of-office auto-replies, strangers (refused, with the refusal mailed
to an aiosmtpd server) and re-deliveries of earlier messages (duplicates).

1. Pipe/Maildir: the N messages through `ingest_maildir` (parse → dedupe → classify →
   authenticate → extract → act → CRM timeline note → outcome committed → file moved);
   in the same run, bare `mailparser.parse_from_bytes` of the same messages as the
   ceiling, and resident memory before and after.
2. IMAP: M messages APPENDed into a real Dovecot, then the IMAP loop's `drain()`
   end to end (fetch, pipeline, `\\Seen`, cursor).

    .venv/bin/python bench/mail_ingest.py [--messages 10000] [--imap 2000]

Targets (issue #5): pipeline >= 200 msg/s and >= half the bare-parse rate; IMAP >= 50
msg/s; resident memory grows by < 50 MB over the N messages.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import mailparser
from aioimaplib import aioimaplib
from sqlalchemy import func
from sqlmodel import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.clock import system_clock  # noqa: E402
from bot.demo.smtp import SmtpServer  # noqa: E402
from bot.domain import audit, partner_import  # noqa: E402
from bot.domain.registration import DealForm, register_deal  # noqa: E402
from bot.mail import tokens  # noqa: E402
from bot.mail.inbound import MailContext, parser_pool  # noqa: E402
from bot.mail.outbound import Outbox  # noqa: E402
from bot.mail.smtp import SmtpMailer  # noqa: E402
from bot.mail.sources import ImapSource, ingest_maildir  # noqa: E402
from bot.settings import Settings, load_settings  # noqa: E402
from store.db import Database  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from store.models import Announcement, DealRegistration, InboundEmail, Person, Role  # noqa: E402
from tests.harness.dovecot import DovecotServer  # noqa: E402

SECRET = "bench-secret-key"
REPLY_DOMAIN = "reply.vendor.example"
PARTNERS, PEOPLE_PER_PARTNER, ANNOUNCEMENTS = 40, 5, 10
TARGET_RATE, TARGET_RATIO, TARGET_IMAP, TARGET_RSS_MB = 200.0, 0.5, 50.0, 50.0

QUOTED = """\
Hello {name},

{body}

Please acknowledge by replying to this email or with the button in Slack.

--\x20
partnerbot for the Vendor partner program
"""
REPLIES = [
    "Thanks, noted for our team.",
    "Acknowledged. We'll update our quotes from Monday.",
    "Got it — we will brief the sales reps this week.",
    "Quick update: the customer moved the POC to January, budget is confirmed.",
    "They asked for a second demo with their security team; I'll send dates.",
    "Met the CFO yesterday, the deal is moving to procurement.",
]
OOO = [
    "Out of Office: Re: {subject}",
    "Abwesenheitsnotiz: {subject}",
    "Réponse automatique : {subject}",
    "Respuesta automática: {subject}",
]


@dataclass
class Program:
    people: list[Person]
    deals: list[DealRegistration]
    announcements: list[Announcement]


def settings_for(url: str, smtp: SmtpServer, **extra: object) -> Settings:
    return load_settings(
        database_url=url,
        secret_key=SECRET,
        reply_domain=REPLY_DOMAIN,
        mail_from="partnerbot <bot@vendor.example>",
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        smtp_user=smtp.user,
        smtp_password=smtp.password,
        smtp_security="plain",
        products="Core,Analytics",
        **extra,
    )


async def build_program(db: Database, settings: Settings) -> Program:
    """Partners and people through the real import, deals through real registration."""
    rows = [
        partner_import.ImportRow(
            line,
            {
                "partner": f"Partner {p:02d} GmbH",
                "type": "reseller",
                "tier": "gold",
                "region": "emea",
                "domains": f"partner{p:02d}.example",
                "name": f"Person {p:02d}-{n}",
                "email": f"person{n}@partner{p:02d}.example",
                "role": "partner",
            },
        )
        for line, (p, n) in enumerate(
            ((p, n) for p in range(PARTNERS) for n in range(PEOPLE_PER_PARTNER)), start=2
        )
    ]
    rows.append(
        partner_import.ImportRow(
            len(rows) + 2,
            {"name": "Mia Manager", "email": "mia@vendor.example", "role": "manager"},
        )
    )
    specs, people_specs = partner_import.validate("bench", rows)
    async with db.session() as session:
        await partner_import.import_partners(
            session,
            "bench",
            specs,
            people_specs,
            actor=audit.Actor.system("bench"),
            now=system_clock(),
        )
    async with db.session() as session:
        people = list((await session.exec(select(Person))).all())
        for person in people:
            person.mail_secret = tokens.new_person_secret()
            session.add(person)
        manager = next(p for p in people if p.role == Role.MANAGER)
        announcements = [
            Announcement(
                title=f"Price list {n}",
                body="From 1 December.",
                published_by_id=manager.id or 0,
                published_at=system_clock(),
            )
            for n in range(ANNOUNCEMENTS)
        ]
        session.add_all(announcements)
    partners = [p for p in people if p.role == Role.PARTNER]
    deals = []
    for n, person in enumerate(partners):
        form = DealForm(
            customer_company=f"Customer {n} Industries",
            customer_domain=f"customer{n}.example",
            contact_name="Jane Doe",
            contact_email=f"jane@customer{n}.example",
            estimated_value="25,000",
            currency="EUR",
            expected_close_date=(system_clock().date() + timedelta(days=120)).isoformat(),
            products=["Core"],
            motion="resale",
            notes="",
        )
        async with db.session() as session:
            result = await register_deal(
                session,
                person=person,
                form=form,
                idempotency_key=f"bench:{n}",
                settings=settings,
                now=system_clock(),
            )
        deals.append(result.deal)
    return Program(partners, deals, announcements)


def reply(person: Person, token: str, subject: str, text: str, rng: random.Random, n: int) -> bytes:
    """A reply as Gmail sends it: text and HTML, the original quoted under an attribution."""
    original = QUOTED.format(name=person.name, body="Our price list changes on 1 December.")
    quoted = "\n".join("> " + line for line in original.splitlines())
    signature = f"{person.name}\nPartner account manager\n+49 30 1234 {n % 10000:04d}"
    plain = (
        f"{text}\n\n{signature}\n\n"
        f"On Sat, 21 Nov 2026 at 09:{n % 60:02d}, partnerbot <bot@vendor.example> wrote:\n"
        f"{quoted}\n"
    )
    html = (
        f'<div dir="ltr">{text}<br><br>{signature.replace(chr(10), "<br>")}</div><br>'
        f'<div class="gmail_quote"><div class="gmail_attr">On Sat, 21 Nov 2026 at 09:{n % 60:02d}'
        f", partnerbot &lt;bot@vendor.example&gt; wrote:<br></div>"
        f'<blockquote class="gmail_quote" style="margin:0 0 0 .8ex;border-left:1px #ccc solid">'
        f"{original.replace(chr(10), '<br>')}</blockquote></div>"
    )
    message = EmailMessage()
    message["From"] = f"{person.name} <{person.email}>"
    message["To"] = f"partnerbot <bot+{token}@{REPLY_DOMAIN}>"
    message["Subject"] = f"Re: {subject}"
    message["Date"] = format_datetime(system_clock())
    message["Message-ID"] = make_msgid(idstring=f"{n}.{rng.random():.8f}", domain="mail.gmail.com")
    message["In-Reply-To"] = make_msgid(domain="vendor.example")
    message.set_content(plain)
    message.add_alternative(html, subtype="html")
    return message.as_bytes()


def generate(program: Program, count: int, seed: int = 5) -> list[bytes]:
    """The message mix: 55 % acks, 30 % deal comments, 5 % OOO, 5 % strangers, 5 % repeats."""
    rng = random.Random(seed)
    expires = tokens.expiry(system_clock(), 60)
    deals_by_partner: dict[int, list[DealRegistration]] = {}
    for deal in program.deals:
        deals_by_partner.setdefault(deal.partner_id, []).append(deal)
    messages: list[bytes] = []
    for n in range(count):
        roll = rng.random()
        person = rng.choice(program.people)
        if roll < 0.05 and messages:
            messages.append(rng.choice(messages))  # delivered twice
            continue
        if roll < 0.60:
            announcement = rng.choice(program.announcements)
            kind, subject_id = tokens.SubjectKind.ANNOUNCEMENT, announcement.id or 0
            subject, text = announcement.title, rng.choice(REPLIES[:3])
        else:
            deal = rng.choice(deals_by_partner[person.partner_id or 0])
            kind, subject_id = tokens.SubjectKind.DEAL, deal.id or 0
            subject, text = f"Your registration {deal.customer_company}", rng.choice(REPLIES[3:])
        token = tokens.mint(
            tokens.ReplyToken(person.id or 0, kind, subject_id, expires),
            secret_key=SECRET,
            person_secret=person.mail_secret or "",
        )
        raw = reply(person, token, subject, text, rng, n)
        if roll > 0.95:  # a stranger (refused: one explanation a day per address)
            raw = raw.replace(person.email.encode(), f"someone{n % 50}@elsewhere.example".encode())
        elif roll > 0.90:  # an out-of-office answer to our mail
            raw = raw.replace(
                f"Subject: Re: {subject}".encode(),
                f"Subject: {rng.choice(OOO).format(subject=subject)}".encode(),
            ).replace(b"Subject: ", b"Auto-Submitted: auto-replied\nSubject: ", 1)
        messages.append(raw)
    return messages


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def bare_parse(messages: list[bytes]) -> float:
    """Seconds for mail-parser alone to parse every message."""
    started = time.perf_counter()
    for raw in messages:
        mailparser.parse_from_bytes(raw)
    return time.perf_counter() - started


def write_maildir(directory: Path, messages: list[bytes]) -> None:
    for sub in ("new", "cur", "tmp"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    for n, raw in enumerate(messages):
        (directory / "new" / f"{1700000000 + n}.M{n}P1.bench").write_bytes(raw)


async def outcomes(db: Database) -> Counter[str]:
    async with db.read() as session:
        rows = (
            await session.exec(
                select(InboundEmail.outcome, func.count()).group_by(InboundEmail.outcome)
            )
        ).all()
    return Counter(dict(rows))


async def append_all(server: DovecotServer, messages: list[bytes]) -> None:
    client = aioimaplib.IMAP4(host=server.host, port=server.port, timeout=30)
    await client.wait_hello_from_server()
    await client.login(server.user, server.password)
    for raw in messages:
        assert (await client.append(raw, mailbox="INBOX")).result == "OK"
    await client.logout()


async def fresh_db(workdir: Path, name: str, smtp: SmtpServer, **extra: object) -> tuple:
    url = f"sqlite:///{workdir / name}"
    db = Database(url)
    await upgrade(db)
    settings = settings_for(url, smtp, **extra)
    program = await build_program(db, settings)
    ctx = MailContext(
        db, settings, system_clock, Outbox(db, settings, SmtpMailer(settings)), parser_pool()
    )
    return db, settings, program, ctx


async def run(count: int, imap_count: int) -> int:
    logging.basicConfig(level=logging.ERROR)
    smtp = SmtpServer().start()
    workdir = Path(tempfile.mkdtemp(prefix="partnerbot-bench-mail-"))
    failures = []
    try:
        db, _settings, program, ctx = await fresh_db(workdir, "pipe.db", smtp)
        messages = generate(program, count)
        write_maildir(workdir / "Maildir", messages)
        size = sum(map(len, messages)) / len(messages)
        print(f"{count} messages, {size / 1024:.1f} KiB average, SQLite, 2 cores")

        parse_seconds = bare_parse(messages)
        assert ctx.parsers is not None
        ctx.parsers.submit(int).result()  # the parser process started (once per worker)
        rss_before = rss_mb()
        started = time.perf_counter()
        results = await ingest_maildir(ctx, workdir / "Maildir")
        seconds = time.perf_counter() - started
        rss_after = rss_mb()
        assert len(results) == count
        counts = await outcomes(db)
        await db.dispose()
        rate, ceiling = count / seconds, count / parse_seconds
        growth = rss_after - rss_before
        print(f"  outcomes: {dict(sorted(counts.items()))}; refusals mailed: {len(smtp.received)}")
        print(f"  pipeline (Maildir): {rate:7.0f} msg/s  ({seconds * 1000 / count:.2f} ms/msg)")
        print(
            f"  bare mail-parser:   {ceiling:7.0f} msg/s  ({parse_seconds * 1000 / count:.2f} ms/msg)"
        )
        print(f"  ratio pipeline / bare parse: {rate / ceiling:.2f}")
        print(f"  resident memory: {rss_before:.0f} MB -> {rss_after:.0f} MB ({growth:+.1f} MB)")
        if rate < TARGET_RATE:
            failures.append(f"pipeline {rate:.0f} msg/s < {TARGET_RATE:.0f}")
        if rate / ceiling < TARGET_RATIO:
            failures.append(f"ratio {rate / ceiling:.2f} < {TARGET_RATIO}")
        if growth >= TARGET_RSS_MB:
            failures.append(f"memory grew {growth:.0f} MB")

        if imap_count:
            dovecot = DovecotServer.start()
            try:
                db, _settings, program, ctx = await fresh_db(
                    workdir,
                    "imap.db",
                    smtp,
                    imap_host=dovecot.host,
                    imap_port=dovecot.port,
                    imap_user=dovecot.user,
                    imap_password=dovecot.password,
                    imap_security="plain",
                )
                imap_messages = generate(program, imap_count, seed=7)
                assert ctx.parsers is not None
                ctx.parsers.submit(int).result()
                await append_all(dovecot, imap_messages)
                source = ImapSource(ctx)
                started = time.perf_counter()
                stats = await source.drain()
                seconds = time.perf_counter() - started
                await source.close()
                await db.dispose()
                assert stats.processed == imap_count, stats
                imap_rate = imap_count / seconds
                print(
                    f"  IMAP (Dovecot, end to end): {imap_rate:5.0f} msg/s over {imap_count}"
                    f"  ({dict(sorted(stats.outcomes.items()))})"
                )
                if imap_rate < TARGET_IMAP:
                    failures.append(f"IMAP {imap_rate:.0f} msg/s < {TARGET_IMAP:.0f}")
            finally:
                dovecot.stop()
    finally:
        smtp.stop()
    print("targets:", "met" if not failures else "MISSED: " + "; ".join(failures))
    return 1 if failures else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--imap", type=int, default=2_000)
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args.messages, args.imap)))


if __name__ == "__main__":
    main()

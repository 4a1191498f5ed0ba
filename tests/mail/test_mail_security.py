"""Mail an attacker writes: a leaked reply address with a forged sender, refusals used as a
mail cannon, forged bounces. Each goes through the real pipeline (and real SMTP)."""

from __future__ import annotations

import logging
from datetime import timedelta
from email.utils import make_msgid

import pytest
from sqlmodel import select

from bot.demo.smtp import SmtpServer
from bot.domain.access import find_by_email
from bot.mail import authresults, replies
from bot.mail.inbound import Outcome, ingest, ingest_many
from store.db import Database
from store.models import DealRegistration, DealStatus, OutboundEmail, SentNudge
from tests.mail.world import ANNOUNCEMENT_MAIL, World, build_world, mail_ctx, mail_settings

OURS = "mx.vendor.example"  # our receiving server's authserv-id
FAIL = f"{OURS}; spf=fail smtp.mailfrom=evil.example; dmarc=fail (p=REJECT) header.from=northwind.example"
PASS = "{id}; dkim=pass header.d={domain}; dmarc=pass header.from={domain}"


def _message(
    token: str | None,
    text: str,
    *,
    froms: tuple[str, ...] = ("Nora North <nora@northwind.example>",),
    results: tuple[str, ...] = (),
) -> bytes:
    """A reply: Authentication-Results topmost first, then the From headers, as given (a
    message object would refuse a second From)."""
    local = f"bot+{token}" if token else "bot"
    lines = [
        *(f"Authentication-Results: {value}" for value in results),
        *(f"From: {value}" for value in froms),
        f"To: partnerbot <{local}@reply.vendor.example>",
        "Subject: Re: [partnerbot] Acme Corp: Approved",
        f"Message-ID: {make_msgid(domain='mail.example')}",
        "Content-Type: text/plain; charset=utf-8",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n" + text + "\r\n").encode()


async def _deal_status(db: Database, world: World) -> str:
    async with db.read() as session:
        deal = await session.get(DealRegistration, world.subjects["DEAL"])
    assert deal is not None
    return deal.status


# --- 1. who sent it ----------------------------------------------------------------------


def test_an_authentication_results_header_is_parsed_not_searched() -> None:
    value = (
        '"mx.vendor.example" 1 (our MTA); dkim/1 = pass (2048-bit key) reason="good; signed"'
        " header.d=northwind.example header.b=Ab/9+x=;\r\n spf=pass smtp.mailfrom=nora@northwind.example;"
        " dmarc=pass (p=reject; dmarc=fail in a comment) header.from=northwind.example"
    )
    parsed = authresults.parse(value)
    assert parsed is not None and parsed.authserv_id == OURS
    assert [(r.method, r.result) for r in parsed.results] == [
        ("dkim", "pass"),
        ("spf", "pass"),
        ("dmarc", "pass"),
    ]
    assert parsed.results[0].prop("header.b") == "Ab/9+x="
    assert parsed.results[0].prop("reason") == "good; signed"


@pytest.mark.parametrize(
    ("ours", "outcome"),
    [
        # "dmarc=fail" in a comment is no dmarc result
        (
            f"{OURS}; dkim=pass header.d=northwind.example (not dmarc=fail);"
            " dmarc=pass (p=reject) header.from=northwind.example",
            "acted",
        ),
        # nor is "dmarc=pass" in a reason: DKIM passed for someone else's domain
        (f'{OURS}; dkim=pass reason="dmarc=pass" header.d=evil.example', "rejected"),
    ],
)
async def test_our_servers_header_is_read_by_its_grammar(
    program: Database, smtp_server: SmtpServer, ours: str, outcome: str
) -> None:
    world = await build_world(program)
    ctx = mail_ctx(mail_settings(program, smtp_server, mail_authserv_id=OURS), program, smtp_server)
    token = await world.token(program, "TOKEN", "nora@northwind.example", "DEAL")

    result = await ingest(ctx, _message(token, "withdraw", results=(ours,)), source="pipe")

    assert result.outcome == outcome, result.reason


@pytest.mark.parametrize(
    ("results", "reason"),
    [
        # the sender's own dmarc=pass, below our server's dmarc=fail (a dict kept the last)
        ((FAIL, PASS.format(id=OURS, domain="northwind.example")), "spoofed_sender"),
        # a pass from a server that is not ours, above ours
        ((PASS.format(id="mx.evil.example", domain="northwind.example"), FAIL), "spoofed_sender"),
        # only the sender's claims: nothing of ours
        ((PASS.format(id="mx.evil.example", domain="northwind.example"),), "unauthenticated"),
        # our server passed another domain than the From's
        ((PASS.format(id=OURS, domain="evil.example"),), "unauthenticated"),
    ],
)
async def test_a_leaked_reply_address_with_a_forged_verdict_changes_nothing(
    program: Database, smtp_server: SmtpServer, results: tuple[str, ...], reason: str
) -> None:
    world = await build_world(program)
    ctx = mail_ctx(mail_settings(program, smtp_server, mail_authserv_id=OURS), program, smtp_server)
    smtp_server.clear()
    leaked = await world.token(program, "TOKEN", "nora@northwind.example", "DEAL")

    result = await ingest(ctx, _message(leaked, "withdraw", results=results), source="pipe")

    assert (result.outcome, (result.reason or "").split(":")[0]) == ("rejected", reason)
    assert await _deal_status(program, world) == DealStatus.APPROVED
    assert smtp_server.received == []  # failed or lacked authentication: never answered


async def test_our_servers_pass_lets_the_same_reply_act(
    program: Database, smtp_server: SmtpServer
) -> None:
    world = await build_world(program)
    ctx = mail_ctx(mail_settings(program, smtp_server, mail_authserv_id=OURS), program, smtp_server)
    token = await world.token(program, "TOKEN", "nora@northwind.example", "DEAL")
    ours = PASS.format(id=OURS.upper(), domain="northwind.example")  # authserv-ids: any case
    sender_added = FAIL  # below ours, and not read

    result = await ingest(
        ctx, _message(token, "withdraw", results=(ours, sender_added)), source="pipe"
    )

    assert (result.outcome, result.action) == ("acted", "deal.withdrawn")


@pytest.mark.parametrize(
    "froms",
    [
        ("Eve <eve@evil.example>", "Nora North <nora@northwind.example>"),
        ("Nora North <nora@northwind.example>", "Eve <eve@evil.example>"),
        ("Nora North <nora@northwind.example>, Eve <eve@evil.example>",),
        ("<nora@northwind.example> <eve@evil.example>",),
    ],
)
@pytest.mark.parametrize("authserv_id", [None, OURS])
async def test_a_message_with_more_than_one_sender_is_refused(
    program: Database,
    smtp_server: SmtpServer,
    froms: tuple[str, ...],
    authserv_id: str | None,
) -> None:
    world = await build_world(program)
    settings = mail_settings(program, smtp_server, mail_authserv_id=authserv_id)
    ctx = mail_ctx(settings, program, smtp_server)
    smtp_server.clear()
    leaked = await world.token(program, "TOKEN", "nora@northwind.example", "DEAL")
    verdict = PASS.format(id=OURS, domain="evil.example")  # what a server saw on Eve's From

    raw = _message(leaked, "withdraw", froms=froms, results=(verdict,))
    result = await ingest(ctx, raw, source="pipe")

    assert (result.outcome, (result.reason or "").split(":")[0]) == ("rejected", "ambiguous_sender")
    assert await _deal_status(program, world) == DealStatus.APPROVED
    assert smtp_server.received == []


async def test_without_an_authserv_id_no_header_is_trusted_and_that_is_said_once(
    program: Database, smtp_server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    await build_world(program)
    ctx = mail_ctx(mail_settings(program, smtp_server), program, smtp_server)
    smtp_server.clear()
    replies._warn_unverified.cache_clear()
    vouching = (PASS.format(id=OURS, domain="random.example"),)
    strangers = [
        _message(None, "Hi", froms=(f"s{n}@random.example",), results=vouching) for n in (1, 2)
    ]

    with caplog.at_level(logging.WARNING, logger="bot.mail.replies"):
        results = await ingest_many(ctx, strangers, source="pipe")

    assert [r.reason for r in results] == ["unknown_sender", "unknown_sender"]
    assert smtp_server.received == []  # nobody vouched for these From addresses
    warnings = [r for r in caplog.records if "PARTNERBOT_MAIL_AUTHSERV_ID" in r.getMessage()]
    assert len(warnings) == 1


# --- 4. refusals and bounces as weapons ----------------------------------------------------


async def test_rotating_from_addresses_cannot_flood_the_token_owner(
    program: Database, smtp_server: SmtpServer
) -> None:
    world = await build_world(program)
    ctx = mail_ctx(mail_settings(program, smtp_server, mail_authserv_id=OURS), program, smtp_server)
    smtp_server.clear()
    leaked = await world.token(program, "TOKEN", "nora@northwind.example", "DEAL")
    rotating = [
        _message(
            leaked,
            "withdraw",
            froms=(f"eve{n}@evil{n}.example",),
            results=(PASS.format(id=OURS, domain=f"evil{n}.example"),),
        )
        for n in range(10)
    ]
    nora_verified = (PASS.format(id=OURS, domain="northwind.example"),)
    forged = await world.token(program, "FORGED", "nora@northwind.example", "DEAL")
    expired = await world.token(program, "EXPIRED", "nora@northwind.example", "DEAL")
    valid = await world.token(program, "TOKEN", "nora@northwind.example", "DEAL")
    other_reasons = [
        _message(None, "where is the price list?", results=nora_verified),  # missing_token
        _message(forged, "ack", results=nora_verified),  # forged_token
        _message(expired, "ack", results=nora_verified),  # expired_token
        _message(valid, "extend soon", results=nora_verified),  # not_applied
    ]

    results = await ingest_many(ctx, rotating + other_reasons, source="pipe")
    later = await ingest(  # the next day, Nora may be told again
        ctx,
        rotating[0].replace(b"Message-ID: <", b"Message-ID: <next-day-"),
        source="pipe",
        now=ctx.clock() + timedelta(days=1),
    )

    assert {r.reason.split(":")[0] for r in results if r.reason} == {
        "wrong_sender",
        "missing_token",
        "forged_token",
        "expired_token",
        "not_applied",
    }
    told = [m.rcpt_tos for m in smtp_server.received]
    assert told == [["nora@northwind.example"]] * 4  # one wrong_sender, two more; the next day one
    assert sum(r.replied for r in results) == 3 and later.replied
    assert await _deal_status(program, world) == DealStatus.APPROVED
    async with program.read() as session:
        slots = await session.exec(select(SentNudge).where(SentNudge.kind == "mail.refusal.day"))
        assert [s.subject_key for s in slots.all()] == ["nora@northwind.example"] * 4


def _bounce(named: str, *, returned: str | None = None, in_reply_to: str | None = None) -> bytes:
    """A delivery report saying `named` failed, about `returned` (its returned headers) or
    answering `in_reply_to`."""
    headers = [
        "From: Mail Delivery System <MAILER-DAEMON@mx.example>",
        "To: bot@vendor.example",
        "Subject: Undelivered Mail Returned to Sender",
        f"Message-ID: {make_msgid(domain='mx.example')}",
        *([f"In-Reply-To: {in_reply_to}"] if in_reply_to else []),
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
    ]
    parts = [
        "--b\nContent-Type: text/plain\n\nYour message could not be delivered.\n",
        "--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example\n\n"
        f"Final-Recipient: rfc822; {named}\nAction: failed\nStatus: 5.1.1\n",
    ]
    if returned:
        parts.append(f"--b\nContent-Type: text/rfc822-headers\n\nMessage-ID: {returned}\n")
    return ("\n".join(headers) + "\n\n" + "".join(parts) + "--b--\n").encode()


async def _bouncing(db: Database, email: str) -> bool:
    async with db.read() as session:
        person = await find_by_email(session, email)
    assert person is not None
    return person.email_bouncing_since is not None


async def test_a_bounce_counts_only_for_a_message_we_sent_to_that_address(
    program: Database, smtp_server: SmtpServer
) -> None:
    await build_world(program)
    ctx = mail_ctx(mail_settings(program, smtp_server), program, smtp_server)
    smtp_server.clear()
    forged = [
        _bounce("mia@vendor.example"),  # names no message at all
        _bounce("mia@vendor.example", returned="<never-sent@vendor.example>"),
        _bounce("mia@vendor.example", returned=ANNOUNCEMENT_MAIL),  # ours, but sent to Nora
        _bounce("mia@vendor.example", in_reply_to=ANNOUNCEMENT_MAIL),
    ]

    ignored = await ingest_many(ctx, forged, source="pipe")

    assert [r.outcome for r in ignored] == [Outcome.BOUNCE] * 4
    assert all((r.reason or "").startswith("ignored") for r in ignored)
    assert not await _bouncing(program, "mia@vendor.example")

    real = await ingest(
        ctx, _bounce("nora@northwind.example", in_reply_to=ANNOUNCEMENT_MAIL), source="pipe"
    )
    assert real.reason == "bounced: nora@northwind.example"
    assert await _bouncing(program, "nora@northwind.example")
    assert smtp_server.received == []
    async with program.read() as session:  # what made it count
        [sent] = (await session.exec(select(OutboundEmail))).all()
    assert sent.message_id == ANNOUNCEMENT_MAIL and sent.to_address == "nora@northwind.example"

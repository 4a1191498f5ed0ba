"""The inbound mail pipeline: every received message gets exactly one recorded outcome.

    parse → deduplicate → classify (auto-reply, bounce, our own) → authenticate (signed
    reply address, sender) → extract the new text → act → write to the CRM timeline

Each step is a small typed function; `ingest()` is the one entry point and the only place
that catches errors. The outcome, the domain change and its CRM writes commit in one
transaction keyed by the Message-ID (a hash of the raw message when there is none), so a
message processed twice — a restart, a concurrent duplicate — acts once. Refused mail is
kept with its reason (`partnerbot mail rejected`) and its sender gets one short
explanation per reason per day; auto-replies and bounces never get an answer.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from email.parser import BytesHeaderParser
from email.utils import parseaddr
from enum import StrEnum
from typing import Any

import html2text
import mailparser
from mailparser_reply import EmailReplyParser
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import announcements, audit, crm_records, decisions, outbox
from bot.domain.access import find_by_email
from bot.errors import UserFacingError
from bot.mail import tokens
from bot.mail.outbound import Outbox, Outgoing, sender_parts
from bot.mail.tokens import SubjectKind, TokenError
from bot.settings import Settings
from crm.base import RecordType, TimelineNote
from store.db import Database
from store.models import (
    Announcement,
    Channel,
    DealMessage,
    DealRegistration,
    DealStatus,
    InboundEmail,
    Person,
    Role,
    SentNudge,
    TrainingModule,
)
from store.types import utcnow

log = logging.getLogger(__name__)

MAX_TEXT = 10_000  # characters of a reply kept and acted on
REPLY_LANGUAGES = ["en", "de", "fr", "es", "nl"]
_replies = EmailReplyParser(languages=REPLY_LANGUAGES)


class Outcome(StrEnum):
    """What became of a received message."""

    ACTED = "acted"
    DUPLICATE = "duplicate"
    AUTO_REPLY = "ignored_auto_reply"
    BOUNCE = "bounce"
    OWN_MAIL = "ignored_own_mail"
    REJECTED = "rejected"
    FAILED = "failed"  # our fault: kept, and the source retries


# Reasons for refusal, with the one-paragraph explanation the sender gets.
REFUSALS = {
    "unknown_sender": (
        "We could not match your address to anyone in our partner program.",
        "If you work with us as a partner, ask your channel manager to add this address.",
    ),
    "missing_token": (
        "Your email was not a reply to one of our messages, so we could not tell what it is about.",
        "Please reply to the email you received from us (or use Slack).",
    ),
    "forged_token": (
        "The address you wrote to is not one we sent out.",
        "Please reply to the email you received from us (or use Slack).",
    ),
    "expired_token": (
        "You replied to an email whose reply address has expired.",
        "Please reply to a more recent email from us (or use Slack).",
    ),
    "wrong_sender": (
        "You replied from a different address than the one we wrote to.",
        "Please reply from the address that received our email.",
    ),
    "revoked": (
        "Your access to our partner program has ended.",
        "If that is a mistake, please contact your channel manager.",
    ),
    "spoofed_sender": (
        "Your email failed the sender checks (DMARC) of your own domain.",
        "Please reply again from your usual mail program.",
    ),
    "too_large": (
        "Your email was larger than we accept.",
        "Please reply without attachments.",
    ),
    "not_applied": ("We could not apply your reply: {detail}", "You can also do this in Slack."),
}

AUTO_SUBJECT = re.compile(
    r"^\s*(?:"
    r"out of (?:the )?office|automatic reply|auto(?:matic)?[- ]?(?:reply|response)|autoreply"
    r"|away from (?:the )?office|auto:"  # English, and Outlook's "Auto:"
    r"|abwesenheit|automatische antwort|nicht im b(?:ü|ue)ro"  # German
    r"|absent(?:e)? du bureau|absence du bureau|r(?:é|e)ponse automatique"  # French
    r"|respuesta autom(?:á|a)tica|fuera de (?:la )?oficina"  # Spanish
    r"|afwezig|automatisch antwoord|niet aanwezig|buiten kantoor|out of office"  # Dutch
    r")",
    re.IGNORECASE,
)
BOUNCE_SUBJECT = re.compile(
    r"undeliver|delivery status notification|returned mail|failure notice|mail delivery"
    r"|delivery has failed|unzustellbar|non remis|no se puede entregar",
    re.IGNORECASE,
)
BOUNCE_SENDERS = ("mailer-daemon@", "postmaster@")
FINAL_RECIPIENT = re.compile(rb"(?im)^(?:final|original)-recipient:\s*rfc822;\s*<?([^\s>]+)>?")


@dataclass
class Parsed:
    """What the pipeline needs from a message."""

    key: str  # Message-ID, or sha256 of the raw bytes
    sender: str  # From address, lowercase
    subject: str
    headers: dict[str, str]  # lowercase names
    recipients: list[str]  # To, Cc, Delivered-To, X-Original-To values
    text: str
    html: str
    content_type: str
    raw: bytes = field(repr=False)


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


@dataclass
class Refusal(Exception):
    """Authentication or action refused: the sender hears why (once a day per reason)."""

    reason: str
    detail: str = ""
    person: Person | None = None


# --- parse ------------------------------------------------------------------------------


def _clean(value: Any) -> str:
    return str(value or "").replace("\x00", "")


def message_key(message_id: str, raw: bytes) -> str:
    """The deduplication key: the Message-ID, or a hash of the message when it has none."""
    message_id = message_id.strip()
    return message_id[:900] if message_id else "sha256:" + hashlib.sha256(raw).hexdigest()


def parse(raw: bytes) -> Parsed:
    """mail-parser does the MIME and charset work; NUL bytes and bad headers are tolerated."""
    mail = mailparser.parse_from_bytes(raw.replace(b"\x00", b""))
    message: Message = mail.message
    items = [(name.lower(), _clean(value)) for name, value in message.items()] if message else []
    headers = dict(items)
    sender = parseaddr(headers.get("from", ""))[1].lower()
    recipients = [v for n, v in items if n in ("to", "cc", "delivered-to", "x-original-to")]
    return Parsed(
        key=message_key(_clean(mail.message_id), raw),
        sender=sender,
        subject=_clean(mail.subject),
        headers=headers,
        recipients=[r for r in recipients if r],
        text="\n".join(_clean(t) for t in mail.text_plain),
        html="\n".join(_clean(h) for h in mail.text_html),
        content_type=message.get_content_type() if message is not None else "text/plain",
        raw=raw,
    )


def parse_envelope(raw: bytes) -> Parsed:
    """Headers only (for mail too large to parse whole)."""
    head = BytesHeaderParser().parsebytes(raw[:65536])
    headers = {k.lower(): _clean(v) for k, v in head.items()}
    return Parsed(
        key=message_key(headers.get("message-id", ""), raw),
        sender=parseaddr(headers.get("from", ""))[1].lower(),
        subject=headers.get("subject", ""),
        headers=headers,
        recipients=[headers.get(n, "") for n in ("to", "cc", "delivered-to") if headers.get(n)],
        text="",
        html="",
        content_type=head.get_content_type(),
        raw=raw,
    )


# --- classify ---------------------------------------------------------------------------


def is_bounce(mail: Parsed) -> bool:
    """A delivery report, or a mailer daemon's failure notice."""
    if mail.content_type == "multipart/report":
        return True
    sender_is_daemon = mail.sender.startswith(BOUNCE_SENDERS) or not mail.sender
    return sender_is_daemon and bool(BOUNCE_SUBJECT.search(mail.subject))


def is_auto_reply(mail: Parsed) -> bool:
    """Out-of-office and other automatic mail (RFC 3834 and the headers clients really send)."""
    h = mail.headers
    if h.get("auto-submitted", "no").strip().lower() not in ("", "no"):
        return True
    if h.get("precedence", "").strip().lower() in ("bulk", "junk", "list", "auto_reply"):
        return True
    if any(n in h for n in ("x-autoreply", "x-autorespond", "x-autoresponse", "list-id")):
        return True
    return bool(
        AUTO_SUBJECT.match(
            re.sub(r"^(?:re|aw|fw|fwd|wg|tr|sv)\s*:\s*", "", mail.subject, flags=re.I)
        )
    )


def bounced_addresses(mail: Parsed) -> list[str]:
    """The recipients a delivery report says failed."""
    return sorted({m.decode(errors="replace").lower() for m in FINAL_RECIPIENT.findall(mail.raw)})


# --- extract ----------------------------------------------------------------------------


def _html_to_text(html: str) -> str:
    converter = html2text.HTML2Text()
    converter.body_width = 0
    converter.ignore_images = True
    converter.ignore_links = True
    converter.unicode_snob = True
    return converter.handle(html)


def extract(mail: Parsed) -> str:
    """The new text of a reply: quotes, the quoted header and the signature removed."""
    body = mail.text if mail.text.strip() else _html_to_text(mail.html)
    body = body.replace("\r\n", "\n").replace("\x00", "")
    replies = _replies.read(text=body).replies
    text = replies[0].body if replies else body
    if not text.strip() and replies and replies[0].content:
        text = replies[0].content
    return _cut_quotes(text)[:MAX_TEXT]


QUOTE_START = re.compile(
    r"^\s*(?:-{2,}\s*(?:original message|forwarded message|weitergeleitete nachricht)"
    r"|begin forwarded message:|_{10,}$"
    r"|sent from (?:my |outlook|mail for)|von meinem .* gesendet|envoy(?:é|e) de mon"
    r"|enviado desde mi|verstuurd vanaf mijn|get outlook for (?:ios|android)"
    r"|(?:on|op|el|le|am)\b.*(?:wrote|schreef|escribi(?:ó|o)|a (?:é|e)crit|schrieb)\b.*:\s*$)",
    re.IGNORECASE,
)
SIGN_OFF = re.compile(
    r"^(?:--|(?:best |kind |warm )?regards|best|cheers|thanks(?: again)?|br|mit freundlichen"
    r" gr(?:ü|ue)(?:ß|ss)en|viele gr(?:ü|ue)(?:ß|ss)e|cordialement|bien (?:à|a) vous|saludos"
    r"|un saludo|met vriendelijke groet(?:en)?|groeten)[,!.]?$",
    re.IGNORECASE,
)


def _cut_quotes(text: str) -> str:
    """What the stripper left, cut at the first quote or attribution line a client added;
    an inline reply (starting with a quote) keeps only its own, unquoted lines."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    if lines and lines[0].startswith(">"):
        return "\n".join(line for line in lines if not line.startswith(">")).strip()
    kept: list[str] = []
    for line in lines:
        if line.startswith(">") or QUOTE_START.match(line):
            break
        kept.append(line)
    for index, line in enumerate(kept):  # a sign-off with a short signature under it
        if index and SIGN_OFF.match(line.strip()) and len(kept) - index <= 6:
            kept = kept[:index]
            break
    return "\n".join(kept).strip()


# --- authenticate -------------------------------------------------------------------------


def _own_addresses(settings: Settings) -> tuple[str, str]:
    _name, address = sender_parts(settings)
    return address.lower(), (settings.reply_domain or "").lower()


def is_own(mail: Parsed, settings: Settings) -> bool:
    """Mail from our own address (or our reply domain): a loop, never answered."""
    address, domain = _own_addresses(settings)
    return bool(mail.sender) and (
        mail.sender == address or (bool(domain) and mail.sender.endswith("@" + domain))
    )


def _dmarc_failed(mail: Parsed) -> bool:
    return "dmarc=fail" in mail.headers.get("authentication-results", "").lower()


async def authenticate(
    session: AsyncSession, mail: Parsed, settings: Settings, *, now: datetime
) -> tuple[Person, tokens.ReplyToken]:
    """The person behind a reply and what it is about; or a Refusal."""
    if _dmarc_failed(mail):
        raise Refusal("spoofed_sender")
    text = tokens.find(mail.recipients, domain=settings.reply_domain or "")
    if text is None:
        known = await find_by_email(session, mail.sender) if mail.sender else None
        raise Refusal("missing_token" if known else "unknown_sender", person=known)
    try:
        claimed = tokens.read(text)
        person = await session.get(Person, claimed.person_id)
        if person is None:
            raise TokenError("forged_token", "no such person")
        secret = settings.secret_key.get_secret_value() if settings.secret_key else ""
        token = tokens.check(
            text, secret_key=secret, person_secret=person.mail_secret, today=now.date()
        )
    except TokenError as exc:
        raise Refusal(exc.reason, str(exc)) from exc
    if person.revoked_at is not None:
        raise Refusal("revoked", person=person)
    addresses = {person.email.lower(), *(a.lower() for a in person.email_aliases or [])}
    if mail.sender not in addresses:
        raise Refusal("wrong_sender", f"{mail.sender} is not {person.email}", person=person)
    return person, token


# --- act ----------------------------------------------------------------------------------


COMMAND = re.compile(
    r"^\s*(?P<verb>approve[d]?|decline[d]?|withdraw|extend)\b[\s:,.-]*(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)


VERBS = {
    "approve": "approve",
    "approved": "approve",
    "decline": "decline",
    "declined": "decline",
    "withdraw": "withdraw",
    "extend": "extend",
}


async def _deal_for(session: AsyncSession, deal_id: int) -> DealRegistration:
    deal = await session.get(DealRegistration, deal_id)
    if deal is None:
        raise Refusal("not_applied", "that registration no longer exists.")
    return deal


async def _comment(
    session: AsyncSession, person: Person, deal: DealRegistration, text: str, now: datetime
) -> str:
    if not text:
        raise Refusal("not_applied", "your reply was empty.")
    session.add(
        DealMessage(
            deal_id=deal.id or 0,
            author_id=person.id or 0,
            kind="comment",
            text=text,
            channel=Channel.EMAIL,
            created_at=now,
        )
    )
    await audit.record(
        session,
        actor=audit.Actor.person(person),
        channel=Channel.EMAIL,
        action="deal.commented",
        subject_type="deal",
        subject_id=deal.id,
        after={"text": text[:500]},
    )
    return "deal.commented"


async def act(
    session: AsyncSession,
    person: Person,
    token: tokens.ReplyToken,
    text: str,
    settings: Settings,
    *,
    now: datetime,
) -> str:
    """Do what the reply asks; return the action's name. Domain refusals become Refusals."""
    command = COMMAND.match(text.splitlines()[0] if text else "")
    verb = VERBS.get(command.group("verb").lower(), "") if command else ""
    rest = command.group("rest").strip() if command else ""
    try:
        if token.kind == SubjectKind.ANNOUNCEMENT:
            done = await announcements.acknowledge(
                session,
                announcement_id=token.subject_id,
                person=person,
                channel=Channel.EMAIL,
                now=now,
                note=text or None,
            )
            return "announcement.acknowledged" if done else "announcement.already_acknowledged"
        if token.kind == SubjectKind.TRAINING:
            module = await session.get(TrainingModule, token.subject_id)
            if module is None:
                raise Refusal("not_applied", "that training module no longer exists.")
            return "training.replied"
        deal = await _deal_for(session, token.subject_id)
        if token.kind == SubjectKind.APPROVAL:
            if person.role not in (Role.MANAGER, Role.ADMIN):
                raise Refusal("not_applied", "only a channel manager can decide registrations.")
            if verb == "approve":
                await decisions.approve(
                    session,
                    manager=person,
                    deal_id=deal.id or 0,
                    settings=settings,
                    now=now,
                    channel=Channel.EMAIL,
                )
                return "deal.approved"
            if verb == "decline":
                if not rest:
                    raise Refusal("not_applied", "write the reason after “decline”.")
                await decisions.decline(
                    session,
                    manager=person,
                    deal_id=deal.id or 0,
                    reason=rest,
                    now=now,
                    channel=Channel.EMAIL,
                )
                return "deal.declined"
            return await _comment(session, person, deal, text, now)
        # A partner's reply about their own registration.
        if deal.partner_id != person.partner_id:
            raise Refusal("not_applied", "that registration is not one of your company's.")
        if verb == "withdraw":
            await decisions.withdraw(
                session, partner_user=person, deal_id=deal.id or 0, now=now, channel=Channel.EMAIL
            )
            return "deal.withdrawn"
        if verb == "extend":
            days = re.match(r"(\d+)", rest)
            if days is None:
                raise Refusal("not_applied", "write the days after “extend” (15, 30 or 60).")
            await decisions.request_extension(
                session,
                partner_user=person,
                deal_id=deal.id or 0,
                days=int(days.group(1)),
                settings=settings,
                now=now,
                channel=Channel.EMAIL,
            )
            return "deal.extension_requested"
        if deal.status == DealStatus.INFO_REQUESTED and text:
            await decisions.answer(
                session,
                partner_user=person,
                deal_id=deal.id or 0,
                text=text,
                now=now,
                channel=Channel.EMAIL,
            )
            return "deal.info_answered"
        return await _comment(session, person, deal, text, now)
    except UserFacingError as exc:
        raise Refusal("not_applied", str(exc).rstrip(".") + ".", person=person) from exc


async def _subject_title(session: AsyncSession, token: tokens.ReplyToken) -> str:
    if token.kind == SubjectKind.ANNOUNCEMENT:
        announcement = await session.get(Announcement, token.subject_id)
        return f"Announcement: {announcement.title}" if announcement else "Announcement"
    if token.kind == SubjectKind.TRAINING:
        module = await session.get(TrainingModule, token.subject_id)
        return f"Training: {module.title}" if module else "Training"
    deal = await session.get(DealRegistration, token.subject_id)
    return f"Deal registration: {deal.customer_company}" if deal else "Deal registration"


async def write_to_crm(
    session: AsyncSession,
    person: Person,
    token: tokens.ReplyToken,
    mail: Parsed,
    text: str,
    *,
    now: datetime,
) -> None:
    """The stripped reply on the deal's (or the partner company's) CRM timeline."""
    if not text:
        return
    key = "email:" + hashlib.sha256(mail.key.encode()).hexdigest()[:40]
    subject = await _subject_title(session, token)
    body = f"Email reply “{mail.subject}”:\n{text}" if mail.subject else f"Email reply:\n{text}"
    if token.kind in (SubjectKind.DEAL, SubjectKind.APPROVAL):
        await outbox.enqueue_note(
            session,
            TimelineNote(
                record_type=RecordType.DEAL,
                record_id=str(token.subject_id),
                author=person.name,
                text=body,
                at=now,
                idempotency_key=key,
                subject=subject,
            ),
        )
    else:
        await crm_records.queue_company_note(
            session, person, subject=subject, text=body, at=now, key=key
        )


# --- the entry point -------------------------------------------------------------------


@dataclass
class MailContext:
    """What the pipeline needs: the store, the settings and (for refusals) an outbox."""

    db: Database
    settings: Settings
    mail_outbox: Outbox | None = None


async def _already_seen(db: Database, key: str) -> InboundEmail | None:
    async with db.read() as session:
        return (
            await session.exec(select(InboundEmail).where(InboundEmail.message_id == key))
        ).first()


def _row(
    mail: Parsed, result: Result, source: str, *, now: datetime, keep_raw: bool
) -> InboundEmail:
    return InboundEmail(
        message_id=result.key,
        received_at=now,
        from_address=mail.sender[:320],
        subject=mail.subject[:2000],
        person_id=result.person_id,
        outcome=result.outcome,
        reason=result.reason,
        extracted_text=result.text,
        subject_kind=result.subject_kind,
        subject_id=result.subject_id,
        raw=mail.raw if keep_raw else None,
        source=source,
        size=len(mail.raw),
    )


async def _first_refusal_today(
    session: AsyncSession, address: str, reason: str, now: datetime
) -> bool:
    """Claim today's one refusal of this reason to this address (False if already sent)."""
    try:
        async with session.begin_nested():
            session.add(
                SentNudge(
                    kind="mail.refusal",
                    subject_key=address[:128],
                    due_key=f"{reason}:{now.date().isoformat()}",
                    sent_at=now,
                )
            )
        return True
    except IntegrityError:
        return False


async def _process(
    ctx: MailContext, mail: Parsed, source: str, now: datetime
) -> tuple[Result, Refusal | None]:
    settings = ctx.settings
    result = Result(Outcome.ACTED, mail.key)
    refusal: Refusal | None = None
    async with ctx.db.session() as session:
        if len(mail.raw) > settings.mail_max_bytes:
            refusal = Refusal("too_large", f"{len(mail.raw)} bytes")
        elif is_own(mail, settings):
            result.outcome = Outcome.OWN_MAIL
        elif is_bounce(mail):
            result.outcome = Outcome.BOUNCE
            bounced = bounced_addresses(mail)
            result.reason = "bounced: " + (", ".join(bounced) or "unknown recipient")
            for address in bounced:
                person = await find_by_email(session, address)
                if person is not None and person.email_bouncing_since is None:
                    person.email_bouncing_since = now
                    session.add(person)
        elif is_auto_reply(mail):
            result.outcome = Outcome.AUTO_REPLY
        else:
            try:
                person, token = await authenticate(session, mail, settings, now=now)
                result.person_id = person.id
                result.subject_kind, result.subject_id = str(token.kind), token.subject_id
                result.text = extract(mail)
                async with session.begin_nested():
                    result.action = await act(
                        session, person, token, result.text, settings, now=now
                    )
                    await write_to_crm(session, person, token, mail, result.text, now=now)
                result.reason = result.action
            except Refusal as exc:
                refusal = exc
                if exc.person is not None:
                    result.person_id = exc.person.id
        if refusal is not None:
            result.outcome = Outcome.REJECTED
            result.reason = refusal.reason + (f": {refusal.detail}" if refusal.detail else "")
            if mail.sender and not is_own(mail, settings):
                result.replied = await _first_refusal_today(
                    session, mail.sender, refusal.reason, now
                )
        session.add(_row(mail, result, source, now=now, keep_raw=result.outcome != Outcome.ACTED))
    return result, refusal


async def _send_refusal(ctx: MailContext, mail: Parsed, refusal: Refusal) -> None:
    if ctx.mail_outbox is None:
        log.warning(
            "no SMTP configured: the refusal to %s (%s) was not sent", mail.sender, refusal.reason
        )
        return
    explanation, advice = REFUSALS[refusal.reason]
    person = refusal.person or Person(id=None, name="", email=mail.sender, role=Role.PARTNER)
    await ctx.mail_outbox.send(
        Outgoing(
            person=person,
            template="refusal",
            context={
                "original_subject": mail.subject,
                "explanation": explanation.format(detail=refusal.detail),
                "advice": advice,
            },
            in_reply_to=mail.headers.get("message-id") or None,
        )
    )


async def ingest(
    ctx: MailContext, raw: bytes, *, source: str, now: datetime | None = None
) -> Result:
    """Process one received message; the only place the pipeline's errors are caught.

    Returns the outcome. An error of ours (the database down, a bug) is logged, the message
    is kept as FAILED when the store can take it, and the caller leaves it for a retry."""
    now = now or utcnow()
    key = message_key("", raw)
    try:
        oversize = len(raw) > ctx.settings.mail_max_bytes
        mail = parse_envelope(raw) if oversize else parse(raw)
        key = mail.key
        seen = await _already_seen(ctx.db, mail.key)
        if seen is not None and seen.outcome != Outcome.FAILED:
            return Result(Outcome.DUPLICATE, mail.key, reason=f"already {seen.outcome}")
        if seen is not None:  # a failed attempt: try again from scratch
            async with ctx.db.session() as session:
                stale = await session.get(InboundEmail, seen.id)
                if stale is not None:
                    await session.delete(stale)
        try:
            result, refusal = await _process(ctx, mail, source, now)
        except IntegrityError:  # the same message, processed concurrently, committed first
            return Result(Outcome.DUPLICATE, mail.key, reason="processed concurrently")
        if refusal is not None and result.replied:
            try:
                await _send_refusal(ctx, mail, refusal)
            except Exception:
                log.exception("could not send the refusal to %s", mail.sender)
        log.info(
            "mail %s from %s: %s %s", mail.key, mail.sender, result.outcome, result.reason or ""
        )
        return result
    except Exception as exc:
        log.exception("mail could not be processed")
        try:
            async with ctx.db.session() as session:
                session.add(
                    InboundEmail(
                        message_id=key,
                        received_at=now,
                        outcome=Outcome.FAILED,
                        reason=f"{type(exc).__name__}: {exc}"[:2000],
                        raw=raw,
                        source=source,
                        size=len(raw),
                    )
                )
        except Exception:
            log.exception("and it could not be kept either; the source keeps it for a retry")
        return Result(Outcome.FAILED, key, reason=str(exc))

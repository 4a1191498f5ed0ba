"""Replies from people: who wrote (their signed reply address) and what the reply does.

`authenticate` finds the person and subject behind a reply, or refuses it. The common
replies — acknowledging an announcement, commenting on a registration — are applied for a
whole batch of messages with a fixed number of queries (`acknowledge_all`, `comment_all`,
`write_notes`); commands (`approve`, `decline <reason>`, `extend <days>`, `withdraw`, an
answer to a manager's question) go one at a time through `act`. All of them call the same
domain services the Slack screens call.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import announcements, audit, crm_records, decisions, notifications, outbox, training
from bot.domain.access import find_by_email
from bot.domain.notifications import Message, Recipient
from bot.errors import UserFacingError
from bot.mail import authresults, tokens
from bot.mail.authresults import Trust
from bot.mail.reading import Parsed
from bot.mail.tokens import SubjectKind, TokenError
from bot.settings import Settings
from crm.base import RecordType, TimelineNote
from store.models import (
    Announcement,
    Channel,
    DealMessage,
    DealRegistration,
    DealStatus,
    Notification,
    Person,
    Role,
    TrainingModule,
)

log = logging.getLogger(__name__)

# Reasons for refusal that may be answered, with the one-paragraph explanation the sender
# gets. Mail that failed or lacked authentication (ambiguous_sender, spoofed_sender,
# unauthenticated, unparseable; a stranger's when no receiving server vouched for it) is
# refused without an answer: its From may be anyone's.
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
    "too_large": (
        "Your email was larger than we accept.",
        "Please reply without attachments.",
    ),
    "not_applied": ("We could not apply your reply: {detail}", "You can also do this in Slack."),
}


@dataclass
class Refusal(Exception):
    """Authentication or action refused. `person` is whom it concerns; `answerable` says that
    person's address (else the From) is known to be theirs — a verified reply address, or a
    From our receiving server vouched for — so it may be told why."""

    reason: str
    detail: str = ""
    person: Person | None = None
    answerable: bool = False


@functools.cache
def _warn_unverified() -> None:
    log.warning(
        "PARTNERBOT_MAIL_AUTHSERV_ID is not set: no Authentication-Results header is trusted, "
        "senders are checked by their signed reply address and From only"
    )


def _vouched(mail: Parsed, settings: Settings) -> bool:
    """Whether our receiving server vouched for the From (see `authresults`); refuses when
    it did not. Without PARTNERBOT_MAIL_AUTHSERV_ID no header can be trusted: False."""
    if not settings.mail_authserv_id:
        _warn_unverified()
        return False
    domain = mail.sender.rpartition("@")[2]
    found = authresults.verdict(
        mail.headers.all("authentication-results"), settings.mail_authserv_id, domain
    )
    if found.trust == Trust.PASS:
        return True
    reason = "spoofed_sender" if found.trust == Trust.FAIL else "unauthenticated"
    raise Refusal(reason, found.detail)


async def _token(
    session: AsyncSession, text: str, settings: Settings, now: datetime, vouched: bool
) -> tuple[Person, tokens.ReplyToken]:
    """The person a reply token names, and the token, verified."""
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
        raise Refusal(exc.reason, str(exc), answerable=vouched) from exc
    return person, token


async def authenticate(
    session: AsyncSession, mail: Parsed, settings: Settings, *, now: datetime
) -> tuple[Person, tokens.ReplyToken]:
    """The person behind a reply and what it is about; or a Refusal. One From address, our
    receiving server's verdict (when configured), the signed reply address and its owner's
    address, in that order."""
    if mail.sender_problem is not None:
        raise Refusal("ambiguous_sender", mail.sender_problem)
    vouched = _vouched(mail, settings)
    text = tokens.find(mail.recipients, domain=settings.reply_domain or "")
    if text is None:
        known = await find_by_email(session, mail.sender)
        reason = "missing_token" if known else "unknown_sender"
        raise Refusal(reason, person=known, answerable=vouched)
    person, token = await _token(session, text, settings, now, vouched)
    if person.revoked_at is not None:
        raise Refusal("revoked", person=person, answerable=True)
    addresses = {person.email.lower(), *(a.lower() for a in person.email_aliases or [])}
    if mail.sender not in addresses:
        raise Refusal(
            "wrong_sender", f"{mail.sender} is not {person.email}", person=person, answerable=True
        )
    return person, token


@dataclass
class Reply:
    """An authenticated reply: who wrote it, about what, and its new text."""

    person: Person
    token: tokens.ReplyToken
    mail: Parsed
    text: str


@dataclass
class Loaded:
    """What a batch's replies name, loaded with one query per kind (and kept referenced, so
    the session's identity map answers `session.get` for them without a query)."""

    people: list[Person]
    announcements: dict[int, Announcement]
    deals: dict[int, DealRegistration]


async def load(session: AsyncSession, mails: Iterable[Parsed], settings: Settings) -> Loaded:
    """The people, announcements and registrations the messages' reply tokens name."""
    claims = []
    for mail in mails:
        text = tokens.find(mail.recipients, domain=settings.reply_domain or "")
        if text is None:
            continue
        try:
            claims.append(tokens.read(text))
        except TokenError:
            continue
    people = {c.person_id for c in claims}
    news = {c.subject_id for c in claims if c.kind == SubjectKind.ANNOUNCEMENT}
    deal_ids = {c.subject_id for c in claims if c.kind in (SubjectKind.DEAL, SubjectKind.APPROVAL)}
    found_people = await session.exec(select(Person).where(col(Person.id).in_(people)))
    found_news = await session.exec(select(Announcement).where(col(Announcement.id).in_(news)))
    found_deals = await session.exec(
        select(DealRegistration).where(col(DealRegistration.id).in_(deal_ids))
    )
    return Loaded(
        list(found_people.all()),
        {news.id or 0: news for news in found_news.all()},
        {deal.id or 0: deal for deal in found_deals.all()},
    )


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


def command(text: str) -> tuple[str, str]:
    """The command on a reply's first line of its own (verb, the rest), or ("", ""): quoted
    lines an inline reply keeps above it are passed over."""
    first = next(
        (line for line in text.splitlines() if line.strip() and not line.lstrip().startswith(">")),
        "",
    )
    match = COMMAND.match(first)
    if match is None:
        return "", ""
    return VERBS.get(match.group("verb").lower(), ""), match.group("rest").strip()


def is_acknowledgement(reply: Reply, loaded: Loaded) -> bool:
    """A reply to an announcement that still exists."""
    kind, subject_id = reply.token.kind, reply.token.subject_id
    return kind == SubjectKind.ANNOUNCEMENT and subject_id in loaded.announcements


def is_plain_comment(reply: Reply, loaded: Loaded) -> bool:
    """A partner's words about their own registration, asking for nothing: a comment."""
    deal = loaded.deals.get(reply.token.subject_id)
    return (
        reply.token.kind == SubjectKind.DEAL
        and deal is not None
        and deal.partner_id == reply.person.partner_id
        and deal.status != DealStatus.INFO_REQUESTED
        and bool(reply.text)
        and command(reply.text)[0] == ""
    )


async def acknowledge_all(
    session: AsyncSession, replies: Sequence[Reply], *, now: datetime
) -> list[str]:
    """Replies to announcements: each acknowledges, with its text as the note."""
    done = await announcements.acknowledge_many(
        session,
        [announcements.Ack(r.token.subject_id, r.person, r.text or None) for r in replies],
        channel=Channel.EMAIL,
        now=now,
    )
    for reply in replies:  # a reply that asks something reaches the publisher too
        if announcements.is_question(reply.text):
            await announcements.ask(
                session,
                announcement_id=reply.token.subject_id,
                person=reply.person,
                question=reply.text[: announcements.MAX_QUESTION],
                channel=Channel.EMAIL,
                now=now,
            )
    return [
        "announcement.acknowledged" if new else "announcement.already_acknowledged" for new in done
    ]


async def comment_all(session: AsyncSession, replies: Sequence[Reply], *, now: datetime) -> None:
    """Replies that are comments on registrations, kept on the deal and in the audit log."""
    for reply in replies:
        session.add(
            DealMessage(
                deal_id=reply.token.subject_id,
                author_id=reply.person.id or 0,
                kind="comment",
                text=reply.text,
                channel=Channel.EMAIL,
                created_at=now,
            )
        )
    await audit.record_many(
        session,
        [
            audit.Entry(
                actor=audit.Actor.person(reply.person),
                channel=Channel.EMAIL,
                action="deal.commented",
                subject_type="deal",
                subject_id=reply.token.subject_id,
                after={"text": reply.text[:500]},
            )
            for reply in replies
        ],
        now=now,
    )


async def _deal_for(session: AsyncSession, deal_id: int) -> DealRegistration:
    deal = await session.get(DealRegistration, deal_id)
    if deal is None:
        raise Refusal("not_applied", "that registration no longer exists.")
    return deal


async def _comment(
    session: AsyncSession, reply: Reply, deal: DealRegistration, now: datetime
) -> str:
    if not reply.text:
        raise Refusal("not_applied", "your reply was empty.")
    await comment_all(session, [reply], now=now)
    return "deal.commented"


async def act(session: AsyncSession, reply: Reply, settings: Settings, *, now: datetime) -> str:
    """Do what one reply asks; return the action's name. Domain refusals become Refusals."""
    person, token, text = reply.person, reply.token, reply.text
    verb, rest = command(text)
    try:
        if token.kind == SubjectKind.ANNOUNCEMENT:
            [action] = await acknowledge_all(session, [reply], now=now)
            return action
        if token.kind == SubjectKind.TRAINING:
            return await quiz_reply(session, reply, settings, now=now)
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
            return await _comment(session, reply, deal, now)
        # A partner's reply about their own registration.
        if deal.partner_id != person.partner_id:
            raise Refusal("not_applied", "that registration is not one of your company's.")
        if verb == "withdraw":
            await decisions.withdraw(
                session, partner_user=person, deal_id=deal.id or 0, now=now, channel=Channel.EMAIL
            )
            return "deal.withdrawn"
        if verb == "extend":
            days = re.match(r"(\d{1,6})", rest)  # more digits are no number of days
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
        return await _comment(session, reply, deal, now)
    except UserFacingError as exc:
        raise Refusal("not_applied", str(exc).rstrip(".") + ".", person=person) from exc


async def _sent_before_change(
    session: AsyncSession, person: Person, module: TrainingModule
) -> bool:
    """The quiz the person is answering was mailed before the module last changed (its
    numbers and letters may mean something else now)."""
    sent = await session.exec(
        select(func.max(Notification.sent_at)).where(
            Notification.person_id == person.id,
            Notification.subject_kind == "training",
            Notification.subject_id == module.id,
            Notification.via == "email",
            col(Notification.kind).in_(("training.invite", "training.recertify")),
        )
    )
    last = sent.first()
    return last is not None and last < module.updated_at


async def quiz_reply(
    session: AsyncSession, reply: Reply, settings: Settings, *, now: datetime
) -> str:
    """A reply to a module's email: its new text graded as quiz answers (`1b 2a 3c`), the
    result mailed back. A reply without (all) answers, or one sent before the wait after a
    failed attempt is over, is answered with how to go on, and records no attempt."""
    person, mail = reply.person, reply.mail
    module = await training.module_for(session, person, reply.token.subject_id)
    key = hashlib.sha256(mail.key.encode()).hexdigest()[:40]
    base = {"module_id": module.id, "title": module.title}

    def answer(kind: str, payload: dict[str, Any]) -> Message:
        return Message(
            kind,
            f"{kind}:{key}",
            base | payload,
            person=Recipient.of(person),
            hold=False,
            via="email",
            subject=("training", module.id or 0),
        )

    if await _sent_before_change(session, person, module):
        problem = "This module changed after we mailed it to you; here it is again."
        again = Message(
            "training.invite",
            training.invite_key(module, person.id or 0, "email"),
            base,
            person=Recipient.of(person),
            hold=False,
            via="email",
            subject=("training", module.id or 0),
        )
        await notifications.queue(
            session, [answer("training.help", {"problem": problem}), again], now=now
        )
        return "training.module_changed"
    found = training.read_answers(reply.text, module)
    if found.problem is not None:
        await notifications.queue(
            session, [answer("training.help", {"problem": found.problem})], now=now
        )
        return "training.no_answers"
    wait = timedelta(minutes=settings.quiz_retry_minutes)
    try:
        result = await training.submit(
            session,
            person=person,
            module_id=module.id or 0,
            answers=found.answers,
            channel=Channel.EMAIL,
            submission_key=f"email:{key}",
            retry_wait=wait,
            now=now,
        )
    except training.RetryLater as exc:
        await notifications.queue(
            session, [answer("training.help", {"problem": exc.message})], now=now
        )
        return "training.too_soon"
    if not result.replayed:
        message = training.result_message(person, module, result, via="email")
        await notifications.queue(session, [message], now=now)
    return "training.passed" if result.grade.passed else "training.failed"


async def _subject_title(session: AsyncSession, token: tokens.ReplyToken) -> str:
    if token.kind == SubjectKind.ANNOUNCEMENT:
        announcement = await session.get(Announcement, token.subject_id)
        return f"Announcement: {announcement.title}" if announcement else "Announcement"
    if token.kind == SubjectKind.TRAINING:
        module = await session.get(TrainingModule, token.subject_id)
        return f"Training: {module.title}" if module else "Training"
    deal = await session.get(DealRegistration, token.subject_id)
    return f"Deal registration: {deal.customer_company}" if deal else "Deal registration"


async def write_notes(
    session: AsyncSession, replies: Sequence[tuple[Reply, str]], *, now: datetime
) -> None:
    """Each reply's stripped text on the deal's (or the partner company's) CRM timeline,
    keyed by the message. An acknowledgement's own note already carries its text."""
    deal_notes, company_notes = [], []
    for reply, action in replies:
        if not reply.text or action == "announcement.acknowledged":
            continue
        mail, person, token = reply.mail, reply.person, reply.token
        key = "email:" + hashlib.sha256(mail.key.encode()).hexdigest()[:40]
        subject = await _subject_title(session, token)
        body = (
            f"Email reply “{mail.subject}”:\n{reply.text}"
            if mail.subject
            else f"Email reply:\n{reply.text}"
        )
        if token.kind in (SubjectKind.DEAL, SubjectKind.APPROVAL):
            note = TimelineNote(
                record_type=RecordType.DEAL,
                record_id=str(token.subject_id),
                author=person.name,
                text=body,
                at=now,
                idempotency_key=key,
                subject=subject,
            )
            deal_notes.append(outbox.note_write(note))
        else:
            company_notes.append(crm_records.CompanyNote(person, subject, body, now, key))
    await outbox.enqueue_many(session, deal_notes, now=now)
    await crm_records.queue_company_notes(session, company_notes, now=now)

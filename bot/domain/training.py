"""Training: who is offered which module, grading on the server, attempts recorded once, and
certifications issued, renewed and written back to the CRM.

A quiz cannot be forged: the person is whoever Slack or a signed reply address says sent it,
the module must be offered to their company's partner type, answers are graded here against
the stored quiz, and each submission carries a key (the Slack view, the email's Message-ID)
so a replayed or double-clicked submission records one attempt and at most one certification.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import audit, catalogue, crm_records, notifications, publishing
from bot.domain.catalogue import LETTERS
from bot.errors import ForgedRequest, InvalidInput, NotFound, NotYours, UserFacingError
from store.models import (
    Certification,
    Channel,
    Partner,
    Person,
    Role,
    Tier,
    TrainingAttempt,
    TrainingModule,
)

# A pass while a certification of the same name still has longer than this to run records
# the attempt but issues nothing new; within it (when the reminders start) it renews.
RENEWAL_WINDOW = timedelta(days=30)


class RetryLater(UserFacingError):
    """A failed quiz may be taken again only after PARTNERBOT_QUIZ_RETRY_MINUTES."""

    def __init__(self, at: datetime) -> None:
        super().__init__(f"You can take this quiz again from {at:%H:%M} UTC on {at:%d %b %Y}.")
        self.at = at


class ModuleChanged(UserFacingError):
    """The module's quiz changed after it was opened: the answers may not fit it."""

    def __init__(self) -> None:
        super().__init__("This module was updated after you opened it. Please open it again.")


# --- Who is offered what ---------------------------------------------------------------


def offered(module: TrainingModule, partner: Partner | None) -> bool:
    """Whether the module is offered to people of this partner company."""
    if module.retired_at is not None or partner is None or not partner.active:
        return False
    return not module.partner_types or partner.type in module.partner_types


async def module_for(session: AsyncSession, person: Person, module_id: int) -> TrainingModule:
    """A module the person may take; NotYours (audited as a refusal) otherwise."""
    if person.role != Role.PARTNER:
        raise NotYours("Training is for partners.")
    module = await session.get(TrainingModule, module_id)
    partner = await session.get(Partner, person.partner_id) if person.partner_id else None
    if module is None or not offered(module, partner):
        raise NotYours("That training module is not offered to you.")
    return module


@dataclass(frozen=True)
class ModuleStatus:
    """Where a person stands with one module."""

    module: TrainingModule
    passed_at: datetime | None
    certified_until: datetime | None  # the certification the module grants, if held
    retry_at: datetime | None  # after a failed attempt, until the wait is over
    attempts: int

    @property
    def state(self) -> str:
        """certified | passed | expired | failed | new."""
        if self.certified_until is not None:
            return "certified"
        if self.passed_at is not None:
            return "expired" if self.module.certification else "passed"
        return "failed" if self.attempts else "new"


async def statuses(
    session: AsyncSession, person: Person, *, now: datetime, retry_wait: timedelta
) -> list[ModuleStatus]:
    """The modules offered to the person, in catalogue order, each with their standing."""
    partner = await session.get(Partner, person.partner_id) if person.partner_id else None
    offer = [m for m in await catalogue.modules(session) if offered(m, partner)]
    if not offer:
        return []
    attempts = (
        await session.exec(
            select(TrainingAttempt).where(
                TrainingAttempt.person_id == person.id,
                col(TrainingAttempt.module_id).in_([m.id for m in offer]),
            )
        )
    ).all()
    held = await valid_certifications(session, person, now=now)
    out = []
    for module in offer:
        mine = sorted(
            (a for a in attempts if a.module_id == module.id and a.completed_at),
            key=lambda a: a.completed_at or now,
        )
        passes = [a.completed_at for a in mine if a.passed]
        retry = None
        if mine and not mine[-1].passed and mine[-1].completed_at:
            wait_over = mine[-1].completed_at + retry_wait
            retry = wait_over if wait_over > now else None
        out.append(
            ModuleStatus(
                module=module,
                passed_at=passes[-1] if passes else None,
                certified_until=held.get(module.certification or ""),
                retry_at=retry,
                attempts=len(mine),
            )
        )
    return out


def next_up(found: list[ModuleStatus]) -> ModuleStatus | None:
    """What the person should take next: a lapsed certification first, then a module not yet
    passed."""
    for state in ("expired", "failed", "new"):
        for status in found:
            if status.state == state:
                return status
    return None


async def valid_certifications(
    session: AsyncSession, person: Person, *, now: datetime
) -> dict[str, datetime]:
    """The person's certifications in force at `now`: name → until when (the latest)."""
    rows = await session.exec(
        select(Certification.name, Certification.expires_at).where(
            Certification.person_id == person.id,
            col(Certification.revoked_at).is_(None),
            col(Certification.expires_at) > now,
        )
    )
    held: dict[str, datetime] = {}
    for name, expires_at in rows.all():
        held[name] = max(expires_at, held.get(name, expires_at))
    return held


async def retry_at(
    session: AsyncSession,
    person: Person,
    module: TrainingModule,
    *,
    now: datetime,
    retry_wait: timedelta,
) -> datetime | None:
    """When a person whose last attempt failed may try again (None: now)."""
    last = (
        await session.exec(
            select(TrainingAttempt)
            .where(
                TrainingAttempt.person_id == person.id,
                TrainingAttempt.module_id == module.id,
                col(TrainingAttempt.completed_at).is_not(None),
            )
            .order_by(col(TrainingAttempt.completed_at).desc(), col(TrainingAttempt.id).desc())
            .limit(1)
        )
    ).first()
    if last is None or last.passed or last.completed_at is None:
        return None
    at = last.completed_at + retry_wait
    return at if at > now else None


# --- Rights ------------------------------------------------------------------------------


async def partner_certifications(
    session: AsyncSession, partner_ids: set[int], now: datetime
) -> dict[int, set[str]]:
    """The certifications each partner company holds at `now` (through people who still
    have access: a certified seller who left takes the right with them)."""
    rows = await session.exec(
        select(Certification.partner_id, Certification.name)
        .join(Person, col(Person.id) == col(Certification.person_id))
        .where(
            col(Certification.partner_id).in_(partner_ids),
            col(Certification.expires_at) > now,
            col(Certification.revoked_at).is_(None),
            col(Person.revoked_at).is_(None),
        )
    )
    held: dict[int, set[str]] = {pid: set() for pid in partner_ids}
    for partner_id, name in rows.all():
        if partner_id is not None:
            held[partner_id].add(name)
    return held


async def certifications_for(session: AsyncSession, products: list[str]) -> dict[str, set[str]]:
    """Which certifications grant the right to register each product, by the current
    catalogue (a product no module unlocks is not gated)."""
    modules = (
        await session.exec(
            select(TrainingModule).where(
                col(TrainingModule.certification).is_not(None),
                col(TrainingModule.retired_at).is_(None),
            )
        )
    ).all()
    needed: dict[str, set[str]] = {}
    for module in modules:
        for product in set(module.products) & set(products):
            needed.setdefault(product, set()).add(str(module.certification))
    return needed


async def missing_certifications(
    session: AsyncSession, partner: Partner, products: list[str], now: datetime
) -> dict[str, set[str]]:
    """Products the partner may not register (product → the certifications that would let
    it) because its tier requires a certification for them that it lacks."""
    tier = await session.get(Tier, partner.tier) if partner.tier else None
    if tier is None or not tier.certification_required:
        return {}
    needed = await certifications_for(session, products)
    held = (await partner_certifications(session, {partner.id or 0}, now))[partner.id or 0]
    return {product: certs for product, certs in needed.items() if not certs & held}


async def modules_granting(
    session: AsyncSession, names: set[str], partner: Partner
) -> dict[str, list[TrainingModule]]:
    """For each certification, the modules offered to the partner that grant it."""
    query = select(TrainingModule).where(col(TrainingModule.certification).in_(names))
    found: dict[str, list[TrainingModule]] = {name: [] for name in names}
    for module in (await session.exec(query)).all():
        if offered(module, partner):
            found[str(module.certification)].append(module)
    return found


# --- Grading ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Grade:
    """A graded quiz: what was right, never what the right answers are."""

    right: int
    total: int
    passed: bool
    wrong: tuple[int, ...]  # question numbers (1-based)

    @property
    def percent(self) -> int:
        """The score in whole percent."""
        return round(100 * self.right / self.total) if self.total else 0


def check_answers(module: TrainingModule, answers: dict[int, int]) -> None:
    """Every question answered with one of its choices; InvalidInput naming the first that
    is not (field `q<n>`)."""
    for number, question in enumerate(module.quiz, start=1):
        choice = answers.get(number)
        if choice is None:
            raise InvalidInput(f"Please answer question {number}.", field=f"q{number}")
        if not 1 <= choice <= len(question["choices"]):
            raise ForgedRequest()
    if set(answers) - set(range(1, len(module.quiz) + 1)):
        raise ForgedRequest()


def grade(module: TrainingModule, answers: dict[int, int]) -> Grade:
    """Grade complete answers against the stored quiz."""
    wrong = tuple(
        number
        for number, question in enumerate(module.quiz, start=1)
        if answers.get(number) != int(question["answer"])
    )
    total = len(module.quiz)
    right = total - len(wrong)
    return Grade(right, total, right >= module.pass_mark * total - 1e-9, wrong)


# --- Submitting ------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """What a submission came to. `replayed`: the same submission was recorded before, and
    this is that outcome."""

    attempt: TrainingAttempt
    grade: Grade
    certification: Certification | None
    still_certified_until: datetime | None  # a pass that renewed nothing: the one in force
    retry_at: datetime | None
    replayed: bool = False


def _grade_of(module: TrainingModule, attempt: TrainingAttempt) -> Grade:
    answers = {n: int(c) for n, c in enumerate(attempt.answers, start=1) if c}
    return grade(module, answers)


async def _replay(
    session: AsyncSession, module: TrainingModule, key: str, retry_wait: timedelta
) -> Result | None:
    attempt = (
        await session.exec(select(TrainingAttempt).where(TrainingAttempt.submission_key == key))
    ).first()
    if attempt is None:
        return None
    if attempt.module_id != module.id:
        raise ForgedRequest()
    certification = (
        await session.exec(
            select(Certification).where(
                Certification.module_id == module.id,
                Certification.person_id == attempt.person_id,
                Certification.issued_at == attempt.completed_at,
            )
        )
    ).first()
    done = attempt.completed_at
    retry = None if attempt.passed or done is None else done + retry_wait
    return Result(attempt, _grade_of(module, attempt), certification, None, retry, replayed=True)


async def submit(
    session: AsyncSession,
    *,
    person: Person,
    module_id: int,
    answers: dict[int, int],
    channel: Channel,
    submission_key: str,
    retry_wait: timedelta,
    now: datetime,
    version: datetime | None = None,
) -> Result:
    """Grade and record one submission in the caller's transaction: the attempt, and on a
    pass the certification, the CRM notes and properties, and a message with the expiry.
    The same `submission_key` again returns the first outcome and records nothing."""
    module = await module_for(session, person, module_id)
    replay = await _replay(session, module, submission_key, retry_wait)
    if replay is not None:
        return replay
    if version is not None and abs((module.updated_at - version).total_seconds()) >= 1:
        raise ModuleChanged()
    check_answers(module, answers)
    wait_over = await retry_at(session, person, module, now=now, retry_wait=retry_wait)
    if wait_over is not None:
        raise RetryLater(wait_over)
    result = grade(module, answers)
    attempt = TrainingAttempt(
        module_id=module.id or 0,
        person_id=person.id or 0,
        channel=channel,
        answers=[answers[n] for n in range(1, len(module.quiz) + 1)],
        score=result.right / result.total,
        passed=result.passed,
        started_at=now,
        completed_at=now,
        submission_key=submission_key[:200],
    )
    try:
        async with session.begin_nested():
            session.add(attempt)
    except IntegrityError:  # the same submission, recorded by a concurrent request
        replay = await _replay(session, module, submission_key, retry_wait)
        if replay is None:
            raise
        return replay
    certification, still = None, None
    if result.passed:
        held = (await valid_certifications(session, person, now=now)).get(
            module.certification or ""
        )
        if module.certification and (held is None or held - now <= RENEWAL_WINDOW):
            certification = await certify(
                session, person=person, module=module, channel=channel, now=now
            )
        else:
            still = held
        await crm_records.queue_company_note(
            session,
            person,
            subject=f"Training: {module.title}",
            text=f"{person.name} passed “{module.title}” with {result.percent}% "
            f"({result.right} of {result.total}) by {channel}.",
            at=now,
            key=f"training.pass:{attempt.id}",
        )
    await audit.record(
        session,
        actor=audit.Actor.person(person),
        channel=channel,
        action="training.passed" if result.passed else "training.failed",
        subject_type="training_module",
        subject_id=module.id,
        after={"score": result.percent, "wrong": list(result.wrong), "attempt": attempt.id},
        now=now,
    )
    retry = None if result.passed else now + retry_wait
    return Result(attempt, result, certification, still, retry)


async def certify(
    session: AsyncSession,
    *,
    person: Person,
    module: TrainingModule,
    channel: Channel,
    now: datetime,
) -> Certification:
    """Issue the module's certification to the person, valid for the module's period; the
    partner company's CRM timeline and properties hear of it."""
    if not module.certification:
        raise NotFound(f"“{module.title}” does not lead to a certification.")
    certification = Certification(
        person_id=person.id or 0,
        partner_id=person.partner_id,
        module_id=module.id,
        name=module.certification,
        issued_at=now,
        expires_at=now + timedelta(days=module.certification_valid_days),
    )
    session.add(certification)
    await session.flush()
    expires = certification.expires_at.date().isoformat()
    await crm_records.queue_company_note(
        session,
        person,
        subject=f"Certification: {module.certification}",
        text=f"{person.name} passed “{module.title}” and is certified as "
        f"{module.certification} until {expires}.",
        at=now,
        key=f"certification:{certification.id}",
    )
    partner = await session.get(Partner, person.partner_id) if person.partner_id else None
    if partner is not None:
        await crm_records.queue_partner_properties(session, partner, now=now)
    await audit.record(
        session,
        actor=audit.Actor.person(person),
        channel=channel,
        action="certification.issued",
        subject_type="certification",
        subject_id=certification.id or 0,
        after={"name": certification.name, "expires_at": expires, "module": module.slug},
        now=now,
    )
    return certification


def result_message(
    person: Person, module: TrainingModule, result: Result, *, via: str
) -> notifications.Message:
    """The result, for the person (by Slack, or by email to answer a quiz sent by email)."""
    payload: dict[str, Any] = {
        "module_id": module.id,
        "title": module.title,
        "passed": result.grade.passed,
        "right": result.grade.right,
        "total": result.grade.total,
        "percent": result.grade.percent,
        "pass_mark": round(module.pass_mark * 100),
        "wrong": list(result.grade.wrong),
        "certification": module.certification,
        "expires_at": (
            result.certification.expires_at.isoformat()
            if result.certification
            else result.still_certified_until.isoformat()
            if result.still_certified_until
            else None
        ),
        "renewed": result.certification is not None,
        "retry_at": result.retry_at.isoformat() if result.retry_at else None,
    }
    return notifications.Message(
        "training.result",
        f"training.result:{result.attempt.id}",
        payload,
        person=notifications.Recipient.of(person),
        hold=False,
        via=via,
        subject=("training", module.id or 0),
    )


# --- Quiz answers by email ---------------------------------------------------------------

# `1b`, `1 b`, `1) b`, `1. B`, `Q1: b`, `question 1 - (b)`, separated by anything.
_ANSWER = re.compile(
    r"(?<![a-z0-9])(?:q(?:uestion)?\s*)?(\d{1,2})\s*[).:=-]?\s*\(?([a-z])\)?(?![a-z0-9])",
    re.IGNORECASE,
)
_LETTERS_ONLY = re.compile(r"^[\s,;]*([a-j](?:[\s,;]+[a-j])*)[\s,;.]*$", re.IGNORECASE)


def answer_example(count: int) -> str:
    """How answers are written, for a quiz of `count` questions: `1b 2a 3c`."""
    return " ".join(["1b", "2a", "3c"][: max(1, min(count, 3))])


@dataclass(frozen=True)
class EmailAnswers:
    """What a reply's new text says: the answers, or why they cannot be graded."""

    answers: dict[int, int]
    problem: str | None = None


def read_answers(text: str, module: TrainingModule) -> EmailAnswers:
    """Quiz answers from the new text of an email reply (the quoted original is already gone):
    `1b 2a 3c`, tolerant of case, spacing, commas and `1) b`; a first line of letters alone
    (`b a c`) answers in order."""
    count = len(module.quiz)
    found: dict[int, set[int]] = {}
    for match in _ANSWER.finditer(text):
        number, letter = int(match.group(1)), match.group(2).lower()
        if not 1 <= number <= count:
            continue
        found.setdefault(number, set()).add(LETTERS.index(letter) + 1 if letter in LETTERS else 99)
    if not found:
        first = next((line for line in text.splitlines() if line.strip()), "")
        letters = _LETTERS_ONLY.match(first)
        if letters:
            picks = re.findall(r"[a-j]", letters.group(1).lower())
            if len(picks) == count:
                found = {n: {LETTERS.index(p) + 1} for n, p in enumerate(picks, start=1)}
    example = answer_example(count)
    how = f"Reply with each question's number and the letter of your choice, like “{example}”."
    if not found:
        return EmailAnswers({}, f"We found no quiz answers in your reply. {how}")
    twice = [n for n, picks in sorted(found.items()) if len(picks) > 1]
    if twice:
        listed = ", ".join(map(str, twice))
        return EmailAnswers({}, f"Question {listed} has more than one answer in your reply. {how}")
    answers = {n: next(iter(picks)) for n, picks in found.items()}
    outside = [
        n for n, choice in sorted(answers.items()) if choice > len(module.quiz[n - 1]["choices"])
    ]
    if outside:
        parts = [
            f"question {n} has choices a to {LETTERS[len(module.quiz[n - 1]['choices']) - 1]}"
            for n in outside
        ]
        return EmailAnswers({}, "Some answers are not among the choices: " + "; ".join(parts) + ".")
    missing = [n for n in range(1, count + 1) if n not in answers]
    if missing:
        listed = ", ".join(map(str, missing))
        return EmailAnswers(
            {}, f"Your reply has no answer to question {listed}. Please answer all {count}."
        )
    return EmailAnswers(answers)


# --- Invitations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class InviteAudience:
    """Whom to invite: one company, one person, or partner types/tiers/regions (all empty:
    everyone the module is offered to)."""

    partner: str | None = None
    email: str | None = None
    partner_types: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()


@dataclass
class Invited:
    """What `training invite` queued."""

    title: str
    people: int = 0
    by_slack: int = 0
    by_email: int = 0
    already: int = 0
    passed: int = 0  # left out: passed it already (and certified beyond the renewal window)
    unreachable: list[tuple[str, str]] = field(default_factory=list)  # (who, why)


async def _done_with(
    session: AsyncSession, module: TrainingModule, people: set[int], now: datetime
) -> set[int]:
    """Who of `people` needs no invitation: they passed the module, and hold the
    certification it grants for longer than the renewal window."""
    passed = await session.exec(
        select(TrainingAttempt.person_id).where(
            TrainingAttempt.module_id == module.id,
            col(TrainingAttempt.passed).is_(True),
            col(TrainingAttempt.person_id).in_(people),
        )
    )
    done = set(passed.all())
    if not module.certification or not done:
        return done
    held = await session.exec(
        select(Certification.person_id).where(
            Certification.name == module.certification,
            col(Certification.person_id).in_(done),
            col(Certification.revoked_at).is_(None),
            col(Certification.expires_at) > now + RENEWAL_WINDOW,
        )
    )
    return set(held.all())


def invite_key(module: TrainingModule, person_id: int, via: str) -> str:
    """An invitation is sent once per person, way and version of the module."""
    return f"training.invite:{module.id}:{person_id}:{via}:{module.updated_at:%Y%m%d%H%M%S}"


async def invite(
    session: AsyncSession,
    *,
    slug: str,
    audience: InviteAudience,
    via: tuple[str, ...],
    actor: audit.Actor,
    now: datetime,
) -> Invited:
    """Queue the module's invitation to everyone chosen it is offered to: a DM with `Start
    training`, or its content and quiz by email. Names and addresses that match no one are
    refused (nothing is sent)."""
    module = await catalogue.find(session, slug)
    if module is None or module.retired_at is not None:
        raise NotFound(f"No module “{slug}” in the catalogue (see `partnerbot training list`).")
    where: list[Any] = []
    if module.partner_types:
        where.append(col(Partner.type).in_(module.partner_types))
    if audience.partner:
        partner = (
            await session.exec(
                select(Partner).where(func.lower(Partner.name) == audience.partner.strip().lower())
            )
        ).first()
        if partner is None:
            raise NotFound(f"No partner company named “{audience.partner}”.")
        where.append(col(Partner.id) == partner.id)
    if audience.email:
        person = (
            await session.exec(select(Person).where(Person.email == audience.email.strip().lower()))
        ).first()
        if person is None or person.role != Role.PARTNER:
            raise NotFound(f"{audience.email} is not a partner user.")
        where.append(col(Person.id) == person.id)
    try:
        draft = publishing.validate_draft(
            title=module.title,
            body=module.title,
            partner_types=audience.partner_types,
            tiers=audience.tiers,
            regions=audience.regions,
            via=via,
            now=now,
        )
    except publishing.DraftErrors as exc:
        raise InvalidInput(str(exc)) from None
    reach = await publishing.audience(session, draft, where=where)
    if not reach.deliveries and not reach.unreachable:
        raise NotFound(f"“{module.title}” is offered to no one you chose.")
    done = await _done_with(session, module, {d.person.id or 0 for d in reach.deliveries}, now)
    deliveries = [d for d in reach.deliveries if d.person.id not in done]
    facts = {"module_id": module.id, "title": module.title}
    messages = [
        notifications.Message(
            "training.invite",
            invite_key(module, delivery.person.id or 0, delivery.via),
            facts,
            person=notifications.Recipient.of(delivery.person),
            via=delivery.via,
            subject=("training", module.id or 0),
        )
        for delivery in deliveries
    ]
    new = await notifications.queue(session, messages, now=now)
    invited = Invited(
        module.title,
        people=len({d.person.id for d in deliveries}),
        already=len(messages) - new,
        passed=len(done),
    )
    invited.by_slack = sum(1 for d in deliveries if d.via == "slack")
    invited.by_email = sum(1 for d in deliveries if d.via == "email")
    invited.unreachable = [(f"{p.name} <{p.email}>", why) for p, why in reach.unreachable]
    await audit.record(
        session,
        actor=actor,
        channel=Channel.CLI,
        action="training.invited",
        subject_type="training_module",
        subject_id=module.id,
        after={
            "audience": {k: v for k, v in audience.__dict__.items() if v},
            "via": list(via),
            "queued": new,
        },
        now=now,
    )
    return invited

"""Publishing announcements: a draft, its audience, the fan-out, read receipts, the rules.

A manager (or a script) drafts an announcement targeted by partner type, tier and region;
sees how many people and companies it reaches; publishes it. Publishing queues one durable
notification per recipient and channel in the same transaction (the worker delivers them),
so a crash in the middle of a fan-out resumes without anyone getting a second copy.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import audit, notifications
from bot.domain.access import require_role
from bot.domain.notifications import Message, Recipient
from bot.errors import NotFound, NotYours, UserFacingError
from store.models import (
    Acknowledgement,
    Announcement,
    Channel,
    Notification,
    Partner,
    PartnerType,
    Person,
    Role,
)

MANAGERS = (Role.MANAGER, Role.ADMIN)
MAX_TITLE = 150
MAX_BODY = 40_000  # fits a Slack DM (sections of 3,000) and an email comfortably
VIAS = ("slack", "email")
SUBJECT = "announcement"


class DraftErrors(UserFacingError):
    """The draft has errors; `errors` maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Draft:
    """What to announce, to whom, how."""

    title: str
    body: str
    partner_types: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    via: tuple[str, ...] = VIAS
    ack_required: bool = False
    deadline: datetime | None = None
    rules: bool = False


def _list(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({v.strip().lower() for v in values if v and v.strip()}))


def validate_draft(
    *,
    title: str,
    body: str,
    partner_types: Iterable[str] = (),
    tiers: Iterable[str] = (),
    regions: Iterable[str] = (),
    via: Iterable[str] = VIAS,
    ack_required: bool = False,
    deadline: date | datetime | str | None = None,
    rules: bool = False,
    now: datetime,
) -> Draft:
    """Check every field; raise DraftErrors naming each bad one, or return the draft. A
    deadline given as a date means the end of that day (UTC)."""
    errors: dict[str, str] = {}
    title, body = title.strip(), body.strip()
    if not title:
        errors["title"] = "Give the announcement a title."
    elif len(title) > MAX_TITLE:
        errors["title"] = f"Keep the title under {MAX_TITLE} characters."
    if not body:
        errors["message"] = "Write the message."
    elif len(body) > MAX_BODY:
        errors["message"] = f"Keep the message under {MAX_BODY:,} characters."
    types = _list(partner_types)
    if unknown := [t for t in types if t not in {p.value for p in PartnerType}]:
        errors["partner_types"] = f"Unknown partner type: {', '.join(unknown)}."
    channels = _list(via)
    if not channels or any(c not in VIAS for c in channels):
        errors["via"] = "Send by Slack, email or both."
    when = None
    if deadline:
        try:
            when = _deadline(deadline)
        except ValueError:
            errors["deadline"] = "Pick a date (YYYY-MM-DD)."
        else:
            if when <= now:
                errors["deadline"] = "The deadline is in the past."
            elif not ack_required:
                errors["deadline"] = "A deadline needs “Acknowledgement required”."
    if errors:
        raise DraftErrors(errors)
    return Draft(
        title, body, types, _list(tiers), _list(regions), channels, ack_required, when, rules
    )


def _deadline(value: date | datetime | str) -> datetime:
    if isinstance(value, str):
        value = (
            date.fromisoformat(value.strip())
            if len(value.strip()) == 10
            else datetime.fromisoformat(value.strip())
        )
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.combine(value, time(23, 59, 59), tzinfo=UTC)


# --- Audience --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """One person and how they will get it."""

    person: Person
    partner: str
    via: str  # slack|email


@dataclass
class Audience:
    """Who a draft reaches, and who it cannot."""

    deliveries: list[Delivery] = field(default_factory=list)
    unreachable: list[tuple[Person, str]] = field(default_factory=list)  # (person, why)

    @property
    def people(self) -> int:
        """How many people get it (one way or two)."""
        return len({d.person.id for d in self.deliveries})

    @property
    def companies(self) -> int:
        """How many partner companies they work for."""
        return len({d.partner for d in self.deliveries})

    def by(self, via: str) -> int:
        """How many deliveries go `via` slack or email."""
        return sum(1 for d in self.deliveries if d.via == via)


def _wanted(draft: Draft) -> list[Any]:
    conditions: list[Any] = [
        Person.role == Role.PARTNER,
        col(Person.revoked_at).is_(None),
        col(Partner.active).is_(True),
    ]
    for column, values in (
        (Partner.type, draft.partner_types),
        (Partner.tier, draft.tiers),
        (Partner.region, draft.regions),
    ):
        if values:
            conditions.append(func.lower(column).in_(values))
    return conditions


async def audience(session: AsyncSession, draft: Draft, *, where: Sequence[Any] = ()) -> Audience:
    """The partner users the draft reaches (empty filters: everyone; `where` narrows it
    further), each by Slack when they have an account and Slack was chosen, by email when
    email was chosen or as the way to reach someone without Slack; revoked people and
    bouncing addresses get nothing."""
    rows = await session.exec(
        select(Person, Partner.name)
        .join(Partner, col(Partner.id) == col(Person.partner_id))
        .where(*_wanted(draft), *where)
        .order_by(col(Partner.name), col(Person.name))
    )
    found = Audience()
    for person, partner in rows.all():
        ways = []
        if "slack" in draft.via and person.slack_user_id:
            ways.append("slack")
        if "email" in draft.via or not person.slack_user_id:
            if person.email_bouncing_since is None:
                ways.append("email")
            elif not ways:
                found.unreachable.append((person, f"{person.email} is bouncing"))
        found.deliveries += [Delivery(person, partner, way) for way in ways]
    return found


# --- Drafts and publishing ----------------------------------------------------------------------


async def create(
    session: AsyncSession,
    *,
    author: Person,
    draft: Draft,
    now: datetime,
    publish: bool = False,
    channel: Channel = Channel.SLACK,
) -> Announcement:
    """Keep a draft (to confirm), or publish at once (a script); audited."""
    require_role(author, *MANAGERS)
    announcement = Announcement(
        title=draft.title,
        body=draft.body,
        partner_types=list(draft.partner_types),
        tiers=list(draft.tiers),
        regions=list(draft.regions),
        via=list(draft.via),
        ack_required=draft.ack_required,
        deadline=draft.deadline,
        rules=draft.rules,
        status="draft",
        published_by_id=author.id or 0,
        published_at=now,
    )
    session.add(announcement)
    await session.flush()
    await audit.record(
        session,
        actor=audit.Actor.person(author),
        channel=channel,
        action="announcement.drafted",
        subject_type=SUBJECT,
        subject_id=announcement.id,
        after={"title": draft.title, "rules": draft.rules},
        now=now,
    )
    if publish:
        await publish_draft(
            session, announcement_id=announcement.id or 0, manager=author, now=now, channel=channel
        )
    return announcement


def draft_of(announcement: Announcement) -> Draft:
    """The draft an announcement was made from."""
    return Draft(
        announcement.title,
        announcement.body,
        tuple(announcement.partner_types),
        tuple(announcement.tiers),
        tuple(announcement.regions),
        tuple(announcement.via),
        announcement.ack_required,
        announcement.deadline,
        announcement.rules,
    )


async def _draft(session: AsyncSession, announcement_id: int, manager: Person) -> Announcement:
    require_role(manager, *MANAGERS)
    announcement = await session.get(Announcement, announcement_id)
    if announcement is None or announcement.published_by_id != manager.id:
        raise NotFound("That draft is not yours or no longer exists.")
    return announcement


@dataclass(frozen=True)
class Published:
    """A published announcement and how its fan-out was queued."""

    announcement: Announcement
    audience: Audience
    queued: int


async def publish_draft(
    session: AsyncSession,
    *,
    announcement_id: int,
    manager: Person,
    now: datetime,
    channel: Channel = Channel.SLACK,
) -> Published:
    """Publish a draft: queue one notification per recipient and channel (once, whatever
    happens next) and audit it. Publishing twice queues nothing twice."""
    announcement = await _draft(session, announcement_id, manager)
    reach = await audience(session, draft_of(announcement))
    if announcement.status == "cancelled":
        raise NotFound("That draft was cancelled.")
    first = announcement.status == "draft"
    announcement.status, announcement.published_at = (
        "published",
        now if first else announcement.published_at,
    )
    session.add(announcement)
    payload = {"announcement_id": announcement.id, "title": announcement.title}
    messages = [
        Message(
            SUBJECT,
            f"{SUBJECT}:{announcement.id}:{d.person.id}:{d.via}",
            payload,
            person=Recipient.of(d.person),
            hold=False,
            via=d.via,
            subject=(SUBJECT, announcement.id or 0),
        )
        for d in reach.deliveries
    ]
    queued = await notifications.queue(session, messages, now=now)
    if first:
        await audit.record(
            session,
            actor=audit.Actor.person(manager),
            channel=channel,
            action="announcement.published",
            subject_type=SUBJECT,
            subject_id=announcement.id,
            after={
                "people": reach.people,
                "companies": reach.companies,
                "slack": reach.by("slack"),
                "email": reach.by("email"),
                "unreachable": len(reach.unreachable),
            },
            now=now,
        )
    return Published(announcement, reach, queued)


async def cancel_draft(
    session: AsyncSession, *, announcement_id: int, manager: Person, now: datetime
) -> None:
    """Drop a draft the manager decided not to send."""
    announcement = await _draft(session, announcement_id, manager)
    if announcement.status != "draft":
        return
    announcement.status = "cancelled"
    session.add(announcement)
    await audit.record(
        session,
        actor=audit.Actor.person(manager),
        channel=Channel.SLACK,
        action="announcement.cancelled",
        subject_type=SUBJECT,
        subject_id=announcement.id,
        now=now,
    )


# --- Who got it, who read it --------------------------------------------------------------------


async def recipients(session: AsyncSession, announcement_id: int) -> dict[int, list[Notification]]:
    """Each person the announcement was sent to, with their notifications (by channel)."""
    rows = await session.exec(
        select(Notification).where(
            Notification.subject_kind == SUBJECT, Notification.subject_id == announcement_id
        )
    )
    found: dict[int, list[Notification]] = {}
    for row in rows.all():
        if row.person_id is not None and row.kind == SUBJECT:
            found.setdefault(row.person_id, []).append(row)
    return found


async def require_recipient(session: AsyncSession, announcement_id: int, person: Person) -> None:
    """NotYours unless the announcement was sent (or is being sent) to this person."""
    query = select(Notification.id).where(
        Notification.subject_kind == SUBJECT,
        Notification.subject_id == announcement_id,
        Notification.kind == SUBJECT,
        Notification.person_id == person.id,
    )
    if (await session.exec(query.limit(1))).first() is None:
        raise NotYours("That announcement was not sent to you.")


@dataclass(frozen=True)
class Receipt:
    """One recipient's state."""

    person: str
    email: str
    company: str
    delivered: str  # "slack, email", "failed: …", "pending"
    acknowledged_at: datetime | None
    acknowledged_by: str | None  # slack|email


@dataclass(frozen=True)
class Receipts:
    """Read receipts of one announcement."""

    announcement: Announcement
    rows: list[Receipt]

    @property
    def counts(self) -> dict[str, int]:
        """audience / delivered / acknowledged / failed."""
        return {
            "audience": len(self.rows),
            "delivered": sum(
                1
                for r in self.rows
                if r.delivered and not r.delivered.startswith(("failed", "pending"))
            ),
            "acknowledged": sum(1 for r in self.rows if r.acknowledged_at),
            "failed": sum(1 for r in self.rows if r.delivered.startswith("failed")),
        }


async def receipts(session: AsyncSession, announcement_id: int) -> Receipts:
    """Per person and company: delivered (how), acknowledged (when, how) or not yet."""
    announcement = await session.get(Announcement, announcement_id)
    if announcement is None:
        raise NotFound(f"No announcement #{announcement_id}.")
    sent = await recipients(session, announcement_id)
    people = {
        p.id: (p, name)
        for p, name in (
            await session.exec(
                select(Person, Partner.name)
                .join(Partner, col(Partner.id) == col(Person.partner_id), isouter=True)
                .where(col(Person.id).in_(set(sent)))
            )
        ).all()
    }
    acks = {
        a.person_id: a
        for a in (
            await session.exec(
                select(Acknowledgement).where(Acknowledgement.announcement_id == announcement_id)
            )
        ).all()
    }
    rows = []
    for person_id, notes in sent.items():
        person, company = people[person_id]
        done = [n.via for n in notes if n.status == "sent"]
        failed = [n.error or "failed" for n in notes if n.status == "failed"]
        state = ", ".join(sorted(done)) if done else f"failed: {failed[0]}" if failed else "pending"
        ack = acks.get(person_id)
        rows.append(
            Receipt(
                person.name,
                person.email,
                company or "",
                state,
                ack.acknowledged_at if ack else None,
                ack.channel if ack else None,
            )
        )
    rows.sort(key=lambda r: (r.company, r.person))
    return Receipts(announcement, rows)


@dataclass(frozen=True)
class Progress:
    """How far a fan-out got, and why some failed."""

    total: int
    sent: int
    failed: int
    pending: int
    failures: Counter[str]


async def progress(session: AsyncSession, announcement_id: int) -> Progress:
    """Counts of the fan-out's notifications by state, and the failures by reason."""
    rows = await session.exec(
        select(Notification.status, Notification.error).where(
            Notification.subject_kind == SUBJECT,
            Notification.subject_id == announcement_id,
            Notification.kind == SUBJECT,
        )
    )
    states: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    for status, error in rows.all():
        states[status] += 1
        if status == "failed":
            failures[error or "failed"] += 1
    total = sum(states.values())
    return Progress(total, states["sent"], states["failed"], states["pending"], failures)


async def recent(
    session: AsyncSession, *, limit: int = 5
) -> list[tuple[Announcement, Progress, int]]:
    """The latest published announcements with their fan-out and acknowledgement counts."""
    latest = await session.exec(
        select(Announcement)
        .where(Announcement.status == "published")
        .order_by(col(Announcement.published_at).desc(), col(Announcement.id).desc())
        .limit(limit)
    )
    found = []
    for announcement in latest.all():
        acked = (
            await session.exec(
                select(func.count()).where(Acknowledgement.announcement_id == announcement.id)
            )
        ).one()
        found.append((announcement, await progress(session, announcement.id or 0), int(acked)))
    return found


# --- Rules of engagement -----------------------------------------------------------------------


async def current_rules(session: AsyncSession) -> Announcement | None:
    """The latest published announcement marked as the rules of engagement."""
    query = (
        select(Announcement)
        .where(Announcement.status == "published", col(Announcement.rules).is_(True))
        .order_by(col(Announcement.published_at).desc(), col(Announcement.id).desc())
    )
    return (await session.exec(query.limit(1))).first()


async def rules_to_acknowledge(session: AsyncSession, person: Person) -> Announcement | None:
    """The current rules, when this partner user has not acknowledged them yet."""
    if person.role != Role.PARTNER:
        return None
    rules = await current_rules(session)
    if rules is None:
        return None
    given = await session.exec(
        select(Acknowledgement.id).where(
            Acknowledgement.announcement_id == rules.id, Acknowledgement.person_id == person.id
        )
    )
    return None if given.first() is not None else rules


def reminder_moments(deadline: datetime, offsets: Sequence[timedelta]) -> list[datetime]:
    """When reminders fall due before a deadline (`3d,1d` → three days and one day before)."""
    return sorted({deadline - offset for offset in offsets})

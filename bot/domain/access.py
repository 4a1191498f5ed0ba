"""Identity and access: who is behind a request, and may they do this? Checked every time."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import audit
from bot.errors import AccessDenied
from store.db import Database
from store.models import Channel, Partner, PartnerDomain, Person, Role

log = logging.getLogger(__name__)

HOW_TO_GET_ACCESS = (
    "Ask your channel manager to add you to the partner program"
    " (or, if you work for the vendor, ask a partnerbot admin)."
)


class UnknownPerson(AccessDenied):
    """Nobody in the program matches this Slack user or email."""

    def __init__(self) -> None:
        super().__init__(f"partnerbot doesn't know you yet. {HOW_TO_GET_ACCESS}")


class RevokedPerson(AccessDenied):
    """The person (or their whole partner company) has been revoked."""

    def __init__(self) -> None:
        super().__init__(
            "Your access to partnerbot has been revoked. If you think this is a mistake,"
            " contact your channel manager."
        )


class MissingRole(AccessDenied):
    """The person is known but their role does not allow the action."""


class ForeignWorkspace(AccessDenied):
    """A manager's or admin's account used from outside the vendor's own Slack workspace."""

    def __init__(self) -> None:
        super().__init__(
            "Channel managers and admins use partnerbot from the vendor's own Slack workspace."
        )


PRIVILEGED = (Role.MANAGER, Role.ADMIN)


@dataclass(frozen=True)
class SlackProfile:
    """What Slack's directory says about a user (users.info)."""

    user_id: str
    team_id: str | None
    name: str
    email: str | None
    deleted: bool = False
    is_bot: bool = False
    time_zone: str | None = None  # IANA name, e.g. Europe/Berlin


class SlackDirectory(Protocol):
    """Looks up a Slack user's profile; None when Slack does not know the user."""

    async def profile(self, user_id: str) -> SlackProfile | None:
        """Return the user's profile."""
        ...


_ROLE_NAMES = {Role.PARTNER: "partner", Role.MANAGER: "channel manager", Role.ADMIN: "admin"}


def require_role(person: Person, *roles: Role) -> None:
    """Raise MissingRole unless the person holds one of `roles`."""
    if person.role not in roles:
        wanted = " or ".join(_ROLE_NAMES.get(role, str(role)) for role in roles)
        raise MissingRole(f"Only a {wanted} can do that. Nothing was changed.")


async def _check_active(session: AsyncSession, person: Person) -> Person:
    if person.revoked_at is not None:
        raise RevokedPerson()
    if person.partner_id is not None:
        partner = await session.get(Partner, person.partner_id)
        if partner is None or not partner.active:
            raise RevokedPerson()
    return person


async def _known_slack_person(
    session: AsyncSession, user_id: str, team_id: str | None
) -> Person | None:
    """The active person linked to this Slack user, in one query; raise if revoked."""
    # Slack user ids are unique across workspaces (Slack Connect users keep theirs), so the
    # id alone identifies a person; the team id only settles the case of a duplicate.
    rows = (
        await session.exec(
            select(Person, Partner.active)
            .join(Partner, col(Person.partner_id) == col(Partner.id), isouter=True)
            .where(Person.slack_user_id == user_id)
        )
    ).all()
    if len(rows) > 1:
        rows = [row for row in rows if row[0].slack_team_id == team_id]
    if not rows:
        return None
    person, partner_active = rows[0]
    if person.revoked_at is not None or partner_active is False:
        raise RevokedPerson()
    return person


async def find_by_email(session: AsyncSession, email: str) -> Person | None:
    """Return the person whose primary email address this is, if any."""
    email = email.strip().lower()
    return (await session.exec(select(Person).where(Person.email == email))).first()


async def partner_for_email_domain(session: AsyncSession, email: str) -> Partner | None:
    """Return the active partner company that owns this email address's domain."""
    domain = email.rsplit("@", 1)[-1].strip().lower()
    row = await session.get(PartnerDomain, domain)
    if row is None:
        return None
    partner = await session.get(Partner, row.partner_id)
    return partner if partner is not None and partner.active else None


async def _link_or_provision(
    session: AsyncSession,
    profile: SlackProfile,
    team_id: str | None,
    home_teams: frozenset[str],
    now: datetime,
) -> Person:
    if profile.deleted or profile.is_bot or not profile.email:
        raise UnknownPerson()
    person = await find_by_email(session, profile.email)
    if person is not None:
        if person.role in PRIVILEGED and team_id not in home_teams:
            # Anyone can put a manager's address on a profile in a workspace of their own.
            log.warning("slack user %s from %s claims a manager's email", profile.user_id, team_id)
            raise UnknownPerson()
        if person.slack_user_id not in (None, profile.user_id):
            # The address already belongs to another Slack account: never re-point it.
            log.warning("slack user %s claims an email linked to another account", profile.user_id)
            raise UnknownPerson()
        await _check_active(session, person)
        before = {"slack_user_id": person.slack_user_id, "slack_team_id": person.slack_team_id}
        person.slack_user_id, person.slack_team_id = profile.user_id, team_id
        person.time_zone = profile.time_zone or person.time_zone
        person.updated_at = now
        session.add(person)
        await session.flush()
        await audit.record(
            session,
            actor=audit.Actor.person(person),
            channel=Channel.SLACK,
            action="person.slack_linked",
            subject_type="person",
            subject_id=person.id,
            before=before,
            after={"slack_user_id": profile.user_id, "slack_team_id": team_id},
            now=now,
        )
        return person
    partner = await partner_for_email_domain(session, profile.email)
    if partner is None:
        raise UnknownPerson()
    person = Person(
        name=profile.name or profile.email,
        email=profile.email.lower(),
        role=Role.PARTNER,
        partner_id=partner.id,
        slack_user_id=profile.user_id,
        slack_team_id=team_id,
        time_zone=profile.time_zone,
        created_at=now,
        updated_at=now,
    )
    session.add(person)
    await session.flush()
    await audit.record(
        session,
        actor=audit.Actor.person(person),
        channel=Channel.SLACK,
        action="person.provisioned_from_domain",
        subject_type="person",
        subject_id=person.id,
        after={"email": person.email, "partner": partner.name, "role": person.role},
        now=now,
    )
    return person


@dataclass(frozen=True)
class Attempt:
    """What someone tried that was refused: the listener, and the subject it named."""

    action: str
    subject_type: str
    subject_id: str
    detail: str = ""


async def record_refusal(
    db: Database,
    *,
    actor: audit.Actor,
    channel: Channel,
    attempt: Attempt,
    reason: AccessDenied,
    now: datetime,
) -> None:
    """Leave an `access.denied` audit event (who, what, why) in a transaction of its own, so
    it stays although the refused change was rolled back."""
    async with db.session() as session:
        await audit.record(
            session,
            actor=actor,
            channel=channel,
            action="access.denied",
            subject_type=attempt.subject_type[:32],
            subject_id=attempt.subject_id[:64],
            after={
                "attempted": attempt.action[:100],
                "why": type(reason).__name__,
                "message": reason.message[:300],
                "detail": attempt.detail[:300],
            },
            now=now,
        )
    log.warning(
        "refused %s: %s on %s:%s (%s)",
        actor.label,
        attempt.action,
        attempt.subject_type,
        attempt.subject_id,
        type(reason).__name__,
    )


async def identify_slack_user(
    db: Database,
    directory: SlackDirectory,
    *,
    user_id: str,
    team_id: str | None,
    home_teams: frozenset[str],
    now: datetime,
) -> Person:
    """Return the active person behind a Slack user, or raise AccessDenied. Checked every time.

    Unknown users are looked up in Slack's directory and matched by email to a known
    person, or to a partner company by email domain (which adds them as a partner user).
    Managers and admins are only ever recognised in the vendor's own workspaces
    (`home_teams`); partners may come from any (Slack Connect).
    """
    async with db.read() as session:
        person = await _known_slack_person(session, user_id, team_id)
    if person is not None:
        if person.role in PRIVILEGED and team_id not in home_teams:
            raise ForeignWorkspace()
        return person
    profile = await directory.profile(user_id)
    if profile is None:
        raise UnknownPerson()
    async with db.session() as session:
        # Another request may have linked this user while we asked Slack.
        person = await _known_slack_person(session, user_id, team_id)
        if person is not None and person.role in PRIVILEGED and team_id not in home_teams:
            raise ForeignWorkspace()
        return person or await _link_or_provision(
            session, profile, profile.team_id or team_id, home_teams, now
        )

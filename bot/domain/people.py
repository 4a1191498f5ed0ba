"""People in the program: add, revoke, restore and list, each change audited."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import audit
from bot.domain.access import find_by_email
from bot.errors import InvalidInput, NotFound
from store.models import Channel, Partner, Person, Role

_SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def clean_email(value: str) -> str:
    """The address, checked as an RFC 5322 address by a real parser (no display name, no
    quoted local part, a domain with a dot) and lowercased; else InvalidInput."""
    try:
        checked = validate_email(
            value.strip(), check_deliverability=False, allow_quoted_local=False
        )
    except EmailNotValidError:
        raise InvalidInput(f"not a valid email address ({value[:100]!r})", field="email") from None
    return checked.normalized.lower()


def clean_role(value: str) -> Role:
    """Return the Role, or raise InvalidInput listing the choices."""
    try:
        return Role(value.strip().lower())
    except ValueError:
        choices = "|".join(role.value for role in Role)
        raise InvalidInput(f"must be one of {choices} (got {value!r})", field="role") from None


def clean_slack_user_id(value: str | None) -> str | None:
    """Return a Slack user id (U…/W…), None when empty, or raise InvalidInput."""
    if value is None or not value.strip():
        return None
    user_id = value.strip()
    if not _SLACK_USER_ID.match(user_id):
        raise InvalidInput(
            f"not a Slack user id such as U012ABCDEF (got {value!r})", field="slack_user_id"
        )
    return user_id


def snapshot(person: Person) -> dict[str, object]:
    """The audited fields of a person."""
    return {
        "name": person.name,
        "email": person.email,
        "role": person.role,
        "partner_id": person.partner_id,
        "slack_user_id": person.slack_user_id,
        "revoked_at": person.revoked_at,
    }


async def _partner_by_name(session: AsyncSession, name: str) -> Partner:
    partner = (await session.exec(select(Partner).where(Partner.name == name))).first()
    if partner is None:
        raise NotFound(f"no partner company named {name!r} (import it first)")
    return partner


async def add_person(
    session: AsyncSession,
    *,
    actor: audit.Actor,
    name: str,
    email: str,
    role: str,
    now: datetime,
    partner_name: str | None = None,
    slack_user_id: str | None = None,
) -> Person:
    """Add a person, or update and restore the one with this email, at `now`; audited."""
    email, role_value = clean_email(email), clean_role(role)
    slack_user_id = clean_slack_user_id(slack_user_id)
    if not name.strip():
        raise InvalidInput("a name is required", field="name")
    if role_value is Role.PARTNER and not partner_name:
        raise InvalidInput("a partner user needs --partner", field="partner")
    if role_value is not Role.PARTNER and partner_name:
        raise InvalidInput("managers and admins belong to no partner company", field="partner")
    partner = await _partner_by_name(session, partner_name) if partner_name else None
    person = await find_by_email(session, email)
    before = snapshot(person) if person else None
    if person is None:
        person = Person(
            name=name.strip(), email=email, role=role_value, created_at=now, updated_at=now
        )
    person.name, person.role = name.strip(), role_value
    person.partner_id = partner.id if partner else None
    person.slack_user_id = slack_user_id or person.slack_user_id
    person.revoked_at, person.updated_at = None, now
    session.add(person)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        channel=Channel.CLI,
        action="person.added" if before is None else "person.updated",
        subject_type="person",
        subject_id=person.id,
        before=before,
        after=snapshot(person),
        now=now,
    )
    return person


async def revoke_person(
    session: AsyncSession, *, actor: audit.Actor, email: str, now: datetime
) -> Person:
    """Revoke a person's access from their very next request; audited."""
    person = await find_by_email(session, clean_email(email))
    if person is None:
        raise NotFound(f"nobody with the email {email!r}")
    if person.revoked_at is not None:
        return person
    before = snapshot(person)
    person.revoked_at = person.updated_at = now
    # Every reply address minted for them stops working; a new secret is made if they return.
    person.mail_secret = None
    session.add(person)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        channel=Channel.CLI,
        action="person.revoked",
        subject_type="person",
        subject_id=person.id,
        before=before,
        after=snapshot(person),
        now=now,
    )
    return person


@dataclass(frozen=True)
class PersonRow:
    """A person as listed by `partnerbot users list`."""

    id: int
    name: str
    email: str
    role: str
    partner: str | None
    slack_user_id: str | None
    revoked_at: datetime | None


async def list_people(session: AsyncSession, *, include_revoked: bool = True) -> list[PersonRow]:
    """Every person with their partner company's name, ordered by email."""
    query = (
        select(Person, Partner.name)
        .join(Partner, col(Person.partner_id) == col(Partner.id), isouter=True)
        .order_by(col(Person.email))
    )
    if not include_revoked:
        query = query.where(col(Person.revoked_at).is_(None))
    rows = (await session.exec(query)).all()
    return [
        PersonRow(
            id=person.id or 0,
            name=person.name,
            email=person.email,
            role=person.role,
            partner=partner_name,
            slack_user_id=person.slack_user_id,
            revoked_at=person.revoked_at,
        )
        for person, partner_name in rows
    ]

"""Managers teach the matcher: `Not the same customer` on a card that flagged a collision,
`Same customer` on one that did not. Each verdict is stored for the pair of customers (see
`registration.record_pair`: audited, honoured both ways by every later check), and the
registration on the card is tested again as of its submission, so the card shows the new
verdict at once."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.access import require_role
from bot.domain.registration import (
    CleanDeal,
    check_customer,
    decision_details,
    find_candidates,
    live_filter,
    record_pair,
)
from bot.errors import ForgedRequest, InvalidInput, NotFound
from matching.domains import NotADomain, registrable_domain
from store.models import Channel, CrmAccount, DealRegistration, Motion, Person, Role

RECORD_KINDS = ("registration", "account")
MAX_CHOICES = 100  # a static select holds at most 100 options (Block Kit)
TEACHABLE = ("pending", "info_requested")  # a decided registration keeps its verdict


@dataclass(frozen=True)
class Choice:
    """A record the manager may say is (or is not) the registration's customer."""

    kind: str  # registration|account
    record_id: int
    label: str

    @property
    def value(self) -> str:
        """The option value in a modal: `kind:id`."""
        return f"{self.kind}:{self.record_id}"


def parse_choice(value: object) -> tuple[str, int]:
    """`kind:id` from a modal option as we wrote it; anything else is a forgery."""
    kind, _, raw = str(value).partition(":")
    if kind not in RECORD_KINDS or not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise ForgedRequest()
    return kind, int(raw)


async def _teachable(session: AsyncSession, manager: Person, deal_id: int) -> DealRegistration:
    require_role(manager, Role.MANAGER, Role.ADMIN)
    deal = await session.get(DealRegistration, deal_id)
    if deal is None:
        raise NotFound("That registration no longer exists.")
    if deal.status not in TEACHABLE:
        raise InvalidInput(f"Registration #{deal_id} is already {deal.status}: its verdict stays.")
    return deal


def _clean(deal: DealRegistration) -> CleanDeal:
    values = {f.name: getattr(deal, f.name) for f in fields(CleanDeal)}
    return CleanDeal(**{**values, "motion": Motion(deal.motion)})


def matched(deal: DealRegistration) -> list[Choice]:
    """The records the registration's verdict names (those `Not the same customer` offers)."""
    found = []
    for match in (deal.conflict_details or {}).get("matches") or []:
        if match.get("kind") in RECORD_KINDS and isinstance(match.get("id"), int):
            found.append(Choice(match["kind"], match["id"], str(match.get("label") or "")))
    return found


async def similar_records(
    session: AsyncSession, *, manager: Person, deal_id: int, now: datetime
) -> list[Choice]:
    """Records the name index and the domain bring up for the registration's customer that
    the matcher did not take for it (those `Same customer` offers), registrations first."""
    deal = await _teachable(session, manager, deal_id)
    found = await find_candidates(
        session,
        normalized_domain=deal.normalized_domain,
        normalized_company=deal.normalized_company,
        key=deal.company_key,
        now=now,
    )
    taken = {(c.kind, c.record_id) for c in matched(deal)}
    choices = [
        Choice("registration", r.id, f"{r.customer_company} ({r.partner_name}, {r.status})")
        for r in found.registrations
        if r.id < (deal.id or 0)
    ] + [
        Choice("account", a.id, f"{a.name} ({a.domain or 'no domain'}, CRM account)")
        for a in found.accounts
    ]
    return [c for c in choices if (c.kind, c.record_id) not in taken][:MAX_CHOICES]


async def typed_record(
    session: AsyncSession, typed: str, *, deal_id: int, now: datetime, field: str
) -> tuple[str, int]:
    """The record a manager named by hand: a registration number (`#12`) or the domain of a
    CRM account or live registration; InvalidInput (on `field`) when there is none."""
    text = typed.strip()
    number = text.removeprefix("#")
    if number.isascii() and number.isdigit() and len(number) <= 18:
        other = await session.get(DealRegistration, int(number))
        if other is None or other.id == deal_id:
            raise InvalidInput(f"There is no other registration #{number}.", field=field)
        return "registration", other.id or 0
    try:
        domain = registrable_domain(text)
    except NotADomain as exc:
        raise InvalidInput(
            f"{exc} Enter a registration number such as #12, or a domain.", field=field
        ) from None
    account = await session.exec(select(CrmAccount.id).where(CrmAccount.domain == domain))
    if (found := account.first()) is not None:
        return "account", found
    query = (
        select(DealRegistration.id)
        .where(DealRegistration.normalized_domain == domain, live_filter(now))
        .where(col(DealRegistration.id) != deal_id)
        .order_by(col(DealRegistration.id))
    )
    if (found := (await session.exec(query)).first()) is not None:
        return "registration", found
    raise InvalidInput(f"No CRM account or live registration has the domain {domain}.", field=field)


async def teach(
    session: AsyncSession,
    *,
    manager: Person,
    deal_id: int,
    records: list[tuple[str, int]],
    same: bool,
    now: datetime,
    channel: Channel = Channel.SLACK,
) -> DealRegistration:
    """Store the manager's verdict on each record against the registration's customer, then
    test the registration again; returns it with its new verdict, rule and matches."""
    deal = await _teachable(session, manager, deal_id)
    if not records:
        raise InvalidInput("Pick at least one record.", field="records")
    for kind, record_id in dict.fromkeys(records):
        await record_pair(
            session,
            deal_id=deal_id,
            kind=kind,
            record_id=record_id,
            same=same,
            manager=manager,
            now=now,
            channel=channel,
        )
    decision = await check_customer(
        session,
        partner_id=deal.partner_id,
        clean=_clean(deal),
        now=now,
        registered_before=deal.id,
    )
    deal.conflict_verdict = decision.verdict
    deal.conflict_rule = decision.rule
    deal.conflict_details = decision_details(decision)
    deal.last_activity_at = now
    session.add(deal)
    await session.flush()
    return deal

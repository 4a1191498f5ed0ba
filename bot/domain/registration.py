"""Registering a deal: validate the form, test the customer's uniqueness, record the claim."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import and_, case, or_, text, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import audit
from bot.domain.access import require_role
from bot.domain.conflicts import (
    Claim,
    Decision,
    LiveRegistration,
    MirroredAccount,
    Verdict,
    company_key,
    decide,
    normalize_company,
    registrable_domain,
)
from bot.domain.people import clean_email
from bot.errors import InvalidInput, UserFacingError
from bot.settings import Settings
from store.models import (
    Certification,
    Channel,
    CrmAccount,
    DealRegistration,
    DealStatus,
    Motion,
    Partner,
    Person,
    Role,
    Tier,
    TrainingModule,
)

log = logging.getLogger(__name__)

CURRENCIES = (
    "USD",
    "EUR",
    "GBP",
    "CHF",
    "CAD",
    "AUD",
    "JPY",
    "SEK",
    "NOK",
    "DKK",
    "PLN",
    "INR",
    "BRL",
    "SGD",
)
MAX_CLOSE_DAYS = 2 * 366
MAX_CANDIDATES = 200
LIVE_STATUSES = (DealStatus.PENDING, DealStatus.INFO_REQUESTED)


@dataclass(frozen=True)
class DealForm:
    """The registration form as the partner filled it in (raw values)."""

    customer_company: str
    customer_domain: str
    contact_name: str
    contact_email: str
    estimated_value: str
    currency: str
    expected_close_date: str  # YYYY-MM-DD
    products: list[str]
    motion: str
    notes: str = ""


class FormErrors(UserFacingError):
    """Validation failed; `errors` maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class CleanDeal:
    """A validated form, with the customer's normalised identity."""

    customer_company: str
    customer_domain: str
    normalized_domain: str
    normalized_company: str
    company_key: str
    contact_name: str
    contact_email: str
    estimated_value: Decimal
    currency: str
    expected_close_date: date
    products: list[str]
    motion: Motion
    notes: str


def _value(raw: str) -> Decimal:
    cleaned = raw.strip().replace(",", "").replace(" ", "").replace("_", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise InvalidInput("Enter a number, such as 25000.") from None
    if not value.is_finite() or value <= 0:
        raise InvalidInput("Enter a positive amount.")
    if value >= Decimal("1e14"):
        raise InvalidInput("That amount is too large.")
    return value.quantize(Decimal("0.01"))


def _close_date(raw: str, today: date) -> date:
    try:
        close = date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput("Pick the expected close date.") from None
    if close < today:
        raise InvalidInput("The expected close date is in the past.")
    if close > today + timedelta(days=MAX_CLOSE_DAYS):
        raise InvalidInput("The expected close date is more than 2 years away.")
    return close


def validate_form(form: DealForm, *, offered_products: list[str], today: date) -> CleanDeal:
    """Check every field; raise FormErrors naming each bad one, or return the clean deal."""
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}

    def check(name: str, make: Any) -> None:
        try:
            cleaned[name] = make()
        except InvalidInput as exc:
            errors[name] = exc.message

    def required(name: str, label: str, limit: int = 200) -> str:
        value = str(getattr(form, name)).strip()
        if not value:
            raise InvalidInput(f"Enter the {label}.")
        if len(value) > limit:
            raise InvalidInput(f"Keep it under {limit} characters.")
        return value

    check("customer_company", lambda: required("customer_company", "customer's company name"))
    check("customer_domain", lambda: registrable_domain(form.customer_domain))
    check("contact_name", lambda: required("contact_name", "contact's name"))
    check("contact_email", lambda: clean_email(form.contact_email))
    check("estimated_value", lambda: _value(form.estimated_value))
    check("expected_close_date", lambda: _close_date(form.expected_close_date, today))
    if form.currency not in CURRENCIES:
        errors["currency"] = "Pick a currency."
    if form.motion not in {m.value for m in Motion}:
        errors["motion"] = "Pick resale, referral or co-sell."
    products = [p.strip() for p in form.products if p.strip()]
    if not products:
        errors["products"] = "Pick at least one product."
    elif offered_products and (unknown := [p for p in products if p not in offered_products]):
        errors["products"] = f"Not in the program's product list: {', '.join(unknown)}."
    if len(form.notes) > 3000:
        errors["notes"] = "Keep the notes under 3,000 characters."
    if "contact_email" in errors:
        errors["contact_email"] = "Enter a valid email address, such as jane@acme.com."
    if errors:
        raise FormErrors(errors)
    normalized = normalize_company(cleaned["customer_company"])
    return CleanDeal(
        customer_company=cleaned["customer_company"],
        customer_domain=form.customer_domain.strip(),
        normalized_domain=cleaned["customer_domain"],
        normalized_company=normalized,
        company_key=company_key(normalized),
        contact_name=cleaned["contact_name"],
        contact_email=cleaned["contact_email"],
        estimated_value=cleaned["estimated_value"],
        currency=form.currency,
        expected_close_date=cleaned["expected_close_date"],
        products=products,
        motion=Motion(form.motion),
        notes=form.notes.strip(),
    )


# --- Certifications -------------------------------------------------------------------


async def _valid_certifications(
    session: AsyncSession, partner_ids: set[int], now: datetime
) -> dict[int, set[str]]:
    rows = await session.exec(
        select(Certification.partner_id, Certification.name).where(
            col(Certification.partner_id).in_(partner_ids),
            col(Certification.expires_at) > now,
            col(Certification.revoked_at).is_(None),
        )
    )
    held: dict[int, set[str]] = {pid: set() for pid in partner_ids}
    for partner_id, name in rows:
        if partner_id is not None:
            held[partner_id].add(name)
    return held


async def _certifications_for(session: AsyncSession, products: list[str]) -> dict[str, set[str]]:
    """Which certifications grant the right to sell each product (from the training catalogue)."""
    modules = (
        await session.exec(
            select(TrainingModule).where(col(TrainingModule.certification).is_not(None))
        )
    ).all()
    needed: dict[str, set[str]] = {}
    for module in modules:
        for product in set(module.products) & set(products):
            needed.setdefault(product, set()).add(str(module.certification))
    return needed


async def missing_certifications(
    session: AsyncSession, partner: Partner, products: list[str], now: datetime
) -> dict[str, str]:
    """Products the partner may not register because its tier requires a certification it lacks."""
    tier = await session.get(Tier, partner.tier) if partner.tier else None
    if tier is None or not tier.certification_required:
        return {}
    needed = await _certifications_for(session, products)
    held = (await _valid_certifications(session, {partner.id or 0}, now))[partner.id or 0]
    return {p: " or ".join(sorted(certs)) for p, certs in needed.items() if not certs & held}


# --- Candidates and the decision --------------------------------------------------------


async def _lock_customer(session: AsyncSession, clean: CleanDeal) -> None:
    """Serialise registrations of one customer so two at the same instant cannot both be clear."""
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite write transactions are already serialised (BEGIN IMMEDIATE)
    keys = sorted({f"domain:{clean.normalized_domain}", f"name:{clean.company_key}"})
    for key in keys:
        lock_id = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
        await session.exec(text("SELECT pg_advisory_xact_lock(:id)").bindparams(id=lock_id))  # type: ignore[call-overload]


def live_filter(now: datetime) -> Any:
    """Registrations that hold (or may soon hold) their customer."""
    return or_(
        col(DealRegistration.status).in_(LIVE_STATUSES),
        and_(
            col(DealRegistration.status) == DealStatus.APPROVED,
            col(DealRegistration.protection_expires_at) > now,
        ),
    )


async def find_candidates(
    session: AsyncSession,
    *,
    normalized_domain: str,
    normalized_company: str,
    key: str,
    now: datetime,
) -> tuple[list[LiveRegistration], list[MirroredAccount]]:
    """Live registrations and mirrored accounts that may be this customer, found by index.

    One query per table: same domain, same normalised name, or same blocking key, the exact
    matches first so the cap of MAX_CANDIDATES never hides one.
    """
    deal, account = DealRegistration, CrmAccount
    deal_exact = or_(
        col(deal.normalized_domain) == normalized_domain,
        col(deal.normalized_company) == normalized_company,
    )
    deal_rows = await session.exec(
        select(  # type: ignore[call-overload]
            deal.id,
            deal.partner_id,
            Partner.name,
            deal.customer_company,
            deal.normalized_domain,
            deal.normalized_company,
            deal.status,
            deal.submitted_at,
        )
        .join(Partner, col(deal.partner_id) == col(Partner.id))
        .where(or_(deal_exact, col(deal.company_key) == key), live_filter(now))
        .order_by(case((deal_exact, 0), else_=1))
        .limit(MAX_CANDIDATES)
    )
    account_exact = or_(
        col(account.domain) == normalized_domain, col(account.normalized_name) == normalized_company
    )
    account_rows = await session.exec(
        select(  # type: ignore[call-overload]
            account.id,
            account.name,
            account.normalized_name,
            account.domain,
            account.owner_kind,
            account.incumbent_partner_id,
            Partner.name,
        )
        .join(Partner, col(account.incumbent_partner_id) == col(Partner.id), isouter=True)
        .where(or_(account_exact, col(account.company_key) == key))
        .order_by(case((account_exact, 0), else_=1))
        .limit(MAX_CANDIDATES)
    )
    registrations = [LiveRegistration(*row) for row in deal_rows]
    accounts = [MirroredAccount(*row) for row in account_rows]
    return registrations, accounts


async def check_customer(
    session: AsyncSession,
    *,
    partner_id: int,
    clean: CleanDeal,
    now: datetime,
    certifications: dict[str, set[str]] | None = None,
) -> Decision:
    """The uniqueness test for a partner's claim on a customer, with certification tie-breaks."""
    registrations, accounts = await find_candidates(
        session,
        normalized_domain=clean.normalized_domain,
        normalized_company=clean.normalized_company,
        key=clean.company_key,
        now=now,
    )
    needed = (
        certifications
        if certifications is not None
        else await _certifications_for(session, clean.products)
    )
    wanted = set().union(*needed.values()) if needed else set()
    partners = {partner_id} | {r.partner_id for r in registrations}
    # Without a certification for these products there is no tie to break by it.
    held = (
        await _valid_certifications(session, partners, now)
        if wanted
        else {partner: set() for partner in partners}
    )
    registrations = [
        LiveRegistration(**{**r.__dict__, "certified": bool(held[r.partner_id] & wanted)})
        for r in registrations
    ]
    claim = Claim(
        partner_id,
        clean.normalized_domain,
        clean.normalized_company,
        certified=bool(held[partner_id] & wanted),
    )
    return decide(claim, registrations, accounts)


@dataclass(frozen=True)
class Registration:
    """The outcome of a submission: the stored registration and the uniqueness verdict."""

    deal: DealRegistration
    decision: Decision | None
    created: bool
    partner: Partner

    @property
    def clear(self) -> bool:
        """True when the partner may be told the customer is free."""
        return self.deal.conflict_verdict == Verdict.CLEAR


def _decision_details(decision: Decision) -> dict[str, Any]:
    return {
        "favours": decision.favours,
        "explanation": decision.explanation,
        "matches": [
            {
                "kind": m.kind,
                "id": m.record_id,
                "label": m.label,
                "strength": m.strength,
                "reason": m.reason,
            }
            for m in decision.matches[:20]
        ],
    }


async def record_card(session: AsyncSession, deal_id: int, channel: str, ts: str) -> None:
    """Remember where a registration's approval card was posted (to update and thread on it)."""
    await session.exec(
        update(DealRegistration)
        .where(col(DealRegistration.id) == deal_id)
        .values(slack_card_channel=channel, slack_card_ts=ts)
    )


async def _by_idempotency_key(session: AsyncSession, key: str) -> DealRegistration | None:
    query = select(DealRegistration).where(DealRegistration.idempotency_key == key)
    return (await session.exec(query)).first()


@dataclass(frozen=True)
class Submission:
    """A validated registration, ready to be tested and recorded."""

    person: Person
    partner: Partner
    clean: CleanDeal
    certifications: dict[str, set[str]]  # product -> certifications that grant it


async def prepare_registration(
    session: AsyncSession, *, person: Person, form: DealForm, settings: Settings, now: datetime
) -> Submission:
    """Check who submits and what (reads only: may run outside the write transaction)."""
    require_role(person, Role.PARTNER)
    partner = await session.get(Partner, person.partner_id) if person.partner_id else None
    if partner is None:
        raise InvalidInput("Your account is not linked to a partner company.")
    clean = validate_form(form, offered_products=settings.products, today=now.date())
    missing = await missing_certifications(session, partner, clean.products, now)
    if missing:
        reasons = [
            f"Your company needs the {cert} certification to register {product}."
            for product, cert in missing.items()
        ]
        raise FormErrors({"products": " ".join(reasons)})
    certifications = await _certifications_for(session, clean.products)
    return Submission(person, partner, clean, certifications)


async def register_deal(
    session: AsyncSession,
    *,
    person: Person,
    form: DealForm,
    idempotency_key: str,
    settings: Settings,
    now: datetime,
    channel: Channel = Channel.SLACK,
) -> Registration:
    """Validate, test uniqueness and record a partner's registration (once per idempotency key)."""
    submission = await prepare_registration(
        session, person=person, form=form, settings=settings, now=now
    )
    return await record_registration(
        session,
        submission,
        idempotency_key=idempotency_key,
        settings=settings,
        now=now,
        channel=channel,
    )


async def record_registration(
    session: AsyncSession,
    submission: Submission,
    *,
    idempotency_key: str,
    settings: Settings,
    now: datetime,
    channel: Channel = Channel.SLACK,
) -> Registration:
    """Test the customer's uniqueness and store the claim; runs serialised per customer."""
    person, partner, clean = submission.person, submission.partner, submission.clean
    await _lock_customer(session, clean)
    # A retried submission (Slack resends a view it got no answer for) is answered, not redone.
    if (existing := await _by_idempotency_key(session, idempotency_key)) is not None:
        return Registration(existing, None, created=False, partner=partner)
    decision = await check_customer(
        session,
        partner_id=partner.id or 0,
        clean=clean,
        now=now,
        certifications=submission.certifications,
    )
    deal = DealRegistration(
        partner_id=partner.id or 0,
        registered_by_id=person.id or 0,
        customer_company=clean.customer_company,
        customer_domain=clean.customer_domain,
        normalized_domain=clean.normalized_domain,
        normalized_company=clean.normalized_company,
        company_key=clean.company_key,
        contact_name=clean.contact_name,
        contact_email=clean.contact_email,
        estimated_value=clean.estimated_value,
        currency=clean.currency,
        expected_close_date=clean.expected_close_date,
        products=clean.products,
        motion=clean.motion,
        notes=clean.notes,
        status=DealStatus.PENDING,
        conflict_verdict=decision.verdict,
        conflict_rule=decision.rule,
        conflict_details=_decision_details(decision),
        submitted_at=now,
        sla_due_at=now + timedelta(hours=settings.approval_sla_hours),
        last_activity_at=now,
        idempotency_key=idempotency_key,
    )
    session.add(deal)
    await session.flush()
    await audit.record(
        session,
        actor=audit.Actor.person(person),
        channel=channel,
        action="deal.registered",
        subject_type="deal",
        subject_id=deal.id,
        after={
            "customer": deal.customer_company,
            "domain": deal.normalized_domain,
            "partner": partner.name,
            "verdict": decision.verdict,
            "rule": decision.rule,
        },
        now=now,
    )
    log.info(
        "deal %s registered by partner %s: %s (%s)",
        deal.id,
        partner.id,
        decision.verdict,
        decision.rule,
    )
    return Registration(deal, decision, created=True, partner=partner)

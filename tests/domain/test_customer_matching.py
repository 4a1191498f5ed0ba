"""Customer matching (issue #16), pure rules: names, domains, distinctive words, reasons."""

# Names in Cyrillic and Turkish on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import pytest

from bot.domain.conflicts import (
    Claim,
    LiveRegistration,
    Rule,
    Strength,
    Verdict,
    decide,
    normalize_company,
    registrable_domain,
)
from matching.blocking import lookup_words, probes
from matching.names import company_key, customer_key, name_tokens
from matching.similarity import Weights, compare
from tests.domain.test_conflicts import T0

# A large store: "vornakel" in 3 names of a million, "logistics" in 20,000.
BIG_STORE = Weights(1_000_000, {"vornakel": 3, "logistics": 20_000, "analytics": 15_000})


@pytest.mark.parametrize(
    ("name", "normalized"),
    [
        ("Vornakel GmbH", "vornakel"),  # Germany
        ("Vornakel Gesellschaft mit beschränkter Haftung", "vornakel"),
        ("Vornakel GmbH & Co. KG", "vornakel"),
        ("Vornakel UG (haftungsbeschränkt)", "vornakel"),
        ("Vornakel Ges.m.b.H.", "vornakel"),  # Austria
        ("Vornakel AG", "vornakel"),  # Switzerland
        ("Vornakel AB (publ)", "vornakel"),  # Sweden
        ("Vornakel Aktiebolag", "vornakel"),
        ("Vornakel Oy", "vornakel"),  # Finland
        ("Vornakel ApS", "vornakel"),  # Denmark
        ("Vornakel A/S", "vornakel"),
        ("Vornakel ehf.", "vornakel"),  # Iceland
        ("Vornakel S.p.A.", "vornakel"),  # Italy
        ("Vornakel Società a responsabilità limitata", "vornakel"),
        ("Vornakel S.A.S.", "vornakel"),  # France
        ("Vornakel Société par actions simplifiée", "vornakel"),
        ("Vornakel S.à r.l.", "vornakel"),  # Luxembourg
        ("Vornakel B.V.", "vornakel"),  # Netherlands
        ("Vornakel S.L.U.", "vornakel"),  # Spain
        ("Vornakel S.A. de C.V.", "vornakel"),  # Mexico
        ("Vornakel Ltda.", "vornakel"),  # Brazil
        ("Vornakel Sp. z o.o.", "vornakel"),  # Poland
        ("Vornakel s.r.o.", "vornakel"),  # Czechia
        ("Vornakel Kft.", "vornakel"),  # Hungary
        ("Vornakel d.o.o.", "vornakel"),  # Slovenia, Croatia, Serbia
        ("Vornakel A.Ş.", "vornakel"),  # Turkey
        ("Vornakel Ltd. Şti.", "vornakel"),
        ("Vornakel Pty Ltd", "vornakel"),  # Australia
        ("Vornakel (Pty) Ltd", "vornakel"),  # South Africa
        ("Vornakel Pte. Ltd.", "vornakel"),  # Singapore
        ("Vornakel Sdn. Bhd.", "vornakel"),  # Malaysia
        ("Vornakel Pvt. Ltd.", "vornakel"),  # India
        ("Vornakel Co., Ltd.", "vornakel"),  # Japan, Korea, China, Thailand
        ("Vornakel K.K.", "vornakel"),
        ("Kabushiki Kaisha Vornakel", "vornakel"),
        ("Vornakel 株式会社", "vornakel"),
        ("OOO Vornakel", "vornakel"),  # Russia: the form leads
        ('SIA "Vornakel"', "vornakel"),  # Latvia
        ("UAB Vornakel", "vornakel"),  # Lithuania
        ("PT Vornakel Tbk", "vornakel"),  # Indonesia
        ('LLC "Vornakel"', "vornakel"),  # an English form written where OOO would be
        ("Vornakel Limited Liabiliyy Partnership", "vornakel"),  # a slip in a written-out form
        ("Vornakel Incorpofated", "vornakel"),
        ("The Vornakel Group", "vornakel group"),
        ("Vornakel Group, The", "vornakel group"),
        ("A.B.C. Plumbing", "abc plumbing"),
        ("AT&T", "att"),
        ("O'Halloran & Sons", "ohalloran and sons"),
        ("O\u2019Halloran & Sons", "ohalloran and sons"),
        ("AB", "ab"),  # nothing but a legal form: kept, there is nothing else
    ],
)
def test_legal_forms_of_every_country_are_dropped_and_the_distinctive_part_kept(
    name: str, normalized: str
) -> None:
    assert normalize_company(name) == normalized


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Müller Maschinenbau GmbH", "Mueller Maschinenbau"),
        ("Müller Maschinenbau", "Muller Maschinenbau"),
        ("Weiß Logistik", "Weiss Logistik"),
        ("Søndergaard Rådgivning", "Soendergaard Raadgivning"),
        ("Bodø Maskin AS", "Bodo Maskin AS"),
        ("Peñalverde Consultores", "Penalverde Consultores"),
        ("Łódź Budownictwo", "Lodz Budownictwo"),
        ("Þórsson Verk", "Thorsson Verk"),
        ("Gökçeli Instruments", "Gokceli Instruments"),
        ("ООО «Ладомир»", "Ladomir LLC"),
        ("ТОВ «Галичбуд»", "Halychbud LLC"),  # Ukrainian, told by its legal form
        ("Љубичевац д.о.о.", "Ljubičevac d.o.o."),  # Serbian Cyrillic in Serbian Latin
        ("Đurđević Transport", "Djurdjevic Transport"),
    ],
)
def test_transliterations_are_the_same_name(a: str, b: str) -> None:
    match = compare(name_tokens(normalize_company(a)), name_tokens(normalize_company(b)), Weights())
    assert match.agree and match.score == 1.0


def test_spacing_and_compounds_do_not_matter() -> None:
    assert company_key(normalize_company("Quill-Feather Dental")) == company_key(
        normalize_company("Quillfeather Dental")
    )
    match = compare(["quill", "feather", "dental"], ["quillfeather", "dental", "group"], Weights())
    assert match.agree


@pytest.mark.parametrize(
    ("raw", "domain"),
    [
        ("müller.de", "xn--mller-kva.de"),
        ("xn--mller-kva.de", "xn--mller-kva.de"),
        ("https://www.MÜLLER.de/impressum", "xn--mller-kva.de"),
        ("straße.de", "xn--strae-oqa.de"),  # IDNA 2008: ß is a letter of its own, not "ss"
        ("XN--STRAE-OQA.DE", "xn--strae-oqa.de"),
        ("sales+emea@shop.acme.co.uk", "acme.co.uk"),
        ("info@çakır-lojistik.com.tr", "xn--akr-lojistik-jdb25h.com.tr"),
    ],
)
def test_internationalised_domains_equal_their_punycode(raw: str, domain: str) -> None:
    assert registrable_domain(raw) == domain


def claim(company: str, domain: str, partner: int = 1) -> Claim:
    return Claim(partner, registrable_domain(domain), normalize_company(company), company=company)


def registration(company: str, domain: str, id: int = 10) -> LiveRegistration:
    return LiveRegistration(
        id, 2, "Partner 2", company, registrable_domain(domain), normalize_company(company),
        "approved", T0,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("mine", "theirs"),
    [
        (("Vellumclfif Pharma Ltd", "vellumcliff-pharma.co.nz"), ("Vellumcliff Pharma", "vp.nz")),
        (("Opsreykettle Components", "ospreykettle.ie"), ("Ospreykettle Components", "ok.ie")),
        (("Quiby Insurance", "quimby-online.example"), ("Quimby Insurance", "quimby.example")),
        (("Mueller Maschinenbau", "mueller-mb.de"), ("Müller Maschinenbau GmbH", "mm-gmbh.at")),
        (("Vornakel Inc.", "vornakel.com"), ("Vornakel GmbH", "vornakel.de")),
    ],
)
def test_the_same_customer_is_found_by_name_whatever_its_domain(
    mine: tuple[str, str], theirs: tuple[str, str]
) -> None:
    decision = decide(claim(*mine), [registration(*theirs)], [])
    assert (decision.verdict, decision.rule) == (Verdict.CONFLICT, Rule.FIRST_REGISTRATION_WINS)
    assert decision.matches[0].strength is Strength.SAME


@pytest.mark.parametrize(
    ("mine", "theirs"),
    [
        ("Global Logistics Partners", "Global Health Systems"),
        ("United Capital Group", "United Dental Care"),
        ("Summit Capital", "Summit Healthcare Group"),
        ("First National Bank of Omaha", "First National Bank of Texas"),
        ("Meridian Health Partners", "Meridian Capital"),
        ("Pinnacle Freight Systems", "Pinnacle Dental Studio"),
        ("Cedar Ridge Dental", "Cedar Creek Dental"),
        ("Acme Systems", "Zenith Systems"),
        ("Baker & Pemberton LLP", "Baker & Ashworth LLP"),
    ],
)
def test_companies_that_share_only_common_words_are_not_flagged(mine: str, theirs: str) -> None:
    mine_domain = company_key(normalize_company(mine)) + ".example"
    theirs_domain = company_key(normalize_company(theirs)) + ".example"
    decision = decide(claim(mine, mine_domain), [registration(theirs, theirs_domain)], [])
    assert (decision.verdict, decision.matches) == (Verdict.CLEAR, [])


def test_a_rare_shared_word_with_other_descriptors_goes_to_review_in_a_large_store() -> None:
    mine = claim("Vornakel Analytics", "vornakel-analytics.com")
    theirs = [registration("Vornakel Logistics", "vornakel-logistics.com")]
    assert decide(mine, theirs, []).verdict is Verdict.CLEAR  # a small store cannot tell
    decision = decide(mine, theirs, [], weights=BIG_STORE)
    assert (decision.verdict, decision.rule) == (Verdict.REVIEW, Rule.POSSIBLE_MATCH)
    assert decision.matches[0].strength is Strength.SIMILAR
    assert 'shares the rare word "vornakel"' in decision.matches[0].reason


def test_an_acronym_matches_only_on_the_same_domain() -> None:
    other_domain = decide(
        claim("IBM", "ibm-partners.example"),
        [registration("International Business Machines Corporation", "ibm.com")],
        [],
    )
    assert other_domain.verdict is Verdict.CLEAR
    same_domain = decide(
        claim("IBM", "https://www.ibm.com/"),
        [registration("International Business Machines Corporation", "ibm.com")],
        [],
    )
    assert same_domain.verdict is Verdict.CONFLICT
    assert same_domain.matches[0].reason == (
        "same registrable domain ibm.com (one name is the other's initials)"
    )


def test_the_reason_names_both_spellings_and_the_score() -> None:
    decision = decide(
        claim("Müller Maschinenbau", "mueller-maschinenbau.de"),
        [registration("Mueller Maschinenbau", "mm.example")],
        [],
    )
    assert decision.matches[0].reason == (
        'name "Müller Maschinenbau" ≈ "Mueller Maschinenbau", 1.00 on the distinctive words'
    )
    assert (decision.matches[0].kind, decision.matches[0].record_id) == ("registration", 10)


def test_a_managers_verdict_overrides_the_matcher_both_ways() -> None:
    mine = claim("Vornakel Inc.", "vornakel.com")
    theirs = registration("Vornakel GmbH", "vornakel.de")
    other = customer_key(theirs.normalized_domain, theirs.normalized_company)
    assert decide(mine, [theirs], [], verdicts={other: False}).verdict is Verdict.CLEAR
    unlike = registration("Brambleworth Foods", "brambleworth.example")
    marked = customer_key(unlike.normalized_domain, unlike.normalized_company)
    decision = decide(mine, [unlike], [], verdicts={marked: True})
    assert decision.verdict is Verdict.CONFLICT
    assert decision.matches[0].reason == "a manager marked them the same customer"


def test_a_typo_in_the_first_word_is_looked_up_by_its_deletions() -> None:
    words, slips = probes(["vellumclfif", "pharma"])
    assert "vellumclif" in slips  # a deletion it shares with the stored "vellumcliff"
    assert "pharma" in words
    known = {"vellumcliff": 1, "pharma": 400, "": 1000}
    assert lookup_words(["vellumclfif", "pharma"], known, 200) == ["vellumcliff"]

"""A labelled benchmark of company pairs for the customer matcher: same customer or not.

    python bench/matching_pairs.py

(Re)writes `bench/data/matching_pairs.csv` (UTF-8, written with the csv module, `\\n` line
ends) and prints the number of pairs per kind. Python 3.11 standard library only; every choice
comes from one `random.Random(SEED)`, so a run rewrites the file byte for byte. Columns:
`name_a,domain_a,name_b,domain_b,same,kind`; `same` is 1 when both rows are the same customer
and 0 when they are different companies. Sides a and b are swapped at random and the rows are
shuffled, so neither the side nor the position says anything.

What the set draws on (all word lists are written into this file, nothing is fetched):

- Entity legal forms of 56 jurisdictions (148 forms), transcribed by hand from the abbreviations and names
  in the ISO 20275 Entity Legal Forms (ELF) code list (the codes themselves are not used):
  the usual abbreviation, the other ways it is written (`G.m.b.H.`, `SpA`, `Sp. z o. o.`),
  the form written out in the local language (`Gesellschaft mit beschränkter Haftung`,
  `Kabushiki Kaisha`, `Obshchestvo s ogranichennoy otvetstvennostyu`), whether it is written
  before the name (PT, OOO, SIA, UAB, TOV) and the English equivalent people use instead
  (OOO -> LLC, K.K. -> Co., Ltd.). Each jurisdiction has its country-code TLD(s).
- Common English business words: ~120 "leading" words that many unrelated companies start
  with (Global, United, Summit, First, Pinnacle, Meridian, Apex, North, ...) and 17 two-word
  ones (North American, Great Lakes, ...), 175 industry phrases in 27 sectors (Dental Group,
  Freight Systems, Capital Partners, Oil & Gas, ...), generic tails (Group, Holdings,
  Solutions, ...), 59 well-known city names, US states and towns, landscape words (Ridge,
  Creek, Harbor, ...) and the 25 commonest US surnames. Local descriptors in 22 languages
  (Maschinenbau, Ingénierie, Logística, Rådgivning, İnşaat, Seisakusho, ...).
- Distinctive name stems, so the set is not biased to a few famous names:
  * invented: pronounceable words of 7-11 letters built from syllables by this script
    (Talroton, Velmirin-like) and compounds of two rare English words (Quillfeather,
    Brambleworth); ~60 % of the distinctive names used (the run prints the share);
  * public-domain lists: less common US surnames (US Census surname list), US place and
    river names (USGS GNIS), and surnames and places of 18 languages written with their diacritics
    (Müller, Søndergaard, Dvořák, Yılmaz, Łódź, Jönköping, ...), plus invented ones with
    diacritics (Grünwaldt, Brønnvika) and invented Russian, Ukrainian, Bulgarian and Serbian
    names written in Cyrillic.
- Real companies appear only in `acronym_same_domain` (IBM / ibm.com and 37 more, each with
  its own real domain on both sides). Invented acronyms skip a list of famous ones.

Domains: a stem invented by this script gets a realistic TLD (`.com`, `.io`, a country-code
TLD such as `.de`, `.co.uk`, `.com.br`); any other name (a surname, a place or common words,
which could be a real company's) gets the reserved `.example` TLD (RFC 2606). Internationalised
domains are encoded as IDNA 2008 A-labels (`xn--` + Punycode of the lower-case label, so ß
stays ß: `straße` is `xn--strae-oqa`, not `strasse`).

Systematic variants (kinds with same = 1):

- `legal_form`: a legal form dropped, written out, written another way (`S.p.A.`/`SpA`,
  comma or not before `Inc.`), replaced by its English equivalent (`OOO Ladomir` vs
  `Ladomir LLC`), changed to another form of the same country (GmbH -> AG, UG -> GmbH,
  Belgian BVBA -> BV since 2019; only with the same registrable domain), or the same name
  with another country's form and TLD (`Vornakel Inc.` vornakel.com vs `Vornakel GmbH`
  vornakel.de, invented stems only).
- `transliteration`: diacritics as people type them without: German ä/ö/ü as ae/oe/ue or
  a/o/u and ß as ss; Danish/Norwegian ø as oe or o, å as aa or a, æ as ae; Swedish/Finnish
  ä/ö/å dropped; Icelandic þ as th, ð as d; French, Spanish, Portuguese, Polish, Czech,
  Slovak, Hungarian, Romanian, Croatian, Slovenian, Turkish marks dropped (é, ñ, ã, ç, ł, ř,
  ő, ș, ı, ğ, ...); Russian, Ukrainian, Bulgarian and Serbian names in Cyrillic vs their
  usual Latin transliteration (ООО «Ладомир» vs OOO "Ladomir" / Ladomir LLC).
- `typo_first_word` / `typo_other_word`: one insertion, deletion, keyboard-neighbour
  substitution or transposition in a word of at least 5 letters (the first word, which is
  the distinctive stem, its first letter in ~10 % of cases; or a later word: a descriptor or
  a written-out legal form); a typo that spells another known word or stem is discarded.
- `ampersand_the_punct`: & vs and / + ; a leading "The" (and "Vornakel Group, The");
  initials with and without dots (A.B.C. / ABC, J.R. / JR); hyphen, space or nothing inside
  a compound (Quill-Feather / Quill Feather / Quillfeather); upper/lower case; commas and
  periods; apostrophes (O'Halloran / OHalloran / O’Halloran); doubled or trailing spaces.
- `word_order`: a descriptor before or after the name where both are used (Hotel Vornakel /
  Vornakel Hotel, Bank of X / X Bank); always with the same registrable domain.
- `tld_variant`: the same name on another country's TLD (vornakel.de vs vornakel.fr).
- `domain_form`: one registrable domain written as an email, URL, www or other subdomain,
  in capitals or with a trailing dot (`sales@x.com`, `https://www.x.co.uk/contact`,
  `shop.x.com`).
- `idn`: an internationalised domain vs its Punycode (müller-bau.example vs xn--...).
- `acronym_same_domain`: a name vs its acronym, only when both rows have the same domain.
- `same_name_other_domain`: exactly the same distinctive name on a subsidiary's or regional
  domain (vornakel.com vs vornakel-uk.co.uk, vornakelgroup.com).

Positives of the other kinds have a different registrable domain in about half of the pairs
(another TLD, or the label with a suffix such as `group`, `-uk` or the descriptor: ~38 % of
all positives), so the name must carry the match there. A real surname or town with a trade
word (Müller Logistik, Bakker Groep) names many companies, so such positives keep the same
registrable domain; so do names of common words only and a change to another legal form.

Negatives (same = 0), always with different, unrelated registrable domains:

- `neg_shared_first_word`: a common leading word and different sectors ("Summit Capital" vs
  "Summit Healthcare Group"), sometimes two leading words ("North American ...").
- `neg_shared_last_word`: different stems, the same descriptor ("Acme Systems" vs
  "Zenith Systems"), sometimes the same legal form too.
- `neg_same_industry`: different stems, overlapping phrases of one sector ("X Dental Care"
  vs "Y Dental Partners").
- `neg_same_city`: a city and different sectors ("Boston Scientific" vs "Boston Consulting
  Group" style), sometimes "... of <City>".
- `neg_one_word_differs`: everything equal but one word: a place (First National Bank of
  Omaha / of Texas, X Federal Credit Union), a landscape word (Cedar Ridge Dental / Cedar
  Creek Dental), one partner of a firm (Baker & Pemberton LLP / Baker & Ashworth LLP), or
  look-alike places (Norwood / Norwell). The differing words are at least 3 edits apart.
- `neg_parent_prefix`: a parent-style name and an unrelated company with the same common
  leading word ("Summit Holdings" vs "Summit Roofing Supply").
- `neg_easy`: nothing in common.

Label rules, checked by `check()` before anything is written:

- Same customer: the same distinctive (rare or invented) name, whatever its legal form,
  transliteration, typo, punctuation or domain spelling; or the same registrable domain.
- Different companies: names that share only common words (leading words, industry words,
  cities, places, landscape words, very common surnames, legal forms) and have different
  domains. Every negative is checked: different registrable domains and second-level labels
  (neither a prefix of the other), normalised names at least 3 edits apart, neither name's
  words a subset of the other's, and every shared word on the common-word lists.
- Left out because a careful person could not label them with confidence: a rare stem with
  different descriptors (Vornakel Analytics vs Vornakel Logistics: maybe one group), an
  acronym with another domain, a name of only common words on two different domains
  (two "Summit Dental Group"s), one-letter-apart real words (Stanford / Stamford).
"""

# The word lists hold Turkish ı, Cyrillic letters and typographic apostrophes on purpose.
# ruff: noqa: RUF001, RUF002, RUF003

from __future__ import annotations

import csv
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SEED = 20275  # after ISO 20275
OUT = Path(__file__).resolve().parent / "data" / "matching_pairs.csv"
HEADER = ["name_a", "domain_a", "name_b", "domain_b", "same", "kind"]

TARGETS = {
    "legal_form": 170,
    "transliteration": 95,
    "typo_first_word": 70,
    "typo_other_word": 60,
    "ampersand_the_punct": 70,
    "word_order": 20,
    "tld_variant": 55,
    "domain_form": 60,
    "idn": 30,
    "acronym_same_domain": 45,
    "same_name_other_domain": 50,
    "neg_shared_first_word": 200,
    "neg_shared_last_word": 120,
    "neg_same_industry": 70,
    "neg_same_city": 80,
    "neg_one_word_differs": 80,
    "neg_parent_prefix": 50,
    "neg_easy": 90,
}
HARD_NEGATIVES = tuple(k for k in TARGETS if k.startswith("neg_") and k != "neg_easy")


# --------------------------------------------------------------------------------------------
# Legal forms (ISO 20275 abbreviations and names, by jurisdiction)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Form:
    abbr: str
    full: str | None = None
    variants: tuple[str, ...] = ()
    prefix: bool = False  # written before the name
    english: str | None = None  # the English equivalent written after the name instead
    full_prefix: bool = False  # the written-out form may also lead (Kabushiki Kaisha X)


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    lang: str
    tlds: tuple[str, ...]
    forms: tuple[Form, ...]
    quote: str = ""  # quotes around the name after a prefix form: «», "", „“


def _f(abbr: str, full: str | None = None, *variants: str, **kw: object) -> Form:
    return Form(abbr, full, variants, **kw)  # type: ignore[arg-type]


# fmt: off
COUNTRIES = [
    Country("US", "United States", "en", ("com", "com", "com", "io", "net", "co", "us"), (
        _f("Inc.", "Incorporated", "Inc", "INC."), _f("LLC", "Limited Liability Company", "L.L.C.", "Llc"),
        _f("Corp.", "Corporation", "Corp", "CORP."), _f("Co.", "Company", "Co"),
        _f("LLP", "Limited Liability Partnership", "L.L.P."), _f("L.P.", "Limited Partnership", "LP"),
        _f("PLLC", "Professional Limited Liability Company", "P.L.L.C."))),
    Country("GB", "United Kingdom", "en", ("co.uk", "co.uk", "uk", "com"), (
        _f("Ltd", "Limited", "Ltd.", "LTD"), _f("PLC", "Public Limited Company", "plc", "P.L.C."),
        _f("LLP", "Limited Liability Partnership"))),
    Country("IE", "Ireland", "en", ("ie", "com"), (
        _f("Ltd", "Limited", "Ltd."), _f("DAC", "Designated Activity Company"),
        _f("Teo.", "Teoranta", "Teo"))),
    Country("CA", "Canada", "en", ("ca", "com"), (
        _f("Inc.", "Incorporated", "Inc"), _f("Ltd.", "Limited", "Ltd"),
        _f("Ltée", "Limitée", "Ltee", "ltée"))),
    Country("AU", "Australia", "en", ("com.au",), (
        _f("Pty Ltd", "Proprietary Limited", "Pty. Ltd.", "PTY LTD", "Pty Limited"),
        _f("Ltd", "Limited", "Ltd."))),
    Country("NZ", "New Zealand", "en", ("co.nz",), (_f("Ltd", "Limited", "Ltd."),)),
    Country("DE", "Germany", "de", ("de", "de", "com"), (
        _f("GmbH", "Gesellschaft mit beschränkter Haftung", "G.m.b.H.", "Gmbh"),
        _f("AG", "Aktiengesellschaft"), _f("KG", "Kommanditgesellschaft"),
        _f("GmbH & Co. KG", None, "GmbH & Co KG", "GmbH u. Co. KG"),
        _f("e.K.", "eingetragener Kaufmann", "e. K.", "e.Kfm."),
        _f("UG (haftungsbeschränkt)", "Unternehmergesellschaft (haftungsbeschränkt)", "UG"),
        _f("SE", "Societas Europaea"), _f("e.V.", "eingetragener Verein", "e. V.", "eV"),
        _f("OHG", "offene Handelsgesellschaft", "oHG"))),
    Country("AT", "Austria", "de", ("at", "com"), (
        _f("GmbH", "Gesellschaft mit beschränkter Haftung", "Ges.m.b.H.", "Ges.mbH"),
        _f("AG", "Aktiengesellschaft"), _f("KG", "Kommanditgesellschaft"),
        _f("e.U.", "eingetragenes Unternehmen", "eU"))),
    Country("CH", "Switzerland", "de", ("ch", "com"), (
        _f("AG", "Aktiengesellschaft"), _f("SA", "Société anonyme", "S.A."),
        _f("GmbH", "Gesellschaft mit beschränkter Haftung"),
        _f("Sàrl", "Société à responsabilité limitée", "Sarl", "S.à r.l."))),
    Country("FR", "France", "fr", ("fr", "fr", "com"), (
        _f("SA", "Société anonyme", "S.A."), _f("SAS", "Société par actions simplifiée", "S.A.S.", "S.A.S"),
        _f("SARL", "Société à responsabilité limitée", "S.A.R.L.", "Sarl"),
        _f("SASU", "Société par actions simplifiée unipersonnelle", "S.A.S.U."),
        _f("EURL", "Entreprise unipersonnelle à responsabilité limitée", "E.U.R.L."))),
    Country("BE", "Belgium", "nl", ("be", "com"), (
        _f("BV", "besloten vennootschap", "B.V."), _f("NV", "naamloze vennootschap", "N.V."),
        _f("BVBA", "besloten vennootschap met beperkte aansprakelijkheid", "B.V.B.A.", "bvba"),
        _f("SRL", "société à responsabilité limitée", "S.R.L."), _f("SA", "société anonyme", "S.A."),
        _f("SPRL", "société privée à responsabilité limitée", "S.P.R.L."))),
    Country("NL", "Netherlands", "nl", ("nl", "com"), (
        _f("B.V.", "Besloten Vennootschap", "BV", "B.V", "bv"),
        _f("N.V.", "Naamloze Vennootschap", "NV"))),
    Country("LU", "Luxembourg", "fr", ("lu", "com"), (
        _f("S.A.", "Société anonyme", "SA"),
        _f("S.à r.l.", "Société à responsabilité limitée", "S.a r.l.", "SARL", "Sàrl"))),
    Country("ES", "Spain", "es", ("es", "com"), (
        _f("S.A.", "Sociedad Anónima", "SA"), _f("S.L.", "Sociedad Limitada", "SL", "S.L"),
        _f("S.L.U.", "Sociedad Limitada Unipersonal", "SLU"))),
    Country("PT", "Portugal", "pt", ("pt", "com"), (
        _f("Lda.", "Limitada", "Lda", "LDA"), _f("S.A.", "Sociedade Anónima", "SA"))),
    Country("IT", "Italy", "it", ("it", "com"), (
        _f("S.p.A.", "Società per azioni", "SpA", "S.P.A.", "Spa"),
        _f("S.r.l.", "Società a responsabilità limitata", "Srl", "S.R.L.", "srl"),
        _f("S.a.s.", "Società in accomandita semplice", "Sas"))),
    Country("SE", "Sweden", "sv", ("se", "com"), (
        _f("AB", "Aktiebolag", "Ab"), _f("AB (publ)", "Aktiebolag (publ)", "AB publ"),
        _f("HB", "Handelsbolag"))),
    Country("NO", "Norway", "no", ("no", "com"), (
        _f("AS", "Aksjeselskap", "A/S", "A.S."), _f("ASA", "Allmennaksjeselskap"))),
    Country("DK", "Denmark", "da", ("dk", "com"), (
        _f("A/S", "Aktieselskab", "AS"), _f("ApS", "Anpartsselskab", "Aps", "APS"),
        _f("I/S", "Interessentskab"))),
    Country("FI", "Finland", "fi", ("fi", "com"), (
        _f("Oy", "Osakeyhtiö", "OY", "Oy."), _f("Oyj", "Julkinen osakeyhtiö", "OYJ"),
        _f("Ky", "Kommandiittiyhtiö"))),
    Country("IS", "Iceland", "is", ("is",), (
        _f("ehf.", "einkahlutafélag", "ehf", "EHF"), _f("hf.", "hlutafélag", "hf"))),
    Country("EE", "Estonia", "en", ("ee",), (
        _f("OÜ", "osaühing", "OU", "Oü"), _f("AS", "aktsiaselts"))),
    Country("LV", "Latvia", "en", ("lv",), (
        _f("SIA", "sabiedrība ar ierobežotu atbildību", prefix=True, english="Ltd"),
        _f("AS", "akciju sabiedrība", prefix=True)), quote='"'),
    Country("LT", "Lithuania", "en", ("lt",), (
        _f("UAB", "uždaroji akcinė bendrovė", prefix=True, english="Ltd"),
        _f("AB", "akcinė bendrovė", prefix=True)), quote="„“"),
    Country("PL", "Poland", "pl", ("pl", "com.pl"), (
        _f("Sp. z o.o.", "spółka z ograniczoną odpowiedzialnością", "sp. z o.o.", "Sp. z o. o.", "Sp.z o.o.", "Spółka z o.o."),
        _f("S.A.", "spółka akcyjna", "SA"), _f("sp.k.", "spółka komandytowa", "Sp. k."))),
    Country("CZ", "Czechia", "cs", ("cz",), (
        _f("s.r.o.", "společnost s ručením omezeným", "s. r. o.", "spol. s r.o.", "S.R.O."),
        _f("a.s.", "akciová společnost", "a. s.", "A.S."))),
    Country("SK", "Slovakia", "sk", ("sk",), (
        _f("s.r.o.", "spoločnosť s ručením obmedzeným", "s. r. o.", "spol. s r.o."),
        _f("a.s.", "akciová spoločnosť", "a. s."))),
    Country("HU", "Hungary", "hu", ("hu",), (
        _f("Kft.", "korlátolt felelősségű társaság", "Kft", "KFT."),
        _f("Zrt.", "zártkörűen működő részvénytársaság", "Zrt", "ZRt."),
        _f("Nyrt.", "nyilvánosan működő részvénytársaság", "Nyrt"), _f("Bt.", "betéti társaság", "Bt"))),
    Country("SI", "Slovenia", "sl", ("si",), (
        _f("d.o.o.", "družba z omejeno odgovornostjo", "d. o. o.", "doo"), _f("d.d.", "delniška družba", "d. d."))),
    Country("HR", "Croatia", "hr", ("hr",), (
        _f("d.o.o.", "društvo s ograničenom odgovornošću", "d. o. o.", "doo"), _f("d.d.", "dioničko društvo", "d. d."))),
    Country("RS", "Serbia", "sr", ("rs",), (
        _f("d.o.o.", "društvo sa ograničenom odgovornošću", "d. o. o.", "doo"), _f("a.d.", "akcionarsko društvo", "ad"))),
    Country("RO", "Romania", "ro", ("ro",), (
        _f("S.R.L.", "societate cu răspundere limitată", "SRL", "S.R.L"), _f("S.A.", "societate pe acțiuni", "SA"))),
    Country("BG", "Bulgaria", "bg", ("bg",), (
        _f("OOD", "druzhestvo s ogranichena otgovornost", "O.O.D.", english="Ltd."),
        _f("EOOD", "ednolichno druzhestvo s ogranichena otgovornost", "E.O.O.D.", english="Ltd."),
        _f("AD", "aktsionerno druzhestvo", "A.D.", english="JSC"))),
    Country("RU", "Russia", "ru", ("ru", "com"), (
        _f("OOO", "Obshchestvo s ogranichennoy otvetstvennostyu", "OOO.", "Ooo", prefix=True, english="LLC"),
        _f("AO", "Aktsionernoye obshchestvo", "A.O.", prefix=True, english="JSC"),
        _f("PAO", "Publichnoye aktsionernoye obshchestvo", prefix=True, english="PJSC")), quote='"'),
    Country("UA", "Ukraine", "uk", ("com.ua", "ua"), (
        _f("TOV", "Tovarystvo z obmezhenoiu vidpovidalnistiu", "TOV.", prefix=True, english="LLC"),
        _f("PrAT", "Pryvatne aktsionerne tovarystvo", prefix=True, english="PrJSC")), quote='"'),
    Country("TR", "Turkey", "tr", ("com.tr",), (
        _f("A.Ş.", "Anonim Şirketi", "AŞ", "A.S.", "A.Ş"), _f("Ltd. Şti.", "Limited Şirketi", "Ltd.Şti.", "Ltd. Sti."))),
    Country("MX", "Mexico", "es", ("com.mx", "mx"), (
        _f("S.A. de C.V.", "Sociedad Anónima de Capital Variable", "SA de CV", "S.A. DE C.V.", "S.A de C.V"),
        _f("S. de R.L. de C.V.", "Sociedad de Responsabilidad Limitada de Capital Variable", "S de RL de CV"),
        _f("S.A.P.I. de C.V.", "Sociedad Anónima Promotora de Inversión de Capital Variable", "SAPI de CV"))),
    Country("BR", "Brazil", "pt", ("com.br",), (
        _f("Ltda.", "Limitada", "Ltda", "LTDA"), _f("S.A.", "Sociedade Anônima", "S/A", "SA"))),
    Country("AR", "Argentina", "es", ("com.ar",), (
        _f("S.A.", "Sociedad Anónima", "SA"), _f("S.R.L.", "Sociedad de Responsabilidad Limitada", "SRL"),
        _f("S.A.U.", "Sociedad Anónima Unipersonal", "SAU"))),
    Country("CL", "Chile", "es", ("cl",), (
        _f("SpA", "Sociedad por Acciones", "S.p.A."), _f("Ltda.", "Limitada", "Ltda"), _f("S.A.", "Sociedad Anónima", "SA"))),
    Country("CO", "Colombia", "es", ("com.co", "co"), (
        _f("S.A.S.", "Sociedad por Acciones Simplificada", "SAS", "S.A.S"), _f("Ltda.", "Limitada", "Ltda"))),
    Country("JP", "Japan", "ja", ("co.jp", "jp", "com"), (
        _f("K.K.", "Kabushiki Kaisha", "KK", english="Co., Ltd.", full_prefix=True),
        _f("G.K.", "Godo Kaisha", "GK", english="LLC"), _f("Co., Ltd.", "Company Limited", "Co.,Ltd.", "Co. Ltd."))),
    Country("KR", "South Korea", "en", ("co.kr", "com"), (
        _f("Co., Ltd.", "Jusik Hoesa", "Co.,Ltd.", "Co. Ltd", "CO., LTD."),)),
    Country("CN", "China", "en", ("com.cn", "cn", "com"), (
        _f("Co., Ltd.", "Company Limited", "Co.,Ltd.", "Co. Ltd", "CO.,LTD"),)),
    Country("HK", "Hong Kong", "en", ("com.hk",), (_f("Limited", None, "Ltd", "Ltd."),)),
    Country("SG", "Singapore", "en", ("com.sg", "sg"), (
        _f("Pte. Ltd.", "Private Limited", "Pte Ltd", "PTE. LTD.", "Pte. Limited"), _f("Ltd.", "Limited", "Ltd"))),
    Country("MY", "Malaysia", "en", ("com.my", "my"), (
        _f("Sdn. Bhd.", "Sendirian Berhad", "Sdn Bhd", "SDN. BHD.", "Sdn.Bhd."), _f("Bhd.", "Berhad", "Bhd"))),
    Country("ID", "Indonesia", "id", ("co.id", "com"), (
        _f("PT", "Perseroan Terbatas", "PT.", prefix=True), _f("Tbk", "Terbuka", "Tbk."))),
    Country("TH", "Thailand", "en", ("co.th",), (
        _f("Co., Ltd.", "Company Limited", "Co.,Ltd."), _f("PCL", "Public Company Limited", "Plc."))),
    Country("PH", "Philippines", "en", ("com.ph", "ph"), (
        _f("Inc.", "Incorporated", "Inc"), _f("Corp.", "Corporation", "Corp"))),
    Country("IN", "India", "en", ("in", "co.in", "com"), (
        _f("Pvt. Ltd.", "Private Limited", "Pvt Ltd", "Private Ltd.", "PVT. LTD."),
        _f("Ltd.", "Limited", "Ltd"), _f("LLP", "Limited Liability Partnership"))),
    Country("ZA", "South Africa", "en", ("co.za",), (
        _f("(Pty) Ltd", "Proprietary Limited", "Pty Ltd", "(PTY) LTD", "(Pty) Ltd."), _f("Ltd", "Limited"))),
    Country("IL", "Israel", "en", ("co.il",), (_f("Ltd.", "Limited", "Ltd"),)),
    Country("AE", "United Arab Emirates", "en", ("ae", "com"), (
        _f("LLC", "Limited Liability Company", "L.L.C."), _f("FZE", "Free Zone Establishment", "F.Z.E."),
        _f("FZ-LLC", "Free Zone Limited Liability Company", "FZ LLC", "FZ L.L.C."))),
    Country("NG", "Nigeria", "en", ("com.ng", "ng"), (_f("Ltd", "Limited"), _f("Plc", "Public Limited Company", "PLC"))),
    Country("EG", "Egypt", "en", ("com.eg",), (_f("S.A.E.", "Société Anonyme Égyptienne", "SAE"),)),
]
# fmt: on
BY_CODE = {c.code: c for c in COUNTRIES}
COMMA_BEFORE = {"Inc.", "Inc", "LLC", "Ltd.", "Ltd", "Corp.", "Limited", "L.P.", "LLP", "S.L.",
                "S.A. de C.V.", "S. de R.L. de C.V.", "Pvt. Ltd.", "PLLC", "Co."}  # fmt: skip


# --------------------------------------------------------------------------------------------
# Common words: leading words, sectors, tails, cities, places
# --------------------------------------------------------------------------------------------

# fmt: off
COMMON_LEADS = [
    "Global", "United", "Summit", "First", "National", "Pinnacle", "Meridian", "Apex", "Premier",
    "Pacific", "Atlantic", "North", "South", "East", "West", "Northern", "Southern", "Eastern",
    "Western", "American", "Allied", "Advanced", "Integrated", "Strategic", "Standard", "General",
    "Central", "Metro", "Crown", "Eagle", "Liberty", "Horizon", "Vertex", "Keystone", "Sterling",
    "Heritage", "Frontier", "Evergreen", "Northstar", "Silver", "Golden", "Blue", "Green", "Royal",
    "Imperial", "Coastal", "Mountain", "Valley", "Prairie", "Harbor", "Lakeside", "Riverside",
    "Precision", "Superior", "Elite", "Prime", "Alpha", "Delta", "Omega", "Nova", "Stellar",
    "Phoenix", "Titan", "Atlas", "Orion", "Zenith", "Vanguard", "Legacy", "Pioneer", "Patriot",
    "Empire", "Continental", "Universal", "Dynamic", "Quality", "Reliable", "Trinity", "Unity",
    "Cornerstone", "Benchmark", "Landmark", "Insight", "Catalyst", "Synergy", "Fusion", "Matrix",
    "Quantum", "Spectrum", "Element", "Bright", "Clear", "True", "Smart", "Rapid", "Swift",
    "Noble", "Grand", "Iron", "Granite", "Cedar", "Oak", "Maple", "Aspen", "Redwood", "Acme",
    "Beacon", "Compass", "Anchor", "Lighthouse", "Sunrise", "Horizon", "Pacifica", "Sentinel",
    "Guardian", "Paramount", "Regal", "Capstone", "Milestone", "Keystone", "Summit", "Peak",
]
COMMON_LEADS = list(dict.fromkeys(COMMON_LEADS))
TWO_WORD_LEADS = [
    "North American", "First National", "Great Lakes", "New England", "Pacific Northwest",
    "Gulf Coast", "Mid Atlantic", "South Central", "Rocky Mountain", "Blue Ridge", "Tri County",
    "Bay Area", "Golden Gate", "Lone Star", "Sun Belt", "First American", "Great Western",
]
SECTORS = {
    "logistics": ["Logistics", "Freight", "Logistics Partners", "Freight Systems", "Transport",
                  "Shipping", "Trucking", "Distribution", "Supply Chain Solutions", "Cargo", "Moving & Storage"],
    "health": ["Health Systems", "Healthcare", "Medical Center", "Medical Group", "Family Medicine",
               "Health Partners", "Urgent Care", "Orthopedics", "Physical Therapy", "Pediatrics", "Home Health"],
    "dental": ["Dental Group", "Dental Care", "Dental Partners", "Family Dentistry", "Orthodontics", "Dental Studio"],
    "finance": ["Capital", "Capital Partners", "Financial", "Wealth Management", "Investments",
                "Asset Management", "Financial Advisors", "Credit Union", "Bank", "Mortgage"],
    "insurance": ["Insurance", "Insurance Group", "Insurance Agency", "Underwriters", "Assurance"],
    "food": ["Foods", "Food Service", "Provisions", "Bakery", "Dairy", "Beverages", "Brewing Company",
             "Farms", "Produce", "Coffee Roasters"],
    "energy": ["Energy", "Power", "Solar", "Utilities", "Oil & Gas", "Renewables", "Electric Cooperative"],
    "software": ["Software", "Technologies", "Data", "Analytics", "Cloud", "Digital", "Labs",
                 "Networks", "IT Solutions", "Cybersecurity"],
    "construction": ["Construction", "Builders", "Roofing", "Contractors", "Engineering", "Homes",
                     "Concrete", "Electrical Contractors", "Plumbing & Heating", "Roofing Supply"],
    "realestate": ["Realty", "Properties", "Real Estate", "Property Management", "Development", "Land Company"],
    "manufacturing": ["Manufacturing", "Industries", "Machine Works", "Plastics", "Steel", "Fabrication",
                      "Metals", "Tool & Die", "Components", "Packaging"],
    "legal": ["Law Group", "Legal", "Law Offices", "Law Firm"],
    "consulting": ["Consulting", "Consulting Group", "Advisory", "Management Consultants", "Strategies"],
    "hospitality": ["Hotels", "Resorts", "Hospitality", "Travel", "Tours", "Catering", "Restaurant Group"],
    "retail": ["Outfitters", "Apparel", "Furniture", "Home Goods", "Hardware", "Pet Supply", "Auto Parts",
               "Sporting Goods", "Jewelers"],
    "education": ["Academy", "Learning", "Education", "Schools", "Training Institute"],
    "media": ["Media", "Marketing", "Communications", "Productions", "Studios", "Publishing", "Creative Agency"],
    "auto": ["Motors", "Automotive", "Auto Group", "Collision Center", "Truck Sales"],
    "staffing": ["Staffing", "Recruiting", "Talent Partners", "Workforce Solutions"],
    "pharma": ["Pharmaceuticals", "Biotech", "Therapeutics", "Biosciences", "Diagnostics", "Pharmacy"],
    "agri": ["Agriculture", "Seed Company", "Grain", "Cattle Company", "Orchards", "Nursery"],
    "telecom": ["Telecom", "Wireless", "Broadband", "Fiber"],
    "security": ["Security", "Protection Services", "Alarm Company"],
    "environmental": ["Environmental", "Waste Management", "Recycling", "Water", "Landscaping"],
    "aviation": ["Aviation", "Aerospace", "Air Charter"],
    "marine": ["Marine", "Boatworks", "Yacht Sales"],
    "veterinary": ["Veterinary Hospital", "Animal Clinic", "Pet Hospital"],
}
GENERIC_TAILS = ["Group", "Partners", "Holdings", "Solutions", "Services", "Systems", "International",
                 "Company", "Associates", "Enterprises"]
TAILABLE = {"Logistics", "Freight", "Transport", "Healthcare", "Capital", "Financial", "Insurance",
            "Energy", "Power", "Solar", "Software", "Technologies", "Data", "Analytics", "Digital",
            "Construction", "Engineering", "Realty", "Properties", "Manufacturing", "Industries",
            "Steel", "Metals", "Consulting", "Hospitality", "Media", "Marketing", "Motors",
            "Automotive", "Staffing", "Biotech", "Telecom", "Wireless", "Security", "Aviation",
            "Aerospace", "Marine", "Distribution", "Builders"}  # fmt: skip
PARENT_TAILS = ["Holdings", "Group", "Corporation", "Enterprises", "Industries", "Companies",
                "Capital Group", "Holding Company", "Ventures"]
OF_PHRASES = ["Family Medicine", "Dental Group", "Orthopedics", "Pediatrics", "Physical Therapy",
              "Urgent Care", "Law Offices", "Insurance Agency", "Academy", "Plumbing & Heating"]
CITIES = [
    "Boston", "Denver", "Austin", "Omaha", "Phoenix", "Chicago", "Dallas", "Houston", "Seattle",
    "Portland", "Atlanta", "Miami", "Detroit", "Cleveland", "Pittsburgh", "Baltimore", "Nashville",
    "Memphis", "Tulsa", "Sacramento", "Charlotte", "Raleigh", "Tampa", "Orlando", "Columbus",
    "Cincinnati", "Milwaukee", "Minneapolis", "Kansas City", "St. Louis", "Salt Lake", "San Diego",
    "Toronto", "Vancouver", "Calgary", "Montreal", "London", "Manchester", "Leeds", "Bristol",
    "Glasgow", "Dublin", "Sydney", "Melbourne", "Brisbane", "Auckland", "Hamburg", "Berlin",
    "Munich", "Lyon", "Milan", "Madrid", "Oslo", "Singapore", "Houston", "Albany", "Richmond",
    "Louisville", "Buffalo", "Hartford",
]
CITIES = list(dict.fromkeys(CITIES))
BANK_PLACES = [
    "Omaha", "Texas", "Ohio", "Oregon", "Nevada", "Georgia", "Montana", "Kansas", "Arizona",
    "Alaska", "Florida", "Michigan", "Illinois", "Indiana", "Kentucky", "Virginia", "Vermont",
    "Maine", "Utah", "Idaho", "Wyoming", "Delaware", "Pennsylvania", "Missouri", "Nebraska",
    "Oklahoma", "Colorado", "Tennessee", "Louisiana", "Alabama", "Arkansas", "Wisconsin",
    "Minnesota", "Tulsa", "Wichita", "Topeka", "Fresno", "Spokane", "Boise", "Dayton", "Toledo",
    "Peoria", "Lansing", "Fargo", "Billings", "Amarillo", "Lubbock", "Savannah", "Macon", "Duluth",
]
BANK_TEMPLATES = ["First National Bank of {p}", "Farmers State Bank of {p}", "Citizens Bank of {p}",
                  "Community Foundation of {p}", "Children's Hospital of {p}", "{p} Federal Credit Union",
                  "{p} Community Bank", "{p} Teachers Credit Union", "Bank of {p}", "{p} Electric Cooperative"]
NATURE_LEADS = ["Cedar", "Oak", "Pine", "Maple", "Willow", "Blue", "Green", "Silver", "Golden", "Eagle",
                "Fox", "Deer", "Stone", "Iron", "Red", "Clear", "Shady", "Sunny", "Pleasant", "Elm",
                "Birch", "Laurel", "Heron", "Hawk", "Bear"]
QUALIFIERS = ["Ridge", "Creek", "Valley", "Hill", "Point", "Park", "Grove", "Springs", "Harbor",
              "Bay", "Lake", "River", "Meadow", "Brook", "Field", "Hollow", "Mountain", "Canyon",
              "Mesa", "Glen", "Summit", "Landing", "Prairie", "Forest", "Island"]
LOOKALIKE_PLACES = [("Ashford", "Ashland"), ("Westbrook", "Westfield"), ("Fairfield", "Fairview"),
                    ("Brookfield", "Brookline"), ("Springfield", "Springdale"), ("Greenville", "Greenwood"),
                    ("Oakland", "Oakdale"), ("Riverside", "Riverdale"), ("Lakewood", "Lakeland"),
                    ("Norwood", "Norwell"), ("Bridgeport", "Bridgewater"), ("Middleton", "Middlesex"),
                    ("Hampton", "Hampstead"), ("Waterford", "Waterbury"), ("Kingston", "Kingsley"),
                    ("Franklin", "Frankfort"), ("Milford", "Milton"), ("Clinton", "Clifton"),
                    ("Salem", "Selma"), ("Newport", "Newark"), ("Marion", "Marietta"),
                    ("Lexington", "Livingston"), ("Burlington", "Bellingham"), ("Auburn", "Aurora")]
COMMON_SURNAMES = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson",
                   "Taylor", "Clark", "Baker", "Wright", "Walker", "Young", "King", "Scott", "Green",
                   "Adams", "Hill", "Moore", "White", "Lewis", "Allen", "Martin", "Thompson"]
FIRM_TAILS = ["LLP", "PLLC", "Law Group", "CPAs", "P.C.", "Architects"]
THE_TAILS = ["Group", "Company", "Partnership", "Agency", "Collective", "Consultancy", "Works",
             "Foundry", "Trust", "Institute", "Studio", "Exchange", "Bakery", "Press", "Guild",
             "Cooperative", "Mill", "Brewery"]
MAJOR_TLDS = ["com", "com", "com", "net", "io", "eu", "de", "co.uk", "fr", "nl", "es", "it", "ch",
              "at", "se", "dk", "no", "pl", "be", "com.au", "ca", "us", "ie", "co"]
EN_FORMS = ["Inc.", "Inc.", "Inc.", "LLC", "LLC", "LLC", "Ltd", "Ltd", "Ltd.", "Corp.", "Co.",
            "Limited", "Pty Ltd", "PLC", "Inc"]
FAMOUS_ACRONYMS = {
    "IBM", "GE", "HP", "DTE", "MCI", "UPS", "ABC", "CBS", "NBC", "BBC", "AMD", "TCS", "CNN", "KFC",
    "BMW", "ADM", "RBC", "BMO", "PBS", "SAP", "DHL", "BP", "GM", "AIG", "CVS", "AMC", "HBO", "MTV",
    "NFL", "NBA", "TNT", "USA", "FBI", "CIA", "NSA", "IRS", "EPA", "FDA", "TWA", "RCA", "ITT", "AOL",
    "DEC", "SGI", "LG", "UBS", "RBS", "BNP", "ING", "ABB", "SKF", "DSM", "KPN", "BT", "ANZ", "NAB",
    "CBA", "ICI", "GSK", "JCB", "CSX", "IGT", "TRW", "EDS", "CSC", "SAS", "KLM", "LOT", "TAP", "PWC",
    "EY", "BDO", "RSM", "GT", "BCG", "PNC", "BNY", "TD", "NEC", "TDK", "JVC", "NTT", "SK", "CJ", "GS",
    "LS", "HD", "SPX", "RPM", "NVR", "AES", "PPG", "PPL", "ADP", "CDW", "CGI", "ICF", "KBR", "URS",
    "HDR", "WSP", "SNC", "STV", "PCL", "ISG", "JLL", "ADT", "ATI", "MSC", "OPT", "IHS", "SAIC", "MIT",
    "UCLA", "NYU", "USC", "BMS", "JNJ", "PG", "GSA", "NHS", "BHP", "RTX", "LMT", "GD", "BAE", "CAE",
    "IBS", "PTC", "EMC", "NCR", "ATT", "SBC", "GTE", "MGM", "CNA", "AXA", "ACE", "TIAA", "BB", "WPP",
}  # fmt: skip
EN_DESCRIPTORS = [
    "Analytics", "Labs", "Systems", "Logistics", "Software", "Technologies", "Robotics", "Foods",
    "Capital", "Energy", "Health", "Media", "Studios", "Networks", "Instruments", "Materials",
    "Therapeutics", "Marine", "Aerospace", "Engineering", "Consulting", "Partners", "Group",
    "Holdings", "Industries", "Trading", "Electronics", "Pharma", "Biosciences", "Mobility",
    "Security", "Textiles", "Brewing", "Outdoor", "Interiors", "Packaging", "Solar", "Data",
    "Cloud", "Medical", "Dental", "Insurance", "Realty", "Freight", "Motors", "Ventures",
    "Diagnostics", "Precision", "Components", "Controls", "Coatings", "Polymers", "Optics",
]
SECOND_DESCRIPTORS = {  # a second descriptor, and the first descriptors it reads naturally after
    "Group": None, "International": None, "Holdings": None,
    "Engineering": {"Marine", "Medical", "Precision", "Solar", "Aerospace", "Robotics", "Optics",
                    "Controls", "Polymers", "Packaging", "Security", "Energy", "Materials"},
    "Technologies": {"Marine", "Medical", "Precision", "Solar", "Aerospace", "Optics", "Controls",
                     "Security", "Energy", "Data", "Cloud", "Mobility", "Packaging", "Coatings"},
    "Solutions": {"Marine", "Medical", "Freight", "Data", "Solar", "Packaging", "Security", "Cloud",
                  "Energy", "Health", "Logistics", "Mobility", "Controls", "Insurance"},
    "Systems": {"Marine", "Medical", "Data", "Solar", "Security", "Cloud", "Energy", "Health",
                "Controls", "Optics", "Aerospace", "Robotics", "Packaging"},
    "Services": {"Marine", "Medical", "Freight", "Data", "Security", "Energy", "Health", "Logistics",
                 "Insurance", "Realty", "Dental", "Aerospace"},
}  # fmt: skip
LOCAL_WORDS = {
    "de": ["Maschinenbau", "Logistik", "Elektrotechnik", "Bau", "Immobilien", "Beratung", "Software",
           "Handel", "Metallbau", "Medizintechnik", "Spedition", "Automatisierung", "Verpackung",
           "Holzbau", "Gebäudetechnik", "Präzisionstechnik", "Fördertechnik", "Kältetechnik"],
    "fr": ["Conseil", "Logistique", "Industries", "Transports", "Informatique", "Ingénierie",
           "Distribution", "Bâtiment", "Services", "Énergie", "Électricité", "Matériaux"],
    "es": ["Consultores", "Logística", "Ingeniería", "Construcciones", "Transportes", "Alimentación",
           "Soluciones", "Servicios", "Tecnología", "Energía"],
    "pt": ["Consultoria", "Logística", "Engenharia", "Construções", "Transportes", "Tecnologia",
           "Serviços", "Alimentação", "Energia"],
    "it": ["Impianti", "Costruzioni", "Logistica", "Meccanica", "Informatica", "Trasporti", "Servizi",
           "Consulenza", "Elettronica", "Edilizia"],
    "nl": ["Techniek", "Logistiek", "Bouw", "Installatietechniek", "Advies", "Transport", "Groep",
           "Vastgoed", "Automatisering"],
    "sv": ["Bygg", "Konsult", "Teknik", "Fastigheter", "Logistik", "Maskin", "Entreprenad", "Städ"],
    "no": ["Bygg", "Eiendom", "Teknikk", "Rådgivning", "Maskin", "Transport", "Elektro", "Rørlegger"],
    "da": ["Byg", "Rådgivning", "Teknik", "Ejendomme", "Transport", "Maskinfabrik", "Smedie", "Tømrer"],
    "fi": ["Rakennus", "Konsultointi", "Tekniikka", "Kuljetus", "Kiinteistöt", "Sähkö", "Metsä"],
    "is": ["Verk", "Fasteignir", "Ráðgjöf", "Útgerð", "Flutningar"],
    "pl": ["Logistyka", "Budownictwo", "Technologie", "Transport", "Doradztwo", "Systemy", "Usługi",
           "Przetwórstwo"],
    "cs": ["Stavby", "Technologie", "Logistika", "Strojírny", "Služby", "Stavební", "Elektro"],
    "sk": ["Stavby", "Logistika", "Služby", "Technológie", "Strojárne"],
    "hu": ["Építőipari", "Logisztika", "Technológia", "Szolgáltató", "Kereskedelmi", "Gépgyártó"],
    "tr": ["İnşaat", "Lojistik", "Teknoloji", "Makine", "Danışmanlık", "Gıda", "Tekstil", "Otomotiv"],
    "ro": ["Construcții", "Logistică", "Tehnologie", "Servicii", "Consultanță", "Distribuție"],
    "hr": ["Gradnja", "Logistika", "Inženjering", "Trgovina", "Usluge"],
    "sl": ["Gradnje", "Logistika", "Inženiring", "Trgovina", "Storitve"],
    "sr": ["Gradnja", "Logistika", "Inženjering", "Trgovina", "Transport"],
    "ja": ["Seisakusho", "Shoji", "Kogyo", "Denki", "Kensetsu", "Sangyo", "Electronics", "Trading"],
    "id": ["Teknologi", "Logistik", "Konstruksi", "Mandiri", "Sejahtera", "Energi", "Solusi"],
}
# fmt: on


# --------------------------------------------------------------------------------------------
# Distinctive stems: invented ones, and public-domain surnames and places
# --------------------------------------------------------------------------------------------

# fmt: off
SYL_FIRST = ["vor", "tes", "lum", "cav", "bel", "dar", "fen", "gal", "hal", "kes", "lor", "mar", "nor",
             "pel", "quor", "ros", "sel", "tal", "ver", "wyn", "zan", "bran", "cor", "del", "el", "al",
             "or", "ar", "is", "ul", "bra", "cla", "dra", "fla", "gri", "tri", "sto", "pra", "kal",
             "mer", "sor", "tor", "val", "zer", "bex", "nex", "rav", "sab", "tam", "vel", "ash", "bryn",
             "cal", "dov", "esk", "fal", "gor", "hel", "iv", "jor", "kel", "lan", "mor", "nal", "orv",
             "pax", "quin", "ril", "sen", "tev", "var", "wen", "yor", "zel", "ost", "tre", "bro", "fer"]
SYL_MID = ["", "", "", "", "a", "e", "i", "o", "ra", "la", "na", "ri", "li", "ve", "do", "ta", "mi",
           "ne", "ro", "ca", "sa"]
SYL_END = ["kel", "ly", "vane", "dra", "ra", "tix", "nor", "ris", "ton", "lia", "vex", "mont", "dale",
           "mora", "tica", "via", "rin", "ora", "lyn", "trix", "ven", "ster", "gen", "lex", "dor", "wyn",
           "ssa", "bel", "vant", "quil", "ant", "ent", "ion", "ium", "is", "a", "o", "en", "an", "ex",
           "ar", "on", "ova", "ella", "ino", "ara", "ita", "eon", "ix", "or", "us", "eum", "ica", "aro",
           "una", "elle", "wick", "mere", "ford", "thal", "gard", "holm", "stad", "vik"]
BLOCKED = ["fuk", "fuc", "sex", "nig", "cum", "tit", "ass", "dik", "dic", "cok", "cock", "cunt",
           "shit", "rap", "nazi", "pis", "porn", "anal", "slut", "puss", "jiz", "fag", "kkk", "poo",
           "vag", "wank", "twat", "homo", "jew", "gay", "hoe", "whor", "dam", "hell", "kill", "gun",
           "bomb", "dead", "die", "isis", "semen", "pedo", "turd", "crap", "butt", "boob", "nude",
           "kike", "spic", "coon", "dyke", "tard", "moron", "pube", "pee", "lsd", "meth", "sux", "suk",
           "slag", "ho", "kum", "cuk", "xx", "yy", "uu", "ii", "aa", "ee"]
RARE_PARTS_A = ["Quill", "Bright", "Copper", "Fern", "Thistle", "Bramble", "Lantern", "Wren", "Heron",
                "Flint", "Ember", "Birch", "Cinder", "Alder", "Hazel", "Sorrel", "Larch", "Cobble",
                "Tallow", "Osprey", "Juniper", "Saffron", "Kestrel", "Lark", "Moss", "Slate", "Amber",
                "Briar", "Clover", "Drift", "Frost", "Gable", "Harrow", "Ivy", "Kettle", "Linden",
                "Nettle", "Oriel", "Pebble", "Quarry", "Rook", "Sable", "Tinder", "Umber", "Yarrow",
                "Vellum", "Marten", "Plover", "Teasel", "Wicker", "Gorse", "Hawthorn", "Mallow", "Tansy",
                "Coriander", "Wildrye", "Starling", "Puffin", "Otter", "Bracken"]
RARE_PARTS_B = [  # second halves that rarely make an existing word with the first
    "feather", "wave", "kettle", "ridge", "wick", "worth", "mere", "haven", "crest", "fold",
    "moor", "hollow", "spire", "holt", "combe", "ley", "thorne", "wright", "mark", "loft",
    "forge", "yard", "vale", "shaw", "croft", "bourne", "stead", "wharf", "leaf", "lane", "cliff",
]
SURNAMES = [  # less common US surnames (US Census surname list, public domain)
    "Ashworth", "Pemberton", "Hargrove", "Whitlock", "Calloway", "Dunleavy", "Fairbanks", "Gillespie",
    "Holloway", "Kincaid", "Langford", "Merriweather", "Northcutt", "Okafor", "Prescott", "Quimby",
    "Radcliffe", "Stanhope", "Thornbury", "Underhill", "Vandermeer", "Wadsworth", "Yarborough",
    "Abernathy", "Blackwood", "Cartwright", "Ellsworth", "Galloway", "Hathaway", "Kendrick",
    "Lockhart", "Macintyre", "Nightingale", "Pendleton", "Rutherford", "Sinclair", "Templeton",
    "Vickers", "Whitaker", "Zimmerman", "Ackerman", "Brennan", "Castellano", "Donnelly", "Fenwick",
    "Gallagher", "Hendricks", "Iverson", "Jennings", "Kowalski", "Lindqvist", "Mercer", "Nakamura",
    "Petrakis", "Quintero", "Rasmussen", "Salazar", "Tanaka", "Varga", "Wojcik", "Xiong", "Yamamoto",
    "Zielinski", "Halvorsen", "Okonkwo", "Adeyemi", "Chaudhry", "Banerjee", "Raghavan", "Mwangi",
    "Kariuki", "Albrecht", "Beaumont", "Carrington", "Delgado", "Eberhardt", "Fitzwilliam",
    "Gustafson", "Hollister", "Ingersoll", "Jablonski", "Kavanagh", "Lombardi", "Mancuso",
    "Nordstrom", "Oakley", "Pritchard", "Quackenbush", "Rosenthal", "Santangelo", "Thibodeaux",
    "Ulrich", "Valentine", "Winslow", "Yoder", "Zeller", "Archuleta", "Bancroft", "Culpepper",
    "Dewitt", "Espinoza", "Featherstone", "Grisham", "Hawthorne", "Ishikawa", "Jorgensen",
    "Kilpatrick", "Lachance", "Montgomery", "Nussbaum", "Ostrowski", "Pacheco", "Ramsdell",
    "Schuyler", "Trowbridge", "Umstead", "Villanueva", "Whitfield", "Youngblood", "Zamora",
    "Ballard", "Crenshaw", "Dunbar", "Ellington", "Forsythe", "Gilchrist", "Haskell", "Lancaster",
    "Mayfield", "Osgood", "Pickering", "Redfern", "Stoddard", "Tillman", "Vance", "Wexler",
]
PLACES = [  # US place and river names (USGS GNIS, public domain)
    "Kittitas", "Okanogan", "Wasatch", "Cuyahoga", "Tuscarora", "Monongahela", "Catawba", "Chenango",
    "Mattapoisett", "Petaluma", "Umatilla", "Klamath", "Siskiyou", "Bitterroot", "Absaroka",
    "Sawtooth", "Wallowa", "Coconino", "Mogollon", "Pecos", "Brazos", "Nueces", "Atchafalaya",
    "Tensas", "Ouachita", "Watauga", "Pamlico", "Chowan", "Rappahannock", "Kennebec", "Penobscot",
    "Androscoggin", "Housatonic", "Naugatuck", "Quinnipiac", "Genesee", "Chautauqua", "Tioga",
    "Lackawanna", "Juniata", "Muskingum", "Scioto", "Maumee", "Kankakee", "Menominee", "Keweenaw",
    "Manitowoc", "Kewaunee", "Sangamon", "Wapsipinicon", "Cheyenne", "Niobrara", "Platte",
    "Cimarron", "Verdigris", "Neosho", "Chickasaw", "Tombigbee", "Apalachicola", "Suwannee",
    "Ocmulgee", "Oconee", "Santee", "Pee Dee", "Yadkin", "Tuckasegee", "Nantahala", "Clinch",
    "Holston", "Cahaba", "Coosa", "Tallapoosa", "Sabine", "Trinity", "Llano", "Gunnison",
    "Uncompahgre", "Animas", "Dolores", "Owyhee", "Malheur", "Deschutes", "Willamette", "Skagit",
    "Snohomish", "Nisqually", "Chehalis", "Wenatchee", "Palouse", "Clearwater", "Salmon River",
    "Tanana", "Susitna", "Kenai", "Matanuska", "Hualapai", "Gila", "Mohave", "Yavapai",
]
PLACES = [p for p in PLACES if " " not in p and p not in ("Trinity",)]
# Names with diacritics by language: real surnames and places (public) and invented ones.
NATIONAL = {
    "de": (["Müller", "Schröder", "Köhler", "Krüger", "Jäger", "Böhm", "Schäfer", "Fröhlich", "Hübner",
            "Möller", "Weiß", "Groß", "Strauß", "Günther", "Bäumer", "Löffler", "Nößler", "Pöschl",
            "Wölfle", "Brückner", "Göppingen", "Lüneburg", "Würzburg", "Tübingen", "Fürth",
            "Gütersloh", "Lörrach", "Nürtingen", "Düren", "Völklingen", "Brandt", "Hofmann"],
           ["Grünwaldt", "Südbrakel", "Löwenbrück", "Hägerstein", "Krümmelbach", "Dörrenhaus",
            "Hüttenbrock", "Mäßlinger", "Schönfeldt", "Blümelhof", "Görlachs", "Brößler", "Wäldrich",
            "Ölkerath"]),
    "fr": (["Lefèvre", "Bérard", "Bélanger", "Côté", "Lévêque", "Ménard", "Gagné", "Pâquet",
            "Thériault", "Benoît", "Besançon", "Orléans", "Évreux", "Nîmes", "Sète", "Châteaudun",
            "Périgueux", "Mâcon", "Béziers", "Mercier"],
           ["Belmérac", "Chalvérin", "Rivéloux", "Daumézy", "Vénaraud"]),
    "es": (["Muñoz", "Núñez", "Peña", "Ibáñez", "Castañeda", "Ordóñez", "Méndez", "Álvarez",
            "Gutiérrez", "Logroño", "Cádiz", "Córdoba", "Málaga", "Jaén", "Alcañiz", "León", "Robles"],
           ["Valdeñor", "Castrañón", "Peñalverde", "Quiñonero"]),
    "pt": (["Gonçalves", "Conceição", "Magalhães", "Simões", "Guimarães", "Araújo", "Brandão", "Falcão",
            "Gusmão", "Patrício", "Santarém", "Óbidos", "Setúbal", "Évora", "Loureiro"],
           ["Vilarão", "Montegão", "Açoreira"]),
    "it": (["Niccolò", "Forlì", "Cantù", "Galbiati", "Ferraresi"], ["Vallerò", "Monteciò"]),
    "no": (["Søndergaard", "Ødegaard", "Bjørnstad", "Hægstad", "Løvås", "Fjæstad", "Håkonsen",
            "Tromsø", "Ålesund", "Bodø", "Sørensen", "Haugland"],
           ["Brønnvika", "Skjærheim", "Vågsetra", "Øyrabakk", "Fjøsvik"]),
    "da": (["Kjær", "Nørgaard", "Næstved", "Køge", "Århus", "Ærø", "Østergaard", "Ravnsborg"],
           ["Løkkebro", "Brændholm", "Søvang"]),
    "sv": (["Åberg", "Ståhl", "Bäckström", "Sjöberg", "Öberg", "Wästberg", "Löfgren", "Jönköping",
            "Västerås", "Örebro", "Norrköping", "Umeå", "Luleå", "Gävle", "Skövde", "Lindholm"],
           ["Tällberga", "Hålldal", "Bröksta", "Öjemark"]),
    "fi": (["Mäkinen", "Häkkinen", "Järvinen", "Kärkkäinen", "Pääkkönen", "Räsänen", "Hämeenlinna",
            "Jyväskylä", "Seinäjoki", "Mäntsälä", "Ähtäri", "Virtanen"],
           ["Kääriälä", "Mänttäri", "Hölttä"]),
    "is": (["Þórsson", "Guðmundsson", "Sæmundsson", "Ásgeirsson", "Húsavík", "Ísafjörður"],
           ["Hvalþór", "Fjarðvík"]),
    "pl": (["Michałowski", "Woźniak", "Wiśniewski", "Łukasik", "Dąbrowski", "Żółkowski", "Górski",
            "Kołodziej", "Wróbel", "Ślusarczyk", "Łódź", "Gdańsk", "Kraków", "Poznań", "Wrocław",
            "Białystok", "Rzeszów", "Toruń", "Nowak"],
           ["Wielgórz", "Przybłęd", "Żarnecki"]),
    "cs": (["Dvořák", "Procházka", "Černý", "Růžička", "Kučera", "Veselý", "Horák", "Němec",
            "Pokorný", "Plzeň", "Třebíč", "Kroměříž", "Beroun"],
           ["Vltářek", "Hořínek"]),
    "sk": (["Kováč", "Horváth", "Šimko", "Baláž", "Košice", "Prešov", "Žilina", "Trenčín"], ["Ďurčan"]),
    "tr": (["Yılmaz", "Öztürk", "Şahin", "Çelik", "Doğan", "Aydın", "Kılıç", "Güneş", "Özdemir",
            "Şimşek", "Çakır", "Ünal", "İzmir", "Eskişehir", "Muğla", "Çorum", "Kütahya", "Niğde"],
           ["Karağaç", "Yıldıztepe", "Gökçeli"]),
    "hu": (["Szűcs", "Kővári", "Bárány", "Fehér", "Vörös", "Pásztor", "Hegedűs", "Győr", "Pécs",
            "Kecskemét", "Nyíregyháza", "Székesfehérvár"], ["Várhegyi", "Őrszeg"]),
    "ro": (["Ștefănescu", "Țurcanu", "Mărgineanu", "Dumitrașcu", "Bălan", "Căpraru", "Brașov",
            "Timișoara", "Iași", "Constanța", "Pitești", "Bârlad"], ["Dâmbovan", "Sălcuța"]),
    "hr": (["Kovačević", "Babić", "Marić", "Jurić", "Knežević", "Božić", "Šimić", "Čakovec",
            "Šibenik", "Požega", "Đurić"], ["Vučedol"]),
    "sl": (["Kranjc", "Žagar", "Zupančič", "Kranj", "Celje", "Ptuj", "Škofja"], ["Bohinček"]),
}
NATIONAL_ASCII = {  # national names without diacritics, for legal forms
    "de": ["Brandt", "Hofmann", "Seidel", "Reinhardt", "Kessler"], "fr": ["Mercier", "Fontaine", "Rousseau"],
    "es": ["Robles", "Serrano", "Vidal"], "pt": ["Loureiro", "Teixeira", "Pinheiro"],
    "it": ["Galbiati", "Ferraresi", "Bonomi", "Castellini"], "nl": ["Verhoeven", "Bakker", "Visser", "Jansen", "Hoekstra"],
    "sv": ["Lindholm", "Bergström"], "no": ["Haugland", "Solberg"], "da": ["Ravnsborg", "Lindberg"],
    "fi": ["Virtanen", "Lehtonen"], "pl": ["Nowak", "Kowalczyk"], "ja": ["Hoshino", "Kitagawa", "Morimoto", "Nakagawa", "Fujimura"],
    "id": ["Sentosa", "Nusantara", "Bintang"],
}
LANG_COUNTRIES = {
    "de": ["DE", "DE", "AT", "CH"], "fr": ["FR", "FR", "BE", "LU", "CA"], "es": ["ES", "MX", "AR", "CL", "CO"],
    "pt": ["PT", "BR"], "it": ["IT"], "no": ["NO"], "da": ["DK"], "sv": ["SE"], "fi": ["FI"], "is": ["IS"],
    "pl": ["PL"], "cs": ["CZ"], "sk": ["SK"], "tr": ["TR"], "hu": ["HU"], "ro": ["RO"], "hr": ["HR"],
    "sl": ["SI"], "sr": ["RS"], "ru": ["RU"], "uk": ["UA"], "bg": ["BG"],
}
# Cyrillic names (invented unless marked as a place) and their countries' legal forms.
CYRILLIC = {
    "ru": (["Ладомир", "Велтранс", "Кронвель", "Зарестан", "Тамирос", "Белогран", "Стройвектор",
            "Северсвет", "Жемчуглес", "Орловит", "Химтранзит", "Ярмелон", "Щеглов и партнёры"],
           "ООО", "OOO", "«»"),
    "uk": (["Дніпровент", "Галичбуд", "Черкасзерно", "Житомирплит", "Поділлятех"], "ТОВ", "TOV", "«»"),
    "bg": (["Родопастрой", "Пирин Текс", "Витоша Логистик", "Странджа Агро"], "ООД", "OOD", ""),
    "sr": (["Јеленак Градња", "Ђурђевић Транспорт", "Шумадија Млин", "Љубичевац", "Ивањица Пласт"],
           "д.о.о.", "d.o.o.", ""),
}
# fmt: on

RU_LATIN = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
                    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o",
                     "p", "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e",
                     "yu", "ya"], strict=True))  # fmt: skip
UK_LATIN = dict(zip("абвгґдеєжзиіїйклмнопрстуфхцчшщьюя",
                    ["a", "b", "v", "h", "g", "d", "e", "ie", "zh", "z", "y", "i", "i", "i", "k", "l",
                     "m", "n", "o", "p", "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "",
                     "iu", "ia"], strict=True))  # fmt: skip
BG_LATIN = dict(zip("абвгдежзийклмнопрстуфхцчшщъьюя",
                    ["a", "b", "v", "g", "d", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p",
                     "r", "s", "t", "u", "f", "h", "ts", "ch", "sh", "sht", "a", "y", "yu", "ya"],
                    strict=True))  # fmt: skip
SR_LATIN = dict(zip("абвгдђежзијклљмнњопрстћуфхцчџш",
                    ["a", "b", "v", "g", "d", "đ", "e", "ž", "z", "i", "j", "k", "l", "lj", "m", "n",
                     "nj", "o", "p", "r", "s", "t", "ć", "u", "f", "h", "c", "č", "dž", "š"],
                    strict=True))  # fmt: skip
CYR_TABLES = {"ru": RU_LATIN, "uk": UK_LATIN, "bg": BG_LATIN, "sr": SR_LATIN}
UK_INITIAL = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}

# fmt: off
ACRONYMS_REAL = [  # real companies: acronym and spelled-out name, each with its own real domain
    ("International Business Machines Corporation", "IBM", "ibm.com"),
    ("Hewlett-Packard Company", "HP Inc.", "hp.com"),
    ("General Electric Company", "GE", "ge.com"),
    ("United Parcel Service, Inc.", "UPS", "ups.com"),
    ("Archer-Daniels-Midland Company", "ADM", "adm.com"),
    ("Bayerische Motoren Werke AG", "BMW AG", "bmw.com"),
    ("The Hongkong and Shanghai Banking Corporation Limited", "HSBC", "hsbc.com"),
    ("Royal Bank of Canada", "RBC", "rbc.com"),
    ("Canadian Imperial Bank of Commerce", "CIBC", "cibc.com"),
    ("Bank of Montreal", "BMO", "bmo.com"),
    ("Kentucky Fried Chicken", "KFC", "kfc.com"),
    ("Tata Consultancy Services Limited", "TCS", "tcs.com"),
    ("Koninklijke Luchtvaart Maatschappij N.V.", "KLM", "klm.com"),
    ("Allgemeiner Deutscher Automobil-Club e.V.", "ADAC", "adac.de"),
    ("Minnesota Mining and Manufacturing Company", "3M", "3m.com"),
    ("American Telephone and Telegraph Company", "AT&T", "att.com"),
    ("Cable News Network", "CNN", "cnn.com"),
    ("Columbia Broadcasting System", "CBS", "cbs.com"),
    ("National Broadcasting Company", "NBC", "nbc.com"),
    ("American Broadcasting Company", "ABC", "abc.com"),
    ("Public Broadcasting Service", "PBS", "pbs.org"),
    ("British Broadcasting Corporation", "BBC", "bbc.co.uk"),
    ("Advanced Micro Devices, Inc.", "AMD", "amd.com"),
    ("Taiwan Semiconductor Manufacturing Company Limited", "TSMC", "tsmc.com"),
    ("Badische Anilin- und Soda-Fabrik", "BASF SE", "basf.com"),
    ("Société nationale des chemins de fer français", "SNCF", "sncf.com"),
    ("Régie autonome des transports parisiens", "RATP", "ratp.fr"),
    ("Aktiebolaget Svenska Kullagerfabriken", "SKF", "skf.com"),
    ("Fabbrica Italiana Automobili Torino", "FIAT", "fiat.com"),
    ("ASEA Brown Boveri Ltd", "ABB Ltd", "abb.com"),
    ("Banco Bilbao Vizcaya Argentaria, S.A.", "BBVA", "bbva.com"),
    ("United Services Automobile Association", "USAA", "usaa.com"),
    ("Det Norske Veritas", "DNV", "dnv.com"),
    ("Schweizerische Bundesbahnen", "SBB", "sbb.ch"),
    ("Österreichische Bundesbahnen", "ÖBB", "oebb.at"),
    ("Hewlett Packard Enterprise Company", "HPE", "hpe.com"),
    ("Toronto-Dominion Bank", "TD Bank", "td.com"),
    ("Electronic Arts Inc.", "EA", "ea.com"),
]
# fmt: on

QWERTY = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]
MULTI_LABEL_SUFFIXES = {
    "co.uk", "com.au", "co.nz", "com.pl", "com.ua", "com.tr", "com.mx", "com.br", "com.ar", "com.co",
    "co.jp", "co.kr", "com.cn", "com.hk", "com.sg", "com.my", "co.id", "co.th", "com.ph", "co.in",
    "co.za", "co.il", "com.ng", "com.eg",
}  # fmt: skip


# --------------------------------------------------------------------------------------------
# Text helpers
# --------------------------------------------------------------------------------------------

GERMAN_E = {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"}
NORDIC_E = {"ø": "oe", "Ø": "Oe", "å": "aa", "Å": "Aa", "æ": "ae", "Æ": "Ae", "ä": "ae", "Ä": "Ae",
            "ö": "oe", "Ö": "Oe"}  # fmt: skip
ALWAYS = {"ß": "ss", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "Ae", "œ": "oe", "Œ": "Oe", "ł": "l",
          "Ł": "L", "ı": "i", "İ": "I", "đ": "d", "Đ": "D", "þ": "th", "Þ": "Th", "ð": "d", "Ð": "D",
          "’": "'", "„": '"', "“": '"', "«": '"', "»": '"'}  # fmt: skip


def strip_marks(text: str, extra: dict[str, str] | None = None) -> str:
    """Diacritics dropped the way a keyboard without them writes the name."""
    out = []
    for ch in text:
        if extra and ch in extra:
            out.append(extra[ch])
        elif ch in ALWAYS:
            out.append(ALWAYS[ch])
        else:
            out.append(
                "".join(
                    c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)
                )
            )
    return "".join(out)


def transliterate(text: str, lang: str, scheme: str) -> str:
    """`scheme` "e" writes German and Nordic letters out (ü -> ue, ø -> oe, å -> aa); "strip"
    drops the marks (ü -> u, ø -> o, å -> a). Croatian/Serbian đ is "dj" under "e"."""
    extra: dict[str, str] = {}
    if scheme == "e":
        if lang == "de":
            extra = dict(GERMAN_E)
        elif lang in ("no", "da", "sv", "fi", "is"):
            extra = dict(NORDIC_E)
        elif lang in ("hr", "sr"):
            extra = {"đ": "dj", "Đ": "Dj"}
    return strip_marks(text, extra)


def usual_scheme(lang: str, rng: random.Random) -> str:
    """How people usually write the language's letters without them: German ü as ue more
    often than u; Danish/Norwegian ø as oe or o; Swedish and Finnish mostly drop the dots;
    Croatian/Serbian đ as dj or d; everything else drops the marks."""
    if lang in ("de", "no", "da"):
        return rng.choice(["e", "e", "strip"])
    if lang in ("sv", "fi"):
        return rng.choice(["strip", "strip", "strip", "strip", "e"])
    if lang in ("hr", "sr"):
        return rng.choice(["e", "strip"])
    return "strip"


def strip_forms(name: str) -> str:
    """The name without trailing legal-form words (for building a domain label)."""
    words = name.split()
    while len(words) > 1 and all(t in LEGAL_TOKENS for t in _raw_words(words[-1])):
        words.pop()
    return " ".join(words)


def cyr_to_latin(text: str, lang: str) -> str:
    table = CYR_TABLES[lang]
    out = []
    for i, ch in enumerate(text):
        low = ch.lower()
        initial = i == 0 or not text[i - 1].isalpha()
        if lang == "uk" and initial and low in UK_INITIAL:
            lat = UK_INITIAL[low]
        elif low in table:
            lat = table[low]
        else:
            out.append({"«": '"', "»": '"'}.get(ch, ch))
            continue
        out.append(lat[:1].upper() + lat[1:] if ch != low and lat else lat)
    return "".join(out)


def ascii_label(text: str, lang: str = "en", hyphen: bool = False) -> str:
    """A domain label from a name: transliterated (German/Nordic letters written out), lower
    case, letters and digits only, words joined directly or with hyphens."""
    scheme = "e" if lang == "de" else "strip"
    words = re.findall(r"[a-z0-9]+", transliterate(text, lang, scheme).lower().replace("&", " "))
    return ("-" if hyphen else "").join(words)


def a_label(label: str) -> str:
    """IDNA 2008 A-label of a lower-case label (ß and ς are kept, not mapped)."""
    if label.isascii():
        return label
    return "xn--" + unicodedata.normalize("NFC", label).encode("punycode").decode("ascii")


def registrable(raw: str) -> str:
    """The registrable domain of a domain, URL or email (for the checks, not for the set)."""
    text = raw.strip().lower()
    if "@" in text:
        text = text.rsplit("@", 1)[1]
    text = re.sub(r"^[a-z]+://", "", text).split("/", 1)[0].split("?", 1)[0].split(":", 1)[0]
    labels = [a_label(x) for x in text.rstrip(".").split(".")]
    n = 3 if ".".join(labels[-2:]) in MULTI_LABEL_SUFFIXES else 2
    return ".".join(labels[-n:])


def second_level(raw: str) -> str:
    return registrable(raw).split(".", 1)[0]


def edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


def _raw_words(text: str) -> list[str]:
    text = strip_marks(text).lower().replace("&", " and ").replace("+", " and ")
    return re.findall(r"[a-z0-9]+", text.replace("'", ""))


def _form_sequences() -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """Every way of writing a legal form as a word sequence, longest first: all of them (for
    the end of a name) and those written before a name."""
    tail: set[tuple[str, ...]] = set()
    lead: set[tuple[str, ...]] = set()
    for country in COUNTRIES:
        for form in country.forms:
            texts = [form.abbr, form.full or "", form.english or "", *form.variants]
            seqs = {tuple(_raw_words(t)) for t in texts if t}
            tail |= seqs
            if form.prefix or form.full_prefix:
                lead |= seqs
    return sorted(tail, key=lambda q: (-len(q), q)), sorted(lead, key=lambda q: (-len(q), q))


FORM_TAILS, FORM_LEADS = _form_sequences()
LEGAL_TOKENS = frozenset(w for seq in FORM_TAILS for w in seq)


def tokens(name: str) -> list[str]:
    """A name's words for the checks: marks dropped, lower case, & as "and", legal forms
    written before or after the name and a leading (or ", The" trailing) "the" removed."""
    words = _raw_words(name)
    changed = True
    while changed and len(words) > 1:
        changed = False
        if words[-1] == "the" or words[0] == "the":
            words = words[:-1] if words[-1] == "the" else words[1:]
            changed = True
            continue
        for seq in FORM_TAILS:
            if len(words) > len(seq) and tuple(words[-len(seq) :]) == seq:
                words, changed = words[: -len(seq)], True
                break
        else:
            for seq in FORM_LEADS:
                if len(words) > len(seq) and tuple(words[: len(seq)]) == seq:
                    words, changed = words[len(seq) :], True
                    break
    return words


def _common_vocab() -> frozenset[str]:
    texts = [*COMMON_LEADS, *TWO_WORD_LEADS, *GENERIC_TAILS, *PARENT_TAILS, *CITIES, *BANK_PLACES,
             *BANK_TEMPLATES, *NATURE_LEADS, *QUALIFIERS, *COMMON_SURNAMES, *FIRM_TAILS,
             *EN_DESCRIPTORS, *SECOND_DESCRIPTORS, *THE_TAILS, "of", "and", "the", "children s"]  # fmt: skip
    for phrases in SECTORS.values():
        texts.extend(phrases)
    for words in LOCAL_WORDS.values():
        texts.extend(words)
    vocab: set[str] = set()
    for text in texts:
        vocab.update(tokens(text.replace("{p}", "")))
    return frozenset(vocab)


COMMON_VOCAB = _common_vocab()


# --------------------------------------------------------------------------------------------
# Stems
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stem:
    text: str
    origin: str  # invented | compound | surname | place | national | national_invented | cyrillic
    lang: str = "en"
    parts: tuple[str, ...] = ()  # a compound's two words

    @property
    def invented(self) -> bool:
        return self.origin in ("invented", "compound", "national_invented", "cyrillic")


def _pronounceable(word: str) -> bool:
    if not 7 <= len(word) <= 11:
        return False
    if any(b in word for b in BLOCKED):
        return False
    if re.search(r"(.)\1", word) or re.search(r"(...).*\1", word):
        return False
    if any(pair not in ("ia", "io") for pair in re.findall(r"(?=([aeiouy]{2}))", word)):
        return False
    return not re.search(
        r"[^aeiouy]{3}", word.replace("str", "s").replace("tr", "t").replace("dr", "d")
    )


def invented_words(rng: random.Random, count: int, avoid: set[str]) -> list[str]:
    words: list[str] = []
    seen = set(avoid)
    while len(words) < count:
        word = rng.choice(SYL_FIRST) + rng.choice(SYL_MID) + rng.choice(SYL_END)
        if word in seen or not _pronounceable(word):
            continue
        seen.add(word)
        words.append(word.capitalize())
    return words


class Stems:
    """Deals out distinctive stems; invented ones are never dealt twice."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        known = {w.lower() for w in COMMON_VOCAB} | {s.lower() for s in SURNAMES + PLACES}
        self.invented = [Stem(w, "invented") for w in invented_words(rng, 2600, known)]
        compounds = []
        for a in RARE_PARTS_A:
            for b in RARE_PARTS_B:
                word = a + b
                if a[-1].lower() == b[0] or len(word) > 14:
                    continue
                compounds.append(Stem(word, "compound", parts=(a, b.capitalize())))
        rng.shuffle(compounds)
        self.compounds = self._spread(compounds)
        self.surnames = [Stem(s, "surname") for s in SURNAMES]
        self.places = [Stem(p, "place") for p in PLACES]
        self._cycles = {"surname": 0, "place": 0}
        self.used = Counter[str]()  # origins of the distinctive names in pairs that were kept
        self.pending: list[str] = []  # origins taken for the pair being built

    @staticmethod
    def _spread(compounds: list[Stem]) -> list[Stem]:
        """At most one compound per first part in a row, so neighbours do not share a part."""
        out: list[Stem] = []
        last_parts: list[str] = []
        pool = list(compounds)
        while pool:
            for i, stem in enumerate(pool):
                if stem.parts[0] not in last_parts[-8:] and stem.parts[1] not in last_parts[-8:]:
                    out.append(pool.pop(i))
                    last_parts.extend(stem.parts)
                    break
            else:
                out.append(pool.pop(0))
        return out

    def take(self, origin: str | None = None, invented_share: float = 0.66) -> Stem:
        if origin is None:
            r = self.rng.random()
            if r < invented_share:
                origin = "invented" if self.rng.random() < 0.72 else "compound"
            else:
                origin = "surname" if self.rng.random() < 0.6 else "place"
        if origin == "invented":
            stem = self.invented.pop()
        elif origin == "compound":
            stem = self.compounds.pop()
        else:
            pool = self.surnames if origin == "surname" else self.places
            index = self._cycles[origin] % len(pool)
            if index == 0:
                self.rng.shuffle(pool)
            self._cycles[origin] += 1
            stem = pool[index]
        self.pending.append(stem.origin)
        return stem

    def national(self, lang: str, with_marks: bool = True) -> Stem:
        real, invented = NATIONAL.get(lang, ([], []))
        if with_marks:
            pool = [(t, "national") for t in real if not t.isascii()]
            pool += [(t, "national_invented") for t in invented]
        else:
            pool = [(t, "national") for t in NATIONAL_ASCII.get(lang, [])]
        text, origin = self.rng.choice(pool)
        self.pending.append(origin)
        return Stem(text, origin, lang)

    def note(self, origin: str, n: int = 1) -> None:
        self.pending.extend([origin] * n)

    def keep(self) -> None:
        self.used.update(self.pending)
        self.pending.clear()


# --------------------------------------------------------------------------------------------
# Building names and domains
# --------------------------------------------------------------------------------------------


def attach(core: str, form: str | None, country: Country | None = None, *, prefix: bool = False,
           comma: bool = False, quoted: bool = False) -> str:  # fmt: skip
    """The core name with a legal form after it (or before it, for prefix forms)."""
    if not form:
        return core
    if prefix:
        if quoted and country and country.quote:
            q = country.quote
            return f"{form} {q[0]}{core}{q[-1]}"
        return f"{form} {core}"
    sep = ", " if comma and form in COMMA_BEFORE else " "
    return f"{core}{sep}{form}"


def render(core: str, country: Country, form: Form, rng: random.Random, text: str | None = None) -> str:  # fmt: skip
    """The core with `text` (default: the form's usual abbreviation) placed as the form is."""
    text = text or form.abbr
    return attach(core, text, country, prefix=form.prefix, comma=rng.random() < 0.3,
                  quoted=rng.random() < 0.6)  # fmt: skip


def tld_for(country: Country, rng: random.Random) -> str:
    return rng.choice(country.tlds)


def make_domain(label: str, country: Country, invented: bool, rng: random.Random) -> str:
    return f"{label}.{tld_for(country, rng) if invented else 'example'}"


def split_domain(domain: str) -> tuple[str, str]:
    reg = registrable(domain)
    label, suffix = reg.split(".", 1)
    return label, suffix


ROLE_MAILBOXES = ["sales", "info", "procurement", "it", "accounts", "purchasing", "hello", "office"]
PATHS = ["contact", "about", "en/about-us", "impressum", "en-gb/contact", "company", "kontakt"]
SUBDOMAINS = ["shop", "portal", "eu", "mail", "careers", "store", "app", "intranet"]


def dress(domain: str, rng: random.Random, real: bool = False) -> str:
    """The domain as people paste it: an email, a URL, www or another subdomain, capitals."""
    choices = ["www", "https", "https_path", "http", "sub", "upper", "dot", "email", "email2"]
    if real:
        choices = ["www", "https", "https_path", "upper"]
    how = rng.choice(choices)
    if how == "www":
        return f"www.{domain}"
    if how == "https":
        return f"https://www.{domain}/"
    if how == "https_path":
        return f"https://{rng.choice(['www.', ''])}{domain}/{rng.choice(PATHS)}"
    if how == "http":
        return f"http://{domain}"
    if how == "sub":
        return f"{rng.choice(SUBDOMAINS)}.{domain}"
    if how == "upper":
        return domain.upper()
    if how == "dot":
        return f"{domain}."
    if how == "email":
        return f"{rng.choice(ROLE_MAILBOXES)}@{domain}"
    return f"{rng.choice(ROLE_MAILBOXES)}@{rng.choice(['mail.', 'eu.', 'corp.'])}{domain}"


REGION_SUFFIXES = ["group", "-group", "hq", "-global", "-intl", "-online", "global", "-holding"]
REGION_MARKETS = ["US", "GB", "DE", "FR", "NL", "ES", "IT", "CH", "AT", "SE", "DK", "NO", "PL", "IE",
                  "CA", "AU", "SG", "JP", "BR", "MX", "IN", "BE"]  # fmt: skip


def subsidiary_domain(domain: str, rng: random.Random, descriptor: str | None = None) -> str:
    """Another registrable domain of the same company: the label with a regional or group
    suffix, or the label with its descriptor, on the same or a country's TLD."""
    label, suffix = split_domain(domain)
    options = ["suffix", "region"]
    if descriptor:
        options.append("descriptor")
    how = rng.choice(options)
    if how == "descriptor" and descriptor and ascii_label(descriptor) not in label:
        return f"{label}{rng.choice(['', '-'])}{ascii_label(descriptor)}.{suffix}"
    if how == "region" and suffix != "example":
        country = BY_CODE[rng.choice(REGION_MARKETS)]
        code = {"GB": "uk"}.get(country.code, country.code.lower())
        return f"{label}-{code}.{country.tlds[0]}"
    tail = rng.choice([t for t in REGION_SUFFIXES if not label.endswith(t.strip("-"))])
    return f"{label}{tail}.{suffix}"


def other_tld(domain: str, rng: random.Random) -> str:
    """The same label on another country's TLD (only for invented labels)."""
    label, suffix = split_domain(domain)
    if rng.random() < 0.6:
        return f"{label}.{rng.choice([t for t in ('com', 'net', 'eu', 'io') if t != suffix])}"
    return f"{label}.{rng.choice([t for t in MAJOR_TLDS if t != suffix])}"


def related_domain(domain: str, invented: bool, rng: random.Random, descriptor: str | None = None,
                   p_same: float = 0.5) -> str:  # fmt: skip
    """A domain of the same company: mostly the same registrable domain (as typed or dressed),
    otherwise another TLD (invented labels only) or a subsidiary's domain."""
    r = rng.random()
    if r < p_same * 0.7:
        return domain
    if r < p_same:
        return dress(domain, rng)
    if invented and rng.random() < 0.5:
        return other_tld(domain, rng)
    return subsidiary_domain(domain, rng, descriptor)


def core_name(stem: Stem, country: Country, rng: random.Random, english: bool = False,
              min_words: int = 1) -> tuple[str, str | None]:  # fmt: skip
    """The stem with 0-2 descriptors in the country's language; returns (core, descriptor)."""
    lang = "en" if english else country.lang
    pool = LOCAL_WORDS.get(lang, EN_DESCRIPTORS) if lang != "en" else EN_DESCRIPTORS
    if lang not in ("en", "ja", "id") and rng.random() < 0.35:
        pool = EN_DESCRIPTORS  # many European companies use English descriptors
    words = [stem.text]
    r = rng.random()
    descriptor = None
    if r >= 0.18 or min_words > 1 or not stem.invented:  # a surname or place alone is too common
        descriptor = rng.choice(pool)
        words.append(descriptor)
        if r > 0.88 and pool is EN_DESCRIPTORS:
            fits = [
                k for k, after in SECOND_DESCRIPTORS.items() if after is None or descriptor in after
            ]
            second = rng.choice(fits)
            if second != descriptor:
                words.append(second)
    if country.code == "ID" and not english and rng.random() < 0.5:
        words.append("Indonesia")
    return " ".join(words), descriptor


def company_domain(stem: Stem, core: str, country: Country, rng: random.Random,
                   descriptor: str | None) -> str:  # fmt: skip
    """An invented stem's domain is the stem (sometimes with its descriptor) on a real TLD;
    any other name's is the whole core name on .example."""
    if (stem.invented and stem.origin != "national_invented") or stem.origin == "cyrillic":
        label = ascii_label(stem.text, stem.lang)
        if descriptor and rng.random() < 0.3:
            label += rng.choice(["", "-"]) + ascii_label(descriptor, stem.lang)
        return make_domain(label, country, True, rng)
    if stem.origin == "national_invented":
        return make_domain(ascii_label(stem.text, stem.lang), country, True, rng)
    return make_domain(ascii_label(core, stem.lang, hyphen=rng.random() < 0.5), country, False, rng)


def generic_name(rng: random.Random) -> tuple[str, str]:
    """A name of common words only ("Summit Dental Group") and its .example domain."""
    lead = rng.choice(COMMON_LEADS + TWO_WORD_LEADS)
    phrase = rng.choice(rng.choice(list(SECTORS.values())))
    name = f"{lead} {phrase}"
    return name, f"{ascii_label(name, hyphen=rng.random() < 0.4)}.example"


def typo(word: str, rng: random.Random, allow_first_letter: bool = True) -> str:
    """One insertion, deletion, keyboard-neighbour substitution or transposition."""

    def neighbours(ch: str) -> str:
        low = ch.lower()
        for r, row in enumerate(QWERTY):
            if low in row:
                i = row.index(low)
                near = row[max(i - 1, 0) : i] + row[i + 1 : i + 2]
                for other in (r - 1, r + 1):
                    if 0 <= other < len(QWERTY) and i < len(QWERTY[other]):
                        near += QWERTY[other][i]
                return near
        return ""

    for _ in range(50):
        lo = 0 if allow_first_letter and rng.random() < 0.1 else 1
        pos = rng.randrange(lo, len(word) - 1)
        ch = word[pos]
        if not ch.isascii() or not ch.isalpha():
            continue
        ops = (
            ["substitute", "transpose"]
            if pos == 0
            else ["insert", "delete", "substitute", "transpose"]
        )
        op = rng.choice(ops)
        case = str.upper if ch.isupper() else str.lower
        if op == "insert":
            extra = rng.choice([ch.lower(), *neighbours(ch)])
            new = word[: pos + 1] + extra + word[pos + 1 :]
        elif op == "delete":
            new = word[:pos] + word[pos + 1 :]
        elif op == "substitute":
            near = neighbours(ch)
            if not near:
                continue
            new = word[:pos] + case(rng.choice(near)) + word[pos + 1 :]
        else:
            nxt = word[pos + 1]
            if nxt.lower() == ch.lower() or not nxt.isalpha():
                continue
            if pos == 0:
                new = nxt.upper() + ch.lower() + word[2:]
            else:
                new = word[:pos] + nxt + ch + word[pos + 2 :]
        if new != word and len(new) >= 4:
            return new
    raise RuntimeError(f"no typo for {word!r}")


# --------------------------------------------------------------------------------------------
# The set
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    name_a: str
    domain_a: str
    name_b: str
    domain_b: str
    same: int
    kind: str


class Bench:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.stems = Stems(self.rng)
        self.pairs: list[Pair] = []
        self.keys: set[tuple[str, str, str, str]] = set()
        self.legal_countries: Counter[str] = Counter()
        self.rejected: Counter[str] = Counter()
        self.typo_vocab = (
            {w.lower() for w in COMMON_VOCAB}
            | {s.text.lower() for s in self.stems.invented + self.stems.compounds}
            | {s.lower() for s in SURNAMES + PLACES}
        )

    # --- adding and checking ---------------------------------------------------------------

    def add(self, kind: str, a: str, da: str, b: str, db: str, same: int) -> bool:
        key = (a, da, b, db)
        if key in self.keys or (b, db, a, da) in self.keys:
            self.rejected[kind] += 1
            return False
        problem = check(kind, a, da, b, db, same)
        if problem:
            self.rejected[kind] += 1
            return False
        self.keys.add(key)
        self.stems.keep()
        if self.rng.random() < 0.5:
            a, da, b, db = b, db, a, da
        self.pairs.append(Pair(a, da, b, db, same, kind))
        return True

    def fill(self, kind: str, make: Callable[[], bool]) -> None:
        target = TARGETS[kind]
        tries = 0
        while sum(p.kind == kind for p in self.pairs) < target:
            tries += 1
            if tries > target * 40:
                raise RuntimeError(f"{kind}: only {sum(p.kind == kind for p in self.pairs)} pairs")
            self.stems.pending.clear()
            make()

    def build(self) -> list[Pair]:
        for kind in TARGETS:
            self.fill(kind, getattr(self, kind))
        self.rng.shuffle(self.pairs)
        return self.pairs

    # --- positives -------------------------------------------------------------------------

    def legal_form(self) -> bool:
        rng = self.rng
        n = sum(p.kind == "legal_form" for p in self.pairs)
        country = COUNTRIES[(n + self.rejected["legal_form"]) % len(COUNTRIES)]
        form = rng.choice(country.forms)
        ops = ["drop", "drop", "drop"]
        if form.full:
            ops += ["full", "full"]
        if form.variants:
            ops += ["variant", "variant"]
        if form.english:
            ops += ["english", "english"]
        if len(country.forms) > 1:
            ops.append("other_form")
        ops.append("other_country")
        op = rng.choice(ops)
        generic = country.lang == "en" and op != "other_country" and rng.random() < 0.15
        if generic:
            core, domain = generic_name(rng)
            invented, descriptor = False, None
            stem = Stem(core, "common")
            self.stems.note("common")
        else:
            if country.lang in NATIONAL_ASCII and rng.random() < 0.3:
                stem = self.stems.national(country.lang, with_marks=False)
            elif country.lang == "en" and rng.random() < 0.35:
                stem = self.stems.take(rng.choice(["surname", "place"]))
            else:
                stem = self.stems.take(rng.choice(["invented"] * 3 + ["compound"]))
            core, descriptor = core_name(stem, country, rng, english=op == "other_country")
            domain = company_domain(stem, core, country, rng, descriptor)
            invented = stem.invented
        name_a = render(core, country, form, rng)
        countries = [country.code]
        if op == "drop":
            name_b = core
        elif op == "full" and form.full:
            if form.full_prefix and rng.random() < 0.5:
                name_b = f"{form.full} {core}"
            else:
                name_b = attach(core, form.full, country, prefix=form.prefix)
        elif op == "variant":
            name_b = render(core, country, form, rng, rng.choice(form.variants))
        elif op == "english" and form.english:
            name_b = attach(core, form.english, comma=rng.random() < 0.3)
        elif op == "other_form":
            other = rng.choice([f for f in country.forms if f is not form])
            name_b = render(core, country, other, rng)
        else:
            if not invented:
                return False
            other_country = BY_CODE[
                rng.choice([c for c in REGION_MARKETS if BY_CODE[c].tlds[0] != country.tlds[0]])
            ]
            name_b = render(core, other_country, rng.choice(other_country.forms), rng)
            countries.append(other_country.code)
            label, _ = split_domain(domain)
            db = f"{label}.{other_country.tlds[0]}"
            if registrable(db) == registrable(domain):
                return False
            ok = self.add("legal_form", name_a, domain, name_b, db, 1)
            if ok:
                self.legal_countries.update(countries)
            return ok
        if generic or op == "other_form" or stem.origin == "national":
            db = domain if rng.random() < 0.6 else dress(domain, rng)
        else:
            db = related_domain(domain, invented, rng, descriptor, p_same=0.5)
        ok = self.add("legal_form", name_a, domain, name_b, db, 1)
        if ok:
            self.legal_countries.update(countries)
        return ok

    def transliteration(self) -> bool:
        rng = self.rng
        langs = ["de"] * 8 + ["no", "da", "sv", "fi", "is"] * 1 + ["no", "sv"] + ["fr"] * 3 + \
            ["es"] * 3 + ["pt"] * 2 + ["it"] + ["pl"] * 3 + ["cs", "sk"] * 1 + ["cs"] + ["tr"] * 3 + \
            ["hu"] * 2 + ["ro"] * 2 + ["hr", "sl"] + ["cyr"] * 5  # fmt: skip
        lang = rng.choice(langs)
        if lang == "cyr":
            return self._cyrillic()
        country = BY_CODE[rng.choice(LANG_COUNTRIES[lang])]
        stem = self.stems.national(lang)
        core, descriptor = core_name(stem, country, rng)
        form = rng.choice(country.forms) if rng.random() < 0.6 else None
        name_a = render(core, country, form, rng) if form else core
        name_b = transliterate(name_a, lang, usual_scheme(lang, rng))
        if name_b == name_a:
            return False
        domain = company_domain(stem, core, country, rng, descriptor)
        # a real surname or town with a trade word (Müller Logistik) names many companies:
        # only the same domain makes them one customer
        p_same = 1.0 if stem.origin == "national" else 0.55
        db = related_domain(domain, stem.invented, rng, descriptor, p_same=p_same)
        return self.add("transliteration", name_a, domain, name_b, db, 1)

    def _cyrillic(self, kind: str = "transliteration") -> bool:
        rng = self.rng
        lang = rng.choice(["ru", "ru", "ru", "uk", "bg", "sr", "sr"])
        names, form_cyr, form_lat, quotes = CYRILLIC[lang]
        cyr = rng.choice(names)
        latin = cyr_to_latin(cyr, lang)
        if lang == "sr" and rng.random() < 0.4:
            latin = transliterate(latin, "sr", rng.choice(["e", "strip"]))
        country = BY_CODE[LANG_COUNTRIES[lang][0]]
        self.stems.note("cyrillic")
        if lang in ("ru", "uk"):
            name_a = (
                f"{form_cyr} {quotes[0]}{cyr}{quotes[1]}"
                if rng.random() < 0.7
                else f"{form_cyr} {cyr}"
            )
            form = country.forms[0]
            name_b = rng.choice([f'{form_lat} "{latin}"', f"{form_lat} {latin}",
                                 f"{latin} {form.english}", latin, f'{form.english} "{latin}"'])  # fmt: skip
        else:
            name_a = f"{cyr} {form_cyr}" if rng.random() < 0.8 else cyr
            name_b = rng.choice([f"{latin} {form_lat}", latin, f"{latin} {form_lat.upper()}"])
        label = ascii_label(latin.replace("đ", "dj"), "en")
        domain = f"{label}.{country.tlds[0]}"
        db = related_domain(domain, True, rng, None, p_same=0.6)
        return self.add(kind, name_a, domain, name_b, db, 1)

    def _typo_company(self) -> tuple[str, str, Stem, Country, str | None, str]:
        """A company whose first word is a distinctive stem of 5+ letters: (name, domain, stem,
        country, descriptor, core)."""
        rng = self.rng
        while True:
            stem = self.stems.take()
            if len(stem.text) >= 5 and " " not in stem.text:
                break
        country = rng.choice(COUNTRIES[:6]) if rng.random() < 0.6 else rng.choice(COUNTRIES)
        if not stem.invented:
            country = rng.choice(COUNTRIES[:6])
        core, descriptor = core_name(stem, country, rng, english=not stem.invented, min_words=2)
        form = rng.choice(country.forms) if rng.random() < 0.6 else None
        name = render(core, country, form, rng) if form else core
        if form and form.prefix:
            name = attach(core, form.abbr, prefix=True)
        return (
            name,
            company_domain(stem, core, country, rng, descriptor),
            stem,
            country,
            descriptor,
            core,
        )

    def typo_first_word(self) -> bool:
        rng = self.rng
        name, domain, stem, _, descriptor, _ = self._typo_company()
        words = name.split(" ")
        i = words.index(stem.text)
        if i != 0:
            return False
        bad = typo(stem.text, rng)
        if bad.lower() in self.typo_vocab:
            return False
        name_b = " ".join([bad, *words[1:]])
        db = related_domain(domain, stem.invented, rng, descriptor, p_same=0.5)
        return self.add("typo_first_word", name, domain, name_b, db, 1)

    def typo_other_word(self) -> bool:
        rng = self.rng
        name, domain, stem, _, descriptor, core = self._typo_company()
        if rng.random() < 0.15:  # a written-out legal form
            form = rng.choice([f for c in COUNTRIES[:6] for f in c.forms if f.full])
            name = attach(core, form.full, prefix=form.prefix)
        words = name.split(" ")
        candidates = [i for i, w in enumerate(words) if i > 0 and len(w) >= 5 and w.isalpha()
                      and w.isascii()]  # fmt: skip
        if not candidates:
            return False
        i = rng.choice(candidates)
        bad = typo(words[i], rng)
        if bad.lower() in self.typo_vocab:
            return False
        name_b = " ".join([*words[:i], bad, *words[i + 1 :]])
        db = related_domain(domain, stem.invented, rng, descriptor, p_same=0.5)
        return self.add("typo_other_word", name, domain, name_b, db, 1)

    def ampersand_the_punct(self) -> bool:
        rng = self.rng
        op = rng.choice(["amp", "amp", "the", "the", "initials", "hyphen", "hyphen", "case",
                         "comma", "apostrophe", "spacing", "possessive"])  # fmt: skip
        us = BY_CODE["US"]
        same_domain = False
        if op == "amp":
            shape = rng.choice(["two", "sons", "co", "partners", "industry"])
            s1 = self.stems.take(rng.choice(["surname", "surname", "invented", "compound"]))
            if shape == "two":
                s2 = self.stems.take("surname")
                if s2.text == s1.text:
                    return False
                core = f"{s1.text} & {s2.text}"
            elif shape == "sons":
                core = f"{s1.text} & {rng.choice(['Sons', 'Daughters', 'Sons Ltd'])}"
            elif shape == "co":
                core = f"{s1.text} & Co."
            elif shape == "partners":
                core = f"{s1.text} & Partners"
            else:
                core = f"{s1.text} {rng.choice(['Freight & Logistics', 'Heating & Cooling', 'Tool & Die', 'Oil & Gas', 'Sand & Gravel', 'Print & Design', 'Lock & Key'])}"
            a = core
            b = core.replace(" & ", rng.choice([" and ", " and ", " And ", " + ", "&"]))
            stem = s1
        elif op == "the":
            stem = self.stems.take()
            core = f"{stem.text} {rng.choice(THE_TAILS)}"
            a = f"The {core}"
            if rng.random() < 0.8:
                b = core
                if rng.random() < 0.3:
                    form = rng.choice(EN_FORMS)
                    a, b = attach(a, form, comma=True), attach(b, form)
            else:
                b = f"{core}, The"
        elif op == "initials":
            if rng.random() < 0.5:
                letters = "".join(
                    rng.choice("ABCDEFGHJKLMNPRSTW") for _ in range(rng.choice([2, 3]))
                )
                tail = rng.choice(
                    ["Holdings", "Industries", "Group", "Logistics", "Electric", "Supply"]
                )
                a = ".".join(letters) + ". " + tail
                b = rng.choice([letters, " ".join(letters)]) + " " + tail
                same_domain = True
                stem = Stem(letters, "common")
                self.stems.note("common")
            else:
                stem = self.stems.take("surname")
                initials = rng.choice(["J.R.", "A.J.", "W.T.", "C.H.", "E.M.", "R.L."])
                tail = rng.choice(["& Co.", "& Sons", "Construction", "Realty", "Trucking"])
                a = f"{initials} {stem.text} {tail}"
                b = f"{rng.choice([initials.replace('.', ''), initials.replace('.', '. ').strip()])} {stem.text} {tail}"
        elif op == "hyphen":
            stem = self.stems.take("compound")
            p1, p2 = stem.parts
            tail = rng.choice(EN_DESCRIPTORS)
            forms = [f"{p1}-{p2}", f"{p1} {p2}", f"{p1}{p2}", stem.text, f"{p1}-{p2.lower()}"]
            a, b = rng.sample(forms, 2)
            if a == b:
                return False
            a, b = f"{a} {tail}", f"{b} {tail}"
        elif op == "case":
            stem = self.stems.take()
            country = rng.choice(COUNTRIES)
            core, _ = core_name(stem, country, rng, english=not stem.invented)
            a = (
                render(core, country, rng.choice(country.forms), rng)
                if rng.random() < 0.5
                else core
            )
            b = rng.choice([a.upper(), a.lower()])
        elif op == "comma":
            s1, s2, s3 = (self.stems.take("surname") for _ in range(3))
            if len({s1.text, s2.text, s3.text}) < 3:
                return False
            stem = s1
            tail = rng.choice(["LLP", "P.C.", "Inc.", "CPAs", "Architects"])
            a = f"{s1.text}, {s2.text} & {s3.text}, {tail}"
            b = rng.choice([f"{s1.text} {s2.text} & {s3.text} {tail.replace('.', '')}",
                            f"{s1.text}, {s2.text} & {s3.text} {tail}"])  # fmt: skip
        elif op == "apostrophe":
            irish = ["Halloran", "Rourke", "Donoghue", "Keeffe", "Connell", "Flaherty", "Callaghan",
                     "Driscoll", "Mahony", "Shaughnessy", "Dowd", "Leary"]  # fmt: skip
            name = "O'" + rng.choice(irish)
            if rng.random() < 0.3:
                name = rng.choice(["D'Amico", "D'Angelo", "D'Arcy", "L'Estrange"])
            stem = Stem(name, "surname")
            self.stems.note("surname")
            tail = rng.choice(EN_DESCRIPTORS)
            a = f"{name} {tail}"
            b = f"{rng.choice([name.replace(chr(39), ''), name.replace(chr(39), ' '), name.replace(chr(39), '’')])} {tail}"
        elif op == "possessive":
            stem = self.stems.take("surname")
            if stem.text.endswith(("s", "x", "z")):
                return False
            tail = rng.choice(["Bakery", "Hardware", "Garage", "Pharmacy", "Nursery", "Auto Body"])
            a = f"{stem.text}'s {tail}"
            b = rng.choice([f"{stem.text}s {tail}", f"{stem.text}’s {tail}", f"{stem.text} {tail}"])
        else:  # spacing
            stem = self.stems.take()
            core, _ = core_name(stem, us, rng, english=True, min_words=2)
            a = core
            words = core.split(" ")
            b = rng.choice(["  ".join(words), core + " ", " " + core, core.replace(" ", "  ", 1)])
            if rng.random() < 0.3:
                a, b = attach(a, "Co., Ltd."), attach(b.strip(), "Co.,Ltd.")
        if a == b:
            return False
        if stem.origin == "common":
            domain = f"{ascii_label(a)}.example"
        else:
            domain = company_domain(stem, strip_forms(a), us, rng, None)
        if same_domain or (not stem.invented and op in ("case", "spacing")):
            db = domain if rng.random() < 0.7 else dress(domain, rng)
        else:
            db = related_domain(domain, stem.invented, rng, None, p_same=0.5)
        return self.add("ampersand_the_punct", a, domain, b, db, 1)

    def word_order(self) -> bool:
        rng = self.rng
        stem = self.stems.take(rng.choice(["invented", "invented", "compound", "place"]))
        lead, trail, where = rng.choice([
            ("Hotel {s}", "{s} Hotel", "DE AT CH NL FR IT US GB"),
            ("Restaurant {s}", "{s} Restaurant", "DE AT CH NL US GB"),
            ("Bank of {s}", "{s} Bank", "US GB IE CA AU"), ("Galerie {s}", "{s} Galerie", "DE AT FR"),
            ("Studio {s}", "{s} Studio", "US GB DE NL"), ("Camping {s}", "{s} Camping", "NL DE FR"),
            ("Brauerei {s}", "{s} Brauerei", "DE AT"), ("Weingut {s}", "{s} Weingut", "DE AT"),
            ("Clinica {s}", "{s} Clinica", "IT ES"), ("Hotel {s}", "{s} Hotel", "ES IT")])  # fmt: skip
        a, b = lead.format(s=stem.text), trail.format(s=stem.text)
        country = BY_CODE[rng.choice(where.split())]
        if rng.random() < 0.4:
            form = rng.choice(country.forms)
            if not form.prefix:
                a, b = attach(a, form.abbr), attach(b, form.abbr)
        domain = company_domain(stem, strip_forms(b), country, rng, None)
        db = domain if rng.random() < 0.6 else dress(domain, rng)
        return self.add("word_order", a, domain, b, db, 1)

    def tld_variant(self) -> bool:
        rng = self.rng
        stem = self.stems.take(rng.choice(["invented", "invented", "compound"]))
        c1, c2 = rng.sample(COUNTRIES, 2)
        if c1.lang not in ("en", "de", "fr", "nl", "es", "it", "sv", "no", "da", "fi", "pl"):
            c1 = rng.choice(COUNTRIES[:12])
        core, descriptor = core_name(stem, c1, rng, english=True)
        name = core
        if rng.random() < 0.4:
            name = render(core, c1, rng.choice(c1.forms), rng)
        label = ascii_label(stem.text)
        if descriptor and rng.random() < 0.25:
            label += "-" + ascii_label(descriptor)
        t1 = rng.choice(c1.tlds)
        t2 = rng.choice(c2.tlds) if rng.random() < 0.3 else rng.choice(MAJOR_TLDS)
        if t1 == t2:
            return False
        da, db = f"{label}.{t1}", f"{label}.{t2}"
        if rng.random() < 0.25:
            db = dress(db, rng)
        return self.add("tld_variant", name, da, name, db, 1)

    def domain_form(self) -> bool:
        rng = self.rng
        if rng.random() < 0.3:
            name, domain = generic_name(rng)
            self.stems.note("common")
            if rng.random() < 0.5:
                name = attach(name, rng.choice(["Inc.", "LLC", "Ltd", "Corp."]))
        else:
            stem = self.stems.take()
            country = rng.choice(COUNTRIES)
            core, descriptor = core_name(stem, country, rng, english=not stem.invented)
            name = (
                render(core, country, rng.choice(country.forms), rng)
                if rng.random() < 0.5
                else core
            )
            domain = company_domain(stem, core, country, rng, descriptor)
        name_b = name if rng.random() < 0.5 else rng.choice([name.upper(), tokens_title(name)])
        da = domain if rng.random() < 0.5 else dress(domain, rng)
        db = dress(domain, rng)
        if da == db:
            return False
        return self.add("domain_form", name, da, name_b, db, 1)

    def idn(self) -> bool:
        rng = self.rng
        if rng.random() < 0.12:  # a Russian .рф domain
            names, form_cyr, _, quotes = CYRILLIC["ru"]
            cyr = rng.choice([n for n in names if " " not in n])
            self.stems.note("cyrillic")
            name = f"{form_cyr} {quotes[0]}{cyr}{quotes[1]}"
            unicode_domain = f"{cyr.lower()}.рф"
            name_b = name if rng.random() < 0.5 else f"{cyr_to_latin(cyr, 'ru')} LLC"
        else:
            lang = rng.choice(
                ["de", "de", "de", "no", "da", "sv", "fi", "tr", "pl", "cs", "hu", "fr", "es"]
            )
            stem = self.stems.national(lang)
            country = BY_CODE[LANG_COUNTRIES[lang][0]]
            if "ß" not in stem.text and rng.random() < 0.1 and lang == "de":
                stem = Stem(rng.choice(["Weiß", "Groß", "Strauß", "Mäßlinger", "Nößler", "Brößler"]),
                            "national", "de")  # fmt: skip
            core, _ = core_name(stem, country, rng, min_words=2)
            name = (
                core
                if rng.random() < 0.5
                else render(core, country, rng.choice(country.forms), rng)
            )
            base = stem.text.lower() if stem.origin == "national_invented" else core.lower()
            label = "-".join(re.findall(r"\w+", base.replace("&", " ")))
            tld = rng.choice(country.tlds) if stem.origin == "national_invented" else "example"
            unicode_domain = f"{label}.{tld}"
            name_b = (
                name if rng.random() < 0.5 else transliterate(name, lang, usual_scheme(lang, rng))
            )
        ascii_domain = ".".join(a_label(x) for x in unicode_domain.split("."))
        if ascii_domain == unicode_domain:
            return False
        if rng.random() < 0.15:
            ascii_domain = ascii_domain.upper()
        elif rng.random() < 0.25:
            ascii_domain = f"https://www.{ascii_domain}/"
        if rng.random() < 0.2:
            unicode_domain = f"www.{unicode_domain}"
        return self.add("idn", name, unicode_domain, name_b, ascii_domain, 1)

    def acronym_same_domain(self) -> bool:
        rng = self.rng
        n = sum(p.kind == "acronym_same_domain" for p in self.pairs)
        if n < len(ACRONYMS_REAL):
            full, short, domain = ACRONYMS_REAL[n]
            self.stems.note("real_company")
            db = domain if rng.random() < 0.7 else dress(domain, rng, real=True)
            return self.add("acronym_same_domain", full, domain, short, db, 1)
        s1, s2 = self.stems.take("surname"), self.stems.take(rng.choice(["surname", "place"]))
        if s1.text[0] == s2.text[0] or s1.text == s2.text:
            return False
        tail = rng.choice(["Instruments", "Logistics", "Engineering", "Technologies", "Industries",
                           "Systems", "Medical", "Capital", "Electric", "Packaging"])  # fmt: skip
        letters = s1.text[0] + s2.text[0] + tail[0]
        if letters in FAMOUS_ACRONYMS or letters[:2] in FAMOUS_ACRONYMS:
            return False
        full = f"{s1.text} {s2.text} {tail}"
        if rng.random() < 0.4:
            full = attach(
                full, rng.choice(["Inc.", "LLC", "Ltd", "GmbH"]), comma=rng.random() < 0.5
            )
        short = rng.choice([letters, f"{letters[:2]} {tail}", ".".join(letters) + "."])
        domain = rng.choice([f"{letters.lower()}.example", f"{letters[:2].lower()}-{tail.lower()}.example",
                             f"{letters.lower()}-{ascii_label(s1.text)}.example"])  # fmt: skip
        db = domain if rng.random() < 0.7 else dress(domain, rng)
        return self.add("acronym_same_domain", full, domain, short, db, 1)

    def same_name_other_domain(self) -> bool:
        rng = self.rng
        stem = self.stems.take()
        country = rng.choice(COUNTRIES) if stem.invented else rng.choice(COUNTRIES[:6])
        core, descriptor = core_name(stem, country, rng, english=not stem.invented, min_words=2)
        name = core if rng.random() < 0.4 else render(core, country, rng.choice(country.forms), rng)
        domain = company_domain(stem, core, country, rng, descriptor)
        db = subsidiary_domain(domain, rng, descriptor)
        if registrable(db) == registrable(domain):
            return False
        return self.add("same_name_other_domain", name, domain, name, db, 1)

    # --- negatives -------------------------------------------------------------------------

    def _en_form(self) -> str | None:
        if self.rng.random() < 0.6:
            return None
        return self.rng.choice(EN_FORMS)

    def _neg_domain(self, name: str, stem: Stem | None = None) -> str:
        """A different company's own domain: its name (or invented stem) as the label."""
        rng = self.rng
        if stem is not None and stem.invented:
            label = ascii_label(stem.text)
            if rng.random() < 0.3:
                label = ascii_label(" ".join(tokens(name)[:2]))
            domain = f"{label}.{rng.choice(MAJOR_TLDS)}"
        else:
            words = tokens(name)
            if (
                rng.random() < 0.3
                and len(words) > 2
                and words[-1] in {t.lower() for t in GENERIC_TAILS}
            ):
                words = words[:-1]
            domain = f"{('-' if rng.random() < 0.35 else '').join(words)}.example"
        return domain if rng.random() < 0.85 else dress(domain, rng)

    def _two_sectors(self) -> tuple[str, str]:
        s1, s2 = self.rng.sample(list(SECTORS), 2)
        return self.rng.choice(SECTORS[s1]), self.rng.choice(SECTORS[s2])

    def _maybe_tail(self, phrase: str) -> str:
        """Sometimes "Group", "Partners" or "International" after a one-word phrase."""
        if phrase not in TAILABLE or self.rng.random() < 0.7:
            return phrase
        return f"{phrase} {self.rng.choice(['Group', 'Partners', 'International'])}"

    def _neg(self, kind: str, a: str, b: str, sa: Stem | None = None, sb: Stem | None = None,
             same_form: bool = False) -> bool:  # fmt: skip
        form_a = self._en_form()
        form_b = form_a if same_form else self._en_form()
        a2, b2 = attach(a, form_a, comma=self.rng.random() < 0.3), attach(b, form_b)
        return self.add(kind, a2, self._neg_domain(a, sa), b2, self._neg_domain(b, sb), 0)

    def neg_shared_first_word(self) -> bool:
        rng = self.rng
        lead = rng.choice(TWO_WORD_LEADS) if rng.random() < 0.15 else rng.choice(COMMON_LEADS)
        pa, pb = self._two_sectors()
        self.stems.note("common", 2)
        return self._neg("neg_shared_first_word", f"{lead} {self._maybe_tail(pa)}",
                         f"{lead} {self._maybe_tail(pb)}")  # fmt: skip

    def _two_stems(self, invented_share: float = 0.66) -> tuple[Stem, Stem] | None:
        rng = self.rng
        picks = []
        for _ in range(2):
            if rng.random() < 0.2:
                picks.append(Stem(rng.choice(COMMON_LEADS), "common"))
                self.stems.note("common")
            else:
                picks.append(self.stems.take(invented_share=invented_share))
        sa, sb = picks
        if edit_distance(sa.text.lower(), sb.text.lower()) < 3 or sa.text[:4] == sb.text[:4]:
            return None
        return sa, sb

    def neg_shared_last_word(self) -> bool:
        rng = self.rng
        stems = self._two_stems()
        if stems is None:
            return False
        sa, sb = stems
        phrase = (
            rng.choice(EN_DESCRIPTORS)
            if rng.random() < 0.6
            else rng.choice(rng.choice(list(SECTORS.values())))
        )
        if rng.random() < 0.2:  # the same non-English legal form on both
            country = rng.choice(COUNTRIES[6:])
            form = rng.choice([f for f in country.forms if not f.prefix] or [None])
            if form is None:
                return False
            a, b = (
                attach(f"{sa.text} {phrase}", form.abbr),
                attach(f"{sb.text} {phrase}", form.abbr),
            )
            return self.add("neg_shared_last_word", a, self._neg_domain(a, sa), b,
                            self._neg_domain(b, sb), 0)  # fmt: skip
        return self._neg("neg_shared_last_word", f"{sa.text} {phrase}", f"{sb.text} {phrase}", sa,
                         sb, same_form=rng.random() < 0.3)  # fmt: skip

    def neg_same_industry(self) -> bool:
        rng = self.rng
        sector = rng.choice([s for s, ph in SECTORS.items() if len(ph) > 3])
        phrases = SECTORS[sector]
        pa, pb = rng.sample(phrases, 2)
        stems = self._two_stems()
        if stems is None:
            return False
        sa, sb = stems
        if rng.random() < 0.5:
            shared = [p for p in phrases if p != pa and set(p.split()) & set(pa.split())]
            if shared:
                pb = rng.choice(shared)
        return self._neg("neg_same_industry", f"{sa.text} {pa}", f"{sb.text} {pb}", sa, sb)

    def neg_same_city(self) -> bool:
        rng = self.rng
        city = rng.choice(CITIES)
        pa, pb = self._two_sectors()
        a = f"{city} {self._maybe_tail(pa)}"
        if pb in OF_PHRASES and rng.random() < 0.6:
            b = f"{pb} of {city}"
        else:
            b = f"{city} {self._maybe_tail(pb)}"
        self.stems.note("common", 2)
        return self._neg("neg_same_city", a, b)

    def neg_one_word_differs(self) -> bool:
        rng = self.rng
        shape = rng.choice(["bank", "bank", "nature", "nature", "firm", "lookalike"])
        self.stems.note("common", 2)
        if shape == "bank":
            template = rng.choice(BANK_TEMPLATES)
            p1, p2 = rng.sample(BANK_PLACES, 2)
            a, b = template.format(p=p1), template.format(p=p2)
            return self.add(
                "neg_one_word_differs", a, self._neg_domain(a), b, self._neg_domain(b), 0
            )
        if shape == "nature":
            lead = rng.choice(NATURE_LEADS)
            q1, q2 = rng.sample(QUALIFIERS, 2)
            if edit_distance(q1, q2) < 3:
                return False
            phrase = rng.choice(rng.choice(list(SECTORS.values())))
            return self._neg("neg_one_word_differs", f"{lead} {q1} {phrase}", f"{lead} {q2} {phrase}",
                             same_form=True)  # fmt: skip
        if shape == "firm":
            partner = rng.choice(COMMON_SURNAMES)
            s1, s2 = self.stems.take("surname"), self.stems.take("surname")
            if edit_distance(s1.text, s2.text) < 3:
                return False
            tail = rng.choice(FIRM_TAILS)
            a, b = f"{partner} & {s1.text} {tail}", f"{partner} & {s2.text} {tail}"
            return self.add(
                "neg_one_word_differs", a, self._neg_domain(a), b, self._neg_domain(b), 0
            )
        p1, p2 = rng.choice(LOOKALIKE_PLACES)
        if edit_distance(p1, p2) < 3:
            return False
        phrase = rng.choice(rng.choice(list(SECTORS.values())))
        return self._neg("neg_one_word_differs", f"{p1} {phrase}", f"{p2} {phrase}", same_form=True)

    def neg_parent_prefix(self) -> bool:
        rng = self.rng
        lead = rng.choice(COMMON_LEADS + TWO_WORD_LEADS)
        parent = f"{lead} {rng.choice(PARENT_TAILS)}"
        child = f"{lead} {rng.choice(rng.choice(list(SECTORS.values())))}"
        self.stems.note("common", 2)
        return self._neg("neg_parent_prefix", parent, child)

    def neg_easy(self) -> bool:
        stems = self._two_stems()
        if stems is None:
            return False
        sa, sb = stems
        pa, pb = self._two_sectors()
        a, b = f"{sa.text} {pa}", f"{sb.text} {pb}"
        if set(tokens(a)) & set(tokens(b)):
            return False
        return self._neg("neg_easy", a, b, sa, sb)


def tokens_title(name: str) -> str:
    return " ".join(w[:1].upper() + w[1:].lower() if w.isalpha() else w for w in name.split(" "))


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------


def check(kind: str, a: str, da: str, b: str, db: str, same: int) -> str | None:
    """Why the pair cannot be labelled with confidence, or None."""
    for value in (a, da, b, db):
        if not value.strip() or "\n" in value or "\r" in value:
            return "empty or multi-line field"
    ra, rb = registrable(da), registrable(db)
    if same:
        if kind in ("acronym_same_domain", "word_order", "domain_form", "idn") and ra != rb:
            return "needs the same registrable domain"
        if kind in ("tld_variant", "same_name_other_domain") and ra == rb:
            return "needs different registrable domains"
        la, lb = ra.split(".", 1)[0], rb.split(".", 1)[0]
        if ra != rb and not (la.startswith(lb[:5]) or lb.startswith(la[:5])):
            return "a positive's domains do not belong together"
        return None
    if ra == rb:
        return "a negative with one registrable domain"
    la, lb = ra.split(".", 1)[0], rb.split(".", 1)[0]
    if la.startswith(lb) or lb.startswith(la):
        return "a negative whose domain labels look related"
    ta, tb = tokens(a), tokens(b)
    if not ta or not tb or set(ta) <= set(tb) or set(tb) <= set(ta):
        return "one name's words are a subset of the other's"
    if edit_distance(" ".join(ta), " ".join(tb)) < 3 or edit_distance("".join(ta), "".join(tb)) < 3:
        return "negative names too close to tell from a typo"
    shared = set(ta) & set(tb)
    if kind == "neg_easy" and shared:
        return "an easy negative shares a word"
    if kind != "neg_easy" and not shared:
        return "a hard negative shares no word"
    if not shared <= COMMON_VOCAB:
        return f"a negative shares a distinctive word: {sorted(shared - COMMON_VOCAB)}"
    return None


def main() -> None:
    bench = Bench(SEED)
    pairs = bench.build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(HEADER)
        for p in pairs:
            writer.writerow([p.name_a, p.domain_a, p.name_b, p.domain_b, p.same, p.kind])

    kinds = Counter(p.kind for p in pairs)
    total = len(pairs)
    positives = sum(p.same for p in pairs)
    hard = sum(kinds[k] for k in HARD_NEGATIVES)
    pos_other_domain = sum(
        1 for p in pairs if p.same and registrable(p.domain_a) != registrable(p.domain_b)
    )
    print(
        f"wrote {total} pairs to {OUT.relative_to(Path.cwd()) if OUT.is_relative_to(Path.cwd()) else OUT}"
    )
    for kind in TARGETS:
        label = "same" if not kind.startswith("neg_") else "different"
        print(f"  {kind:<24} {kinds[kind]:>5}  ({label})")
    print(f"positives {positives} ({positives / total:.1%}), of which {pos_other_domain} "
          f"({pos_other_domain / positives:.1%}) with different registrable domains")  # fmt: skip
    print(f"negatives {total - positives} ({(total - positives) / total:.1%}); hard negatives "
          f"{hard} ({hard / total:.1%} of all pairs)")  # fmt: skip
    used = bench.stems.used
    distinctive = {k: v for k, v in used.items() if k not in ("common", "real_company")}
    invented = sum(v for k, v in distinctive.items()
                   if k in ("invented", "compound", "national_invented", "cyrillic"))  # fmt: skip
    print(f"distinctive names: {sum(distinctive.values())}, invented {invented / sum(distinctive.values()):.1%} "
          f"({', '.join(f'{k} {v}' for k, v in sorted(distinctive.items()))})")  # fmt: skip
    print(
        f"legal forms of {len(bench.legal_countries)} countries: {', '.join(sorted(bench.legal_countries))}"
    )
    assert total >= 1200 and hard / total >= 0.40 and 0.45 <= positives / total <= 0.55


if __name__ == "__main__":
    main()

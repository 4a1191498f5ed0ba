"""The few word lists the libraries lack: written-out legal forms, forms written before the
name, connecting words, and a short prior of generic business words.

cleanco knows the abbreviated legal forms of some 80 countries (GmbH, AG, AB, Oy, S.p.A.,
Pty Ltd, K.K., S.A.S., ...) but few written-out ones ("Gesellschaft mit beschränkter
Haftung", "Kabushiki Kaisha", "Sociedad Anónima"), no Japanese, Chinese or Korean ones, and
not which forms lead the name (OOO, SIA, UAB, PT). Those are listed here, from the ISO 20275
Entity Legal Forms list, written as people type them (accents are folded by the caller).
"""

from __future__ import annotations

# Written-out legal forms and abbreviations cleanco does not know, by language.
LEGAL_FORMS = (
    # English-speaking countries
    "limited liability company", "limited liability partnership", "limited partnership",
    "public limited company", "professional corporation", "professional limited liability company",
    "proprietary limited", "private limited", "designated activity company", "company limited",
    "company limited by guarantee", "unlimited company", "public company limited", "pcl", "dac",
    "clg", "ulc", "pvt", "opc", "npc", "soc ltd", "jsc", "pjsc", "ojsc", "cjsc", "prjsc", "l3c",
    "pa", "wll", "spc", "fze", "fzco", "fz llc", "fz", "free zone establishment",
    "free zone limited liability company", "limitee", "ltee", "lte",
    # German
    "gesellschaft mit beschrankter haftung", "aktiengesellschaft", "kommanditgesellschaft",
    "kommanditgesellschaft auf aktien", "offene handelsgesellschaft", "eingetragener kaufmann",
    "eingetragene kauffrau", "eingetragenes unternehmen", "eingetragener verein",
    "eingetragene genossenschaft", "unternehmergesellschaft", "haftungsbeschrankt", "ug", "ek",
    "ekfm", "ekfr", "partg", "partgmbb", "gesmbh", "ges mbh", "mbh", "gmbh co kg", "ug co kg",
    "ag co kg", "societas europaea",
    # French, Belgian, Swiss, Luxembourg
    "societe anonyme", "societe par actions simplifiee",
    "societe par actions simplifiee unipersonnelle",
    "societe a responsabilite limitee", "entreprise unipersonnelle a responsabilite limitee",
    "societe en nom collectif", "societe en commandite simple", "societe en commandite par actions",
    "societe civile", "societe cooperative", "groupement d interet economique",
    "societe privee a responsabilite limitee", "societe anonyme egyptienne", "sci", "scop",
    # Dutch
    "besloten vennootschap", "naamloze vennootschap",
    "besloten vennootschap met beperkte aansprakelijkheid", "vennootschap onder firma",
    "commanditaire vennootschap", "cooperatieve vennootschap", "cvba", "comm v",
    # Spanish and Portuguese
    "sociedad anonima", "sociedad limitada", "sociedad limitada unipersonal",
    "sociedad de responsabilidad limitada", "sociedad anonima de capital variable",
    "sociedad de responsabilidad limitada de capital variable",
    "sociedad anonima promotora de inversion de capital variable",
    "sociedad anonima unipersonal", "sociedad por acciones", "sociedad por acciones simplificada",
    "sociedad anonima bursatil", "sociedad colectiva", "sociedade anonima", "sociedade por quotas",
    "sociedade limitada", "limitada", "slu", "sau", "sac", "saa", "eireli", "sa de cv",
    "s de rl de cv", "sapi de cv", "sab de cv", "de cv", "s de rl",
    # Italian
    "societa per azioni", "societa a responsabilita limitata", "societa in accomandita semplice",
    "societa in accomandita per azioni", "societa in nome collettivo", "societa cooperativa",
    "srls", "sapa", "scarl", "scrl",
    # Nordic
    "aktiebolag", "aktiebolaget", "handelsbolag", "kommanditbolag", "publ", "aksjeselskap",
    "allmennaksjeselskap", "aktieselskab", "anpartsselskab", "interessentskab", "kommanditselskab",
    "ivs", "osakeyhtio", "julkinen osakeyhtio", "kommandiittiyhtio", "avoin yhtio", "osuuskunta",
    "einkahlutafelag", "hlutafelag", "sameignarfelag",
    # Baltic
    "osauhing", "aktsiaselts", "taisuhing", "usaldusuhing", "sabiedriba ar ierobezotu atbildibu",
    "akciju sabiedriba", "uzdaroji akcine bendrove", "akcine bendrove", "mazoji bendrija",
    # Central and Eastern Europe
    "spolka z ograniczona odpowiedzialnoscia", "spolka akcyjna", "spolka komandytowa",
    "spolka jawna", "spolka komandytowo akcyjna", "spolka cywilna", "sp zoo", "sp k", "sp j",
    "spolka zoo", "spolecnost s rucenim omezenym", "akciova spolecnost",
    "spolocnost s rucenim obmedzenym", "akciova spolocnost", "verejna obchodni spolecnost",
    "komanditni spolecnost", "spol sro", "korlatolt felelossegu tarsasag",
    "zartkoruen mukodo reszvenytarsasag", "nyilvanosan mukodo reszvenytarsasag",
    "beteti tarsasag", "kozkereseti tarsasag", "reszvenytarsasag", "nyrt",
    "drustvo s ogranicenom odgovornoscu", "drustvo sa ogranicenom odgovornoscu",
    "druzba z omejeno odgovornostjo", "dionicko drustvo", "delniska druzba",
    "akcionarsko drustvo", "doel", "dooel", "jdoo", "societate cu raspundere limitata",
    "societate pe actiuni", "druzhestvo s ogranichena otgovornost",
    "ednolichno druzhestvo s ogranichena otgovornost", "aktsionerno druzhestvo", "eood",
    "anonim sirketi", "limited sirketi", "sti", "anonymi etaireia", "ike",
    # Russian and Ukrainian (usually before the name: see PREFIX_FORMS)
    "obshchestvo s ogranichennoy otvetstvennostyu", "aktsionernoye obshchestvo",
    "publichnoye aktsionernoye obshchestvo", "zakrytoye aktsionernoye obshchestvo",
    "otkrytoye aktsionernoye obshchestvo", "tovarystvo z obmezhenoiu vidpovidalnistiu",
    "tovarystvo z obmezhenoyu vidpovidalnistyu", "pryvatne aktsionerne tovarystvo",
    "publichne aktsionerne tovarystvo", "ao", "pao", "prat", "pat",
    # Asia
    "kabushiki kaisha", "kabushiki gaisha", "godo kaisha", "yugen kaisha", "goshi kaisha",
    "gomei kaisha", "jusik hoesa", "chusik hoesa", "yuhan hoesa", "perseroan terbatas",
    "terbuka", "tbk", "sendirian berhad", "berhad",
)  # fmt: skip

# Forms that are written before the name (OOO «Ladomir», SIA "Nalrarin", PT Sentosa).
PREFIX_FORMS = (
    "ooo", "oao", "zao", "ao", "pao", "tov", "prat", "pat", "sia", "as", "uab", "ab", "pt", "cv",
    "kk", "ead", "ood", "eood", "aktiebolaget", "kabushiki kaisha", "kabushiki gaisha",
    "obshchestvo s ogranichennoy otvetstvennostyu", "aktsionernoye obshchestvo",
    "publichnoye aktsionernoye obshchestvo", "zakrytoye aktsionernoye obshchestvo",
    "otkrytoye aktsionernoye obshchestvo", "tovarystvo z obmezhenoiu vidpovidalnistiu",
    "tovarystvo z obmezhenoyu vidpovidalnistyu", "pryvatne aktsionerne tovarystvo",
    "publichne aktsionerne tovarystvo", "sabiedriba ar ierobezotu atbildibu", "akciju sabiedriba",
    "uzdaroji akcine bendrove", "akcine bendrove", "perseroan terbatas", "jusik hoesa",
)  # fmt: skip

# Legal forms written in Chinese, Japanese or Korean script, removed before transliteration.
CJK_FORMS = (
    "股份有限公司", "有限责任公司", "有限責任公司", "有限公司", "株式会社", "有限会社",
    "合同会社", "合資会社", "合名会社", "주식회사", "유한회사", "(주)", "㈜",
)  # fmt: skip

# Connecting words that carry nothing of a name's identity ("Bank of X", "Smith & Sons").
STOPWORDS = frozenset(
    {
        "the", "and", "of", "for", "at", "de", "del", "della", "di", "des", "du", "la", "le", "les",
        "el", "los", "las", "der", "die", "das", "den", "und", "et", "y", "e", "en", "og", "och",
    }
)  # fmt: skip

# How a company is organised, written in several languages: one word each, and one that
# says little about which company it is ("Grupo Bimbo" is "Bimbo Group").
STRUCTURE_WORDS = {
    "group": ("groupe", "gruppe", "groep", "grupo", "gruppo", "grupa", "grup", "groups"),
    "holding": ("holdings", "holdco"),
    "international": ("intl", "internacional", "internationale", "internazionale"),
    "company": ("companies",),
    "enterprises": ("enterprise",),
}
SYNONYMS = {variant: word for word, variants in STRUCTURE_WORDS.items() for variant in variants}
STRUCTURE = frozenset(STRUCTURE_WORDS) | frozenset(SYNONYMS)

# A prior for a store that is still small: words many unrelated companies' names use.
# The store's own word counts (IDF) teach the rest; these count as common from the start.
GENERIC_WORDS = frozenset(
    {
        # what a company is
        "group", "groupe", "gruppe", "groep", "grupo", "gruppo", "holding", "holdings",
        "partners", "partner", "partnership", "associates", "enterprises", "enterprise",
        "ventures", "industries", "industrial", "industry", "international", "intl", "global",
        "worldwide", "world", "solutions", "services", "service", "systems", "system", "company",
        "companies", "corporate", "trust", "agency", "consultancy", "collective", "works",
        "institute", "foundation", "network", "networks", "alliance", "brands",
        "products", "supply", "supplies", "equipment", "resources", "management", "trading",
        "center", "centre", "office", "offices", "firm", "coop", "cooperative",
        # words many names start with
        "united", "first", "national", "american", "general", "standard", "universal",
        "continental", "central", "metro", "metropolitan", "summit", "pinnacle", "premier",
        "apex", "meridian", "allied", "advanced", "integrated", "strategic", "royal", "crown",
        "imperial", "eagle", "liberty", "heritage", "frontier", "pioneer", "horizon", "vertex",
        "keystone", "sterling", "legacy", "vanguard", "paramount", "prime", "elite", "superior",
        "precision", "quality", "reliable", "dynamic", "innovative", "creative", "smart",
        "bright", "clear", "true", "rapid", "swift", "noble", "grand", "new", "modern", "classic",
        "north", "south", "east", "west", "northern", "southern", "eastern", "western",
        "northeast", "northwest", "southeast", "southwest", "midwest", "coastal", "atlantic",
        "pacific", "mountain", "valley", "river", "lake", "bay", "harbor", "harbour", "ocean",
        "sun", "sunrise", "star", "golden", "silver", "blue", "green", "red", "black", "white",
        "city", "county", "state", "community", "citizens", "peoples", "farmers", "merchants",
        "home", "family", "quantum", "fusion", "synergy", "matrix", "alpha", "omega", "delta",
        "nova", "titan", "atlas", "phoenix", "acme", "peak", "landmark", "benchmark", "insight",
        "catalyst", "spectrum", "beacon", "compass", "anchor", "guardian", "trinity", "unity",
        "cornerstone", "capstone", "milestone", "evergreen", "patriot", "empire", "regal",
        # what a company does
        "bank", "banking", "financial", "finance", "capital", "investments", "investment",
        "insurance", "assurance", "credit", "union", "mortgage", "wealth", "asset", "health",
        "healthcare", "medical", "dental", "care", "clinic", "hospital", "pharmacy", "pharma",
        "pharmaceuticals", "biotech", "therapeutics", "diagnostics", "labs", "laboratories",
        "logistics", "freight", "transport", "transportation", "shipping", "trucking", "cargo",
        "distribution", "energy", "power", "solar", "oil", "gas", "electric", "utilities",
        "water", "software", "technologies", "technology", "tech", "data", "digital",
        "analytics", "cloud", "media", "marketing", "communications", "consulting", "advisory",
        "construction", "builders", "engineering", "contractors", "realty", "properties",
        "property", "real", "estate", "development", "homes", "manufacturing", "steel", "metals",
        "foods", "food", "farms", "retail", "motors", "automotive", "auto", "aviation",
        "aerospace", "marine", "security", "staffing", "education", "academy", "hotels",
        "hotel", "hospitality", "travel", "studio", "studios", "design", "legal", "law",
        "electronics", "research", "logistik", "technik", "bau", "handel", "consultores",
        "servicios", "servizi", "dienstleistungen",
    }
)  # fmt: skip


def is_generic(word: str) -> bool:
    """Whether a word is known to be common before the store says so (the prior)."""
    return word in GENERIC_WORDS or word in STRUCTURE

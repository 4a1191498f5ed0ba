"""Company names as people write them, reduced to the words that say which company it is.

`normalize_company` gives a readable normal form: ASCII (anyascii), lower case, `&` as
`and`, punctuation and a leading or trailing "The" gone, initials joined (`A.B.C.` is `abc`)
and legal forms of every country dropped (cleanco's list and `words.LEGAL_FORMS`), at the
end or, for the forms written there, at the start. `name_tokens` drops connecting words;
`fold` makes what transliteration leaves ambiguous (ü typed as `ue` or `u`, å as `aa` or
`a`) one spelling, for comparing words and for `company_key`, the exact-match key.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

from anyascii import anyascii
from cleanco.termdata import terms_by_country, terms_by_type
from rapidfuzz.distance import OSA

from matching.cyrillic import romanise
from matching.words import CJK_FORMS, LEGAL_FORMS, PREFIX_FORMS, STOPWORDS

MAX_TOKEN = 64  # a token is stored (and indexed) at most this long
_APOSTROPHES = re.compile("[\u2018\u2019\u00b4\u02bc]")  # typographic apostrophes
_ACRONYM_AMPERSAND = re.compile(r"\b([A-Za-z]{1,3})&([A-Za-z]{1,3})\b")
_NON_WORD = re.compile(r"[^a-z0-9]+")
# Digraphs that stand for one accented letter: German ä/ö/ü typed as ae/oe/ue, Nordic å as
# aa, Serbian and Croatian đ as dj.
_FOLDS = (("ae", "a"), ("oe", "o"), ("ue", "u"), ("aa", "a"), ("dj", "d"))


def _words(text: str) -> list[str]:
    """ASCII, lower-case words of `text`, with initials joined (`a b c` -> `abc`)."""
    if not text.isascii():
        for form in CJK_FORMS:
            text = text.replace(form, " ")
        text = _APOSTROPHES.sub("", unicodedata.normalize("NFKC", text))
        text = anyascii(romanise(text.lower()))
    text = text.replace("'", "").replace("`", "")
    text = _ACRONYM_AMPERSAND.sub(r"\1\2", text)  # AT&T, P&G, H&M are acronyms
    text = text.lower().replace("&", " and ").replace("+", " and ")
    words: list[str] = []
    initials = False  # whether the last word was joined from single letters
    for word in _NON_WORD.sub(" ", text).split():
        letter = len(word) == 1 and word.isalpha()
        if letter and initials:
            words[-1] += word
        else:
            words.append(word)
        initials = letter
    return words


@lru_cache(maxsize=1 << 16)
def fold(word: str) -> str:
    """A word with the digraphs that transliteration makes ambiguous folded (mueller -> muller)."""
    for digraph, letter in _FOLDS:
        word = word.replace(digraph, letter)
    return word


# Single-word forms that are also ordinary words, or too short to tell: never a leading form.
_NOT_LEADING = frozenset({"company", "corporation", "incorporated", "limited", "unlimited",
                          "private", "co", "at", "ok", "uk", "eu", "ent", "ad", "pa"})  # fmt: skip


_LONG_FORM = 8  # one-word legal forms this long are recognised with one slip (Incorpofated)


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


@dataclass(frozen=True)
class _Forms:
    """Legal forms as tuples of folded words: written after the name, and before it."""

    after: frozenset[tuple[str, ...]]
    before: frozenset[tuple[str, ...]]
    longest: int
    by_word: dict[str, list[tuple[str, ...]]]  # multi-word forms after the name, by each word
    long_words: dict[str, set[str]]  # long one-word forms, by each of their deletions


@cache
def _forms() -> _Forms:
    terms = {t for ts in (*terms_by_type.values(), *terms_by_country.values()) for t in ts}
    after = {tuple(fold(w) for w in _words(t)) for t in (*terms, *LEGAL_FORMS, "and", "the")}
    after.discard(())
    before = {tuple(fold(w) for w in _words(t)) for t in (*PREFIX_FORMS, "the")}
    before |= {f for f in after if len(f) == 1 and f[0] not in _NOT_LEADING}
    by_word: dict[str, list[tuple[str, ...]]] = {}
    for form in after:
        for word in set(form) if len(form) > 1 else ():
            by_word.setdefault(word, []).append(form)
    long_words: dict[str, set[str]] = {}
    for (word,) in (f for f in after if len(f) == 1 and len(f[0]) >= _LONG_FORM):
        for key in _deletions(word) | {word}:
            long_words.setdefault(key, set()).add(word)
    longest = max(map(len, after | before))
    return _Forms(frozenset(after), frozenset(before), longest, by_word, long_words)


def _close(word: str, form_word: str) -> bool:
    """Whether a word of a written-out legal form is typed with at most one slip."""
    if word == form_word:
        return True
    return (
        min(len(word), len(form_word)) >= 5 and OSA.distance(word, form_word, score_cutoff=1) <= 1
    )


def _form_size(words: list[str], *, end: bool) -> int:
    """How many words at the end (or start) of `words` are a legal form, leaving at least one."""
    forms = _forms()
    written = forms.after if end else forms.before
    for size in range(min(forms.longest, len(words) - 1), 0, -1):
        if tuple(words[-size:] if end else words[:size]) in written:
            return size
    if end and len(words) > 1:  # a written-out form with a slip (Limited Liabiliyy Partnership)
        tail = words[-forms.longest :][1 - len(words) :]
        for form in {f for w in tail for f in forms.by_word.get(w, ())}:
            if len(form) < len(words) and all(map(_close, words[-len(form) :], form)):
                return len(form)
        last = words[-1]
        if len(last) >= _LONG_FORM - 1:
            near = {f for k in _deletions(last) | {last} for f in forms.long_words.get(k, ())}
            if any(_close(last, form) for form in near):
                return 1
    return 0


def _strip_forms(words: list[str]) -> list[str]:
    """`words` without the legal forms at their end (or their start, for leading forms)."""
    folded = [fold(w) for w in words]
    start, end = 0, len(words)
    while True:
        if size := _form_size(folded[start:end], end=True):
            end -= size
        elif size := _form_size(folded[start:end], end=False):
            start += size
        else:
            return words[start:end]


def normalize_company(name: str) -> str:
    """Lower-case ASCII words of a company name without punctuation, "The" or legal forms."""
    words = _words(name)
    stripped = _strip_forms(words)
    return " ".join(stripped)


@lru_cache(maxsize=1 << 14)
def name_tokens(normalized: str) -> tuple[str, ...]:
    """The words that identify a normalised name, in order, without connecting words."""
    words = [w[:MAX_TOKEN] for w in normalized.split()]
    return tuple(w for w in words if w not in STOPWORDS) or tuple(words)


def company_key(normalized: str) -> str:
    """A normalised name's words run together (spacing and spelling variants agree), indexed
    for an exact look-up."""
    return "".join(fold(w) for w in name_tokens(normalized))[:MAX_TOKEN]


def customer_key(domain: str, normalized: str) -> str:
    """One side of a managers' pair verdict: a registrable domain and a normalised name."""
    return f"{domain}|{company_key(normalized)}"

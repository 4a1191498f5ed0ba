"""Whether two company names name one company, judged on their distinctive words.

Each word is weighted by how rare it is among the names the store holds (inverse document
frequency, `Weights`), so "Global", "Bank" or "Systems" count for little and "Quillfeather"
for a lot. Words are paired across the two names (exactly, as a typo of each other, or a
compound written as one word or two), and two names agree when every distinctive word of
each (a word that weighs at least `DISTINCTIVE_SHARE` of the name's heaviest word) found its
partner. Two names that share only common words therefore do not agree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise

from rapidfuzz.distance import OSA

from matching.names import fold
from matching.words import GENERIC_WORDS, STRUCTURE, SYNONYMS

# A store that is still small has few names to learn from: count this many names more, in
# which each generic business word (words.GENERIC_WORDS) appears in GENERIC_SHARE of them,
# and each word for how a company is organised (words.STRUCTURE_WORDS) in STRUCTURE_SHARE.
PRIOR_NAMES = 1000
GENERIC_SHARE = 0.05
STRUCTURE_SHARE = 0.4
MIN_WEIGHT = 0.1
# A word is distinctive when it weighs at least this share of its name's heaviest word.
DISTINCTIVE_SHARE = 0.75


def _prior_share(token: str) -> float:
    if token in STRUCTURE:
        return STRUCTURE_SHARE
    return GENERIC_SHARE if token in GENERIC_WORDS else 0.0


@dataclass(frozen=True)
class Weights:
    """Word counts from the store: in how many of `names` customer names each word appears."""

    names: int = 0
    counts: Mapping[str, int] = field(default_factory=dict)
    _known: dict[str, float] = field(default_factory=dict, compare=False, repr=False)

    def of(self, token: str) -> float:
        """The weight (smoothed inverse document frequency) of a word."""
        if (weight := self._known.get(token)) is None:
            total = self.names + PRIOR_NAMES
            prior = _prior_share(token) * total
            seen = self.counts.get(token, 0) + prior + 1
            weight = self._known[token] = max(MIN_WEIGHT, math.log(total / seen))
        return weight


@dataclass(frozen=True)
class Pair:
    """Two words that pair up across the names, how alike (1 = the same word), how heavy."""

    a: str
    b: str
    similarity: float
    weight: float  # the heavier of the two words' weights


@dataclass(frozen=True)
class NameMatch:
    """How two names compare: the weighted share of their words that pair up, whether every
    distinctive word of each found its partner, and the pairs, heaviest first."""

    score: float
    agree: bool
    pairs: tuple[Pair, ...] = ()

    @property
    def heaviest(self) -> Pair | None:
        """The most distinctive word the names share."""
        return self.pairs[0] if self.pairs else None


def max_edits(a: str, b: str) -> int:
    """How many typing errors two words may differ by and still be one word (none in words
    with digits: 3M and 4M are two companies)."""
    if not (a.isalpha() and b.isalpha()):
        return 0
    longest = max(len(a), len(b))
    return 2 if longest >= 10 else 1 if longest >= 5 else 0


@lru_cache(maxsize=1 << 16)
def word_similarity(a: str, b: str) -> float:
    """1 for the same word (however transliterated or translated), 1 - edits/length for a
    typo, else 0."""
    if a == b or fold(a) == fold(b) or SYNONYMS.get(a, a) == SYNONYMS.get(b, b):
        return 1.0
    allowed = max_edits(a, b)
    if not allowed:
        return 0.0
    edits = OSA.distance(a, b, score_cutoff=allowed)
    return 1.0 - edits / max(len(a), len(b)) if edits <= allowed else 0.0


def _merge_compounds(words: list[str], other: Sequence[str]) -> list[str]:
    """`words` with adjacent pairs joined where the other name writes them as one word."""
    if len(words) < 2 or not {a + b for a, b in pairwise(words)} & set(other):
        return words
    merged: list[str] = []
    skip = False
    for i, word in enumerate(words):
        if skip:
            skip = False
            continue
        if i + 1 < len(words) and word + words[i + 1] in other:
            merged.append(word + words[i + 1])
            skip = True
        else:
            merged.append(word)
    return merged


def _pairs(
    a: list[str], b: list[str], wa: list[float], wb: list[float]
) -> dict[int, tuple[int, float]]:
    """Pair words of `a` with words of `b`, heaviest agreements first: {i: (j, similarity)}."""
    options = [
        (sim * (wa[i] + wb[j]), sim, i, j)
        for i, x in enumerate(a)
        for j, y in enumerate(b)
        if (sim := word_similarity(x, y)) > 0
    ]
    paired: dict[int, tuple[int, float]] = {}
    taken: set[int] = set()
    for _, sim, i, j in sorted(options, reverse=True):
        if i not in paired and j not in taken:
            paired[i] = (j, sim)
            taken.add(j)
    return paired


def _distinctive(weights: list[float]) -> set[int]:
    top = max(weights, default=0.0)
    return {i for i, w in enumerate(weights) if w >= DISTINCTIVE_SHARE * top}


def compare(a_tokens: Sequence[str], b_tokens: Sequence[str], weights: Weights) -> NameMatch:
    """Compare two names' tokens (`names.name_tokens`) on their distinctive words."""
    return Comparer(a_tokens, weights)(b_tokens)


class Comparer:
    """One name compared with many: its words weighed once, each other name compared once."""

    def __init__(self, tokens: Sequence[str], weights: Weights) -> None:
        self.tokens = list(tokens)
        self.weights = weights
        self._seen: dict[tuple[str, ...], NameMatch] = {}

    def __call__(self, other: Sequence[str]) -> NameMatch:
        """How the name compares with `other` (tokens of a normalised name)."""
        key = tuple(other)
        if (known := self._seen.get(key)) is None:
            known = self._seen[key] = self._compare(self.tokens, list(other))
        return known

    def _compare(self, a: list[str], b: list[str]) -> NameMatch:
        a, b = _merge_compounds(a, b), _merge_compounds(b, a)
        if not a or not b:
            return NameMatch(0.0, False)
        if fold("".join(a)) == fold("".join(b)):  # the same words, spaced differently
            a, b = ["".join(a)], ["".join(b)]
        wa, wb = [self.weights.of(t) for t in a], [self.weights.of(t) for t in b]
        mine = _distinctive(wa)
        if not all(any(word_similarity(a[i], y) for y in b) for i in mine):
            return NameMatch(0.0, False)  # a distinctive word with no partner at all
        paired = _pairs(a, b, wa, wb)
        matched = sum(sim * (wa[i] + wb[j]) for i, (j, sim) in paired.items())
        score = matched / (sum(wa) + sum(wb))
        partners = {j for j, _ in paired.values()}
        agree = mine <= paired.keys() and _distinctive(wb) <= partners
        pairs = sorted(
            (Pair(a[i], b[j], sim, max(wa[i], wb[j])) for i, (j, sim) in paired.items()),
            key=lambda p: -p.weight,
        )
        return NameMatch(score, agree, tuple(pairs))


def is_acronym(short: Sequence[str], long: Sequence[str]) -> bool:
    """Whether a one-word name is the initials of a longer name (IBM, KLM, AT&T)."""
    if len(short) != 1 or len(long) < 2 or len(short[0]) < 2:
        return False
    return short[0] == "".join(word[0] for word in long)

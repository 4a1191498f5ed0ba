"""Blocking: which words a name is indexed under, and which words to look candidates up by,
so that a typo in any distinctive word of a name still finds the record, by index.

A record is indexed under each of its words but the generic ones (`words.is_generic`: a
name of common words only is found by its domain or its whole name). Typos are found with a
deletion neighbourhood (as SymSpell does): every stored word of `MIN_TYPO_LENGTH` letters or
more is also stored with each one of its letters left out (`deletions`), and a name's word is
looked up as typed, with each of its letters left out, and among those stored deletions.
Two words one slip apart (a letter dropped, added, changed, or two swapped; ue/u, aa/a and
dj/d from transliteration too) always meet there, with some 20 probes per word instead of
the 600 words one slip away. Joined neighbours and halves of compounds are probed as typed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise

from rapidfuzz.distance import OSA

from matching.names import name_tokens
from matching.words import is_generic

MIN_TYPO_LENGTH = 5  # words this long may hold one typo (see similarity.max_edits)
MAX_LOOKUPS = 12  # index look-ups per name, the rarest words first


def index_words(normalized: str) -> set[str]:
    """The words a normalised name is indexed under."""
    return {w for w in name_tokens(normalized) if len(w) > 1 and not is_generic(w)}


def counted_words(normalized: str) -> set[str]:
    """The words a normalised name counts towards the word counts (every word, once)."""
    return set(name_tokens(normalized))


def deletions(word: str) -> set[str]:
    """The word with each one of its letters left out."""
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def stored_deletions(word: str) -> set[str]:
    """The deletions stored for an indexed word (none for short words)."""
    return deletions(word) if len(word) >= MIN_TYPO_LENGTH else set()


def _typo_prone(word: str) -> bool:
    return not is_generic(word) and word.isalpha()


def _halves(word: str) -> list[tuple[str, str]]:
    return [(word[:i], word[i:]) for i in range(2, len(word) - 1)]


def probes(tokens: Sequence[str]) -> tuple[set[str], set[str]]:
    """What to probe for a name's tokens: (words, as typed or with a letter left out, joined
    or halved; deletions of stored words, as typed or with a letter left out)."""
    words = set(tokens) | {a + b for a, b in pairwise(tokens)}
    slips: set[str] = set()
    for token in tokens:
        if not _typo_prone(token):
            continue
        words |= {half for pair in _halves(token) for half in pair}
        if len(token) >= MIN_TYPO_LENGTH - 1:
            mine = deletions(token) if len(token) >= MIN_TYPO_LENGTH else set()
            words |= mine
            slips |= mine | {token}
    return {w for w in words if len(w) > 1}, slips


def _one_slip(a: str, b: str) -> bool:
    if max(len(a), len(b)) < MIN_TYPO_LENGTH or abs(len(a) - len(b)) > 1:
        return False
    return OSA.distance(a, b, score_cutoff=1) <= 1


def lookup_words(tokens: Sequence[str], known: Mapping[str, int], most: int) -> list[str]:
    """Which known words to look candidates up by: the name's distinctive words, words one
    slip from them, joins and halves, rarest first, while they hold at most `most` names in
    all (so a look-up never returns more than that many records)."""
    typo_prone = [t for t in tokens if _typo_prone(t)]
    chosen = {t for t in typo_prone if t in known}
    chosen |= {w for w in known for t in typo_prone if _one_slip(w, t)}
    for token in typo_prone:
        halves = [pair for pair in _halves(token) if set(pair) <= known.keys()]
        chosen |= {min(pair, key=known.__getitem__) for pair in halves}
    chosen |= {a + b for a, b in pairwise(tokens)} & known.keys()
    wanted: list[str] = []
    held = 0
    for word in sorted((w for w in chosen if w and not is_generic(w)), key=lambda w: (known[w], w)):
        held += known[word]
        if held > most or len(wanted) == MAX_LOOKUPS:
            break
        wanted.append(word)
    return wanted

"""Cyrillic names in the Latin alphabet their own country uses, where the name tells which.

anyascii writes every Cyrillic text the Russian way (Љубичевац as Ljubichevats, Галичбуд as
Galichbud); a Serbian or Ukrainian company writes its name in its own official Latin
(Ljubičevac; Halychbud, Ukrainian national transliteration of 2010). A letter only one
language uses, or the legal form (ТОВ, ООД, д.о.о.), tells the language; otherwise anyascii
decides.
"""

# The tables hold Cyrillic letters on purpose.
# ruff: noqa: RUF001, RUF002

from __future__ import annotations

import re


def _table(letters: str, latin: str) -> dict[str, str]:
    return dict(zip(letters, latin.split(), strict=True))


_SERBIAN = _table(
    "абвгдђежзијклљмнњопрстћуфхцчџшѓќѕ",
    "a b v g d đ e ž z i j k l lj m n nj o p r s t ć u f h c č dž š gj kj dz",
)
_UKRAINIAN = _table(
    "абвгґдеєжзиіїйклмнопрстуфхцчшщюя",
    "a b v h g d e ie zh z y i i i k l m n o p r s t u f kh ts ch sh shch iu ia",
)
_UKRAINIAN_INITIAL = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}
_UKRAINIAN_SILENT = {"ь": "", "'": "", "\u2019": ""}
_BULGARIAN = _table(
    "абвгдежзийклмнопрстуфхцчшщъьюя",
    "a b v g d e zh z i y k l m n o p r s t u f h ts ch sh sht a y yu ya",
)
_SERBIAN_HINTS = re.compile(r"[ђјљњћџѓќѕ]|\bд\.?\s?о\.?\s?о\b")
_UKRAINIAN_HINTS = re.compile(r"[іїєґ]|\b(тов|прат|пат|фоп)\b")
_BULGARIAN_HINTS = re.compile(r"\b(оод|еоод|ад|еад)\b")


def _ukrainian(text: str) -> str:
    text = text.replace("зг", "zgh")  # so that зг is not read as ж
    out = []
    for i, letter in enumerate(text):
        initial = i == 0 or not text[i - 1].isalpha()
        if initial and letter in _UKRAINIAN_INITIAL:
            out.append(_UKRAINIAN_INITIAL[letter])
        else:
            out.append(_UKRAINIAN_SILENT.get(letter, _UKRAINIAN.get(letter, letter)))
    return "".join(out)


def romanise(text: str) -> str:
    """Lower-case Serbian, Ukrainian or Bulgarian Cyrillic in that country's Latin alphabet;
    any other text unchanged (anyascii transliterates it after)."""
    if _SERBIAN_HINTS.search(text):
        return "".join(_SERBIAN.get(c, c) for c in text)
    if _UKRAINIAN_HINTS.search(text):
        return _ukrainian(text)
    if _BULGARIAN_HINTS.search(text):
        return "".join(_BULGARIAN.get(c, c) for c in text)
    return text

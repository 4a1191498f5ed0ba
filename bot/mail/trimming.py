"""Reply extraction: keep what the person typed, drop what their mail client added.

Every line is put in a class (text, quote, marker — an attribution or an original/forwarded
message separator —, embedded header, delimiter, client line, empty); where the reply ends is
then decided from the sequence of classes, in this order:

1. a delimiter line (`-- `, `___`, `***`…) after something of the person's cuts the rest;
2. client lines ("Sent from my iPhone", in any language) go wherever they stand;
3. a bottom post (attribution and quote first, the person's text only after the quote) keeps
   just that text;
4. a marker after the person's text, followed by the earlier message, cuts it and the rest;
   any other marker line goes by itself;
5. a block of three or more embedded header lines cuts the rest when the person's text is
   above it; with nothing above (a bare forward) only the block goes;
6. trailing quoted lines go when the person wrote a line of their own; a quote alone stays.

Patterns are data (`bot.mail.patterns`, one module per language), compiled here once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum
from typing import NamedTuple

from bot.mail.patterns import LANGUAGES


class Kind(StrEnum):
    """What one line of a reply is."""

    TEXT = "text"
    QUOTE = "quote"
    MARKER = "marker"  # "On … wrote:", "-----Original Message-----", "Begin forwarded message:"
    HEADER = "header"  # "From: …" of an earlier message
    DELIMITER = "delimiter"  # "-- ", "____", "*****"
    CLIENT = "client"  # "Sent from my iPhone"
    EMPTY = "empty"


class Row(NamedTuple):
    """A line and its class."""

    kind: Kind
    line: str


INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u034f\u00ad]")  # zero-width, soft hyphen
DELIMITER_CHARS = "-_=+~#*,\u2010\u2013\u2014\u1427 \t"  # U+1427 "ᐧ": mail trackers' mark
FRAME_CHARS = "-_=*~#\u2010\u2011\u2013\u2014 \t"  # around "----- Original Message -----"
DASHES = "-_=\u2010\u2011\u2013\u2014"
COLONS = (":", "\uff1a")  # ASCII and fullwidth (Chinese, Japanese)
MAX_MARKER = 400  # characters: longer lines are typed text
MAX_CLIENT_LINE = 100
WRAPPED_LINES = (3, 2)  # an attribution wrapped over three, then two lines


def _alternation(patterns: Iterable[str]) -> re.Pattern[str]:
    """One case-insensitive regular expression matching any of `patterns`."""
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


def _label(label: str) -> str:
    """A header label as a regular expression: any blanks between its words."""
    return r"\s+".join(re.escape(word) for word in label.split())


_ATTRIBUTION = _alternation(p.regex for lang in LANGUAGES for p in lang.attributions)
_BARE_ATTRIBUTION = _alternation(p.regex for lang in LANGUAGES for p in lang.bare_attributions)
_SEPARATOR = _alternation(p.regex for lang in LANGUAGES for p in lang.separators)
_FORWARD_LINE = _alternation(p.regex for lang in LANGUAGES for p in lang.forward_lines)
_CLIENT = _alternation(p.regex for lang in LANGUAGES for p in lang.client_lines)
_LABELS = sorted({label for lang in LANGUAGES for label in lang.header_labels}, key=len)
_HEADER = re.compile(
    r"\*{0,2}\s*(?:"
    + "|".join(_label(label) for label in reversed(_LABELS))
    + r")\s*\*{0,2}[ \t]*[:\uff1a]",
    re.IGNORECASE,
)
_QUOTE_MARKS = re.compile(r"^(?:[ \t]*>)+[ \t]?")
_ATTRIBUTION_START = re.compile(r"[\d@<]")  # a wrapped attribution's first line: date or address


# --- one line ---------------------------------------------------------------------------


def _unframe(text: str) -> tuple[str, bool, bool]:
    """The text inside framing dashes/asterisks, whether dashes open it ("-----Original
    Message-----") and whether dashes close it too ("---- On … wrote ----")."""
    core = text.strip(FRAME_CHARS)
    left = text[: len(text) - len(text.lstrip(FRAME_CHARS))]
    right = text[len(text.rstrip(FRAME_CHARS)) :]
    opened = sum(char in DASHES for char in left) >= 2
    return core, opened, opened and sum(char in DASHES for char in right) >= 2


def is_marker(text: str) -> bool:
    """An attribution ("On … wrote:"), an original/forwarded-message separator or a line
    introducing a forwarded message."""
    if len(text) > MAX_MARKER:
        return False
    core, dashed, framed = _unframe(text.strip())
    if not core:
        return False
    if dashed and _SEPARATOR.fullmatch(core):
        return True
    if _FORWARD_LINE.fullmatch(core):
        return True
    if framed and not core.endswith(COLONS):
        core += ":"
    if core.endswith(COLONS):
        return _ATTRIBUTION.fullmatch(core) is not None
    return _BARE_ATTRIBUTION.fullmatch(core) is not None


def is_header(text: str) -> bool:
    """A line of an embedded header block ("From: …", "*Betreff:* …", "差出人: …"); a label
    followed by a sentence ("From: the customer's side, nobody objected.") is prose."""
    if all(text.find(colon, 0, 40) < 0 for colon in COLONS):
        return False
    label = _HEADER.match(text)
    if label is None:
        return False
    value = text[label.end() :].strip()
    return "@" in value or not (len(value.split()) >= 6 and value.endswith((".", "!", "?")))


def is_client_line(text: str) -> bool:
    """A line a mail client adds ("Sent from my iPhone", "Von meinem iPhone gesendet")."""
    return len(text) <= MAX_CLIENT_LINE and _CLIENT.fullmatch(text) is not None


def is_delimiter(text: str) -> bool:
    """A line made only of `- _ = + ~ # *` (and the like): a signature or a rule starts."""
    return not text.strip(DELIMITER_CHARS)


def classify_line(line: str) -> Kind:
    """The class of one line, on its own."""
    text = line.strip()
    if not text:
        return Kind.EMPTY
    if text[0] == ">":
        quoted = _QUOTE_MARKS.sub("", text).strip()
        return Kind.MARKER if quoted.endswith(COLONS) and is_marker(quoted) else Kind.QUOTE
    if is_delimiter(text):
        return Kind.DELIMITER
    if is_client_line(text):
        return Kind.CLIENT
    if is_marker(text):
        return Kind.MARKER
    if is_header(text):
        return Kind.HEADER
    return Kind.TEXT


# --- lines in their context ----------------------------------------------------------------


def _wrapped_attribution(lines: list[str], kinds: list[Kind], end: int, size: int) -> bool:
    """Whether lines end-size+1..end are one attribution wrapped by the client."""
    start = end - size + 1
    if start < 0:
        return False
    quoted = all(kind is Kind.QUOTE for kind in kinds[start:end])
    if quoted:
        parts = [_QUOTE_MARKS.sub("", line).strip() for line in lines[start : end + 1]]
    elif all(kind in (Kind.TEXT, Kind.MARKER) for kind in kinds[start : end + 1]):
        if start > 0 and kinds[start - 1] is Kind.TEXT:
            return False  # the line above is typed text: do not glue it to an attribution
        parts = [line.strip() for line in lines[start : end + 1]]
    else:
        return False
    return _ATTRIBUTION_START.search(parts[0]) is not None and is_marker(" ".join(parts))


def _join_wrapped_attributions(lines: list[str], kinds: list[Kind]) -> None:
    """Attributions wrapped over two or three lines become markers, every line of them."""
    for end, line in enumerate(lines):
        if kinds[end] not in (Kind.TEXT, Kind.MARKER, Kind.QUOTE):
            continue
        if not line.rstrip().endswith(COLONS):
            continue
        for size in WRAPPED_LINES:
            if _wrapped_attribution(lines, kinds, end, size):
                kinds[end - size + 1 : end + 1] = [Kind.MARKER] * size
                break


def _next_kind(kinds: list[Kind], index: int) -> Kind:
    """The class of the next non-empty line after `index`."""
    return next((kind for kind in kinds[index + 1 :] if kind is not Kind.EMPTY), Kind.EMPTY)


def _separators_before_headers(lines: list[str], kinds: list[Kind]) -> None:
    """A short dashed line ("--- Оригінальне повідомлення ---") right above an embedded
    header block or an attribution separates an earlier message, whatever its words."""
    for index, line in enumerate(lines):
        if kinds[index] is not Kind.TEXT:
            continue
        core, dashed, _framed = _unframe(line.strip())
        if dashed and len(core) <= 60 and _next_kind(kinds, index) in (Kind.HEADER, Kind.MARKER):
            kinds[index] = Kind.MARKER


def _header_blocks(kinds: list[Kind]) -> list[tuple[int, int]]:
    """(first, last) indices of blocks of three or more header lines; a wrapped value (up to
    two unlabelled lines) or one empty line may stand between two header lines."""
    blocks: list[tuple[int, int]] = []
    index = 0
    while index < len(kinds):
        if kinds[index] is not Kind.HEADER:
            index += 1
            continue
        last, headers, texts, empties = index, 1, 0, 0
        for probe in range(index + 1, len(kinds)):
            kind = kinds[probe]
            if kind is Kind.HEADER:
                last, headers, texts, empties = probe, headers + 1, 0, 0
            elif kind is Kind.TEXT and texts < 2:
                texts += 1
            elif kind is Kind.EMPTY and empties < 1:
                empties += 1
            else:
                break
        if headers >= 3:
            blocks.append((index, last))
        index = last + 1
    return blocks


def _settle_header_blocks(kinds: list[Kind]) -> None:
    """Header lines in a block of three or more (with the wrapped values between them) stay
    headers; a header-like line on its own ("Subject: renewal") is typed text."""
    in_block = [False] * len(kinds)
    for first, last in _header_blocks(kinds):
        for index in range(first, last + 1):
            in_block[index] = True
            if kinds[index] is Kind.TEXT:
                kinds[index] = Kind.HEADER
    for index, kind in enumerate(kinds):
        if kind is Kind.HEADER and not in_block[index]:
            kinds[index] = Kind.TEXT


def classify(lines: list[str]) -> list[Kind]:
    """The class of every line, wrapped attributions, dashed separators and header blocks
    seen whole."""
    kinds = [classify_line(line) for line in lines]
    _join_wrapped_attributions(lines, kinds)
    _separators_before_headers(lines, kinds)
    _settle_header_blocks(kinds)
    return kinds


# --- where the reply ends -------------------------------------------------------------------


def _has(rows: Iterable[Row], *kinds: Kind) -> bool:
    """Whether any row is of one of `kinds`."""
    return any(row.kind in kinds for row in rows)


def _cut_at_delimiter(rows: list[Row]) -> list[Row]:
    """Everything from the first delimiter after something typed or quoted goes; a rule
    before anything (above a forwarded header block) goes by itself."""
    kept: list[Row] = []
    for row in rows:
        if row.kind is Kind.DELIMITER:
            if _has(kept, Kind.TEXT, Kind.QUOTE):
                return kept
            continue
        kept.append(row)
    return kept


def _bottom_post(rows: list[Row]) -> list[Row] | None:
    """The person's text when the body is an attribution, a quote, then only their text."""
    solid = [(index, row.kind) for index, row in enumerate(rows) if row.kind is not Kind.EMPTY]
    position = 0
    while position < len(solid) and solid[position][1] is Kind.MARKER:
        position += 1
    quote_start = position
    while position < len(solid) and solid[position][1] in (Kind.QUOTE, Kind.MARKER):
        position += 1
    if quote_start == 0 or position == quote_start or position == len(solid):
        return None
    if any(kind is not Kind.TEXT for _index, kind in solid[position:]):
        return None
    return rows[solid[position][0] :]


def _is_earlier_message(kinds: list[Kind]) -> bool:
    """Whether what follows a marker is the earlier message: no quote at all (an unquoted
    original or forward), or quotes and headers with at most unquoted lines after them."""
    solid = [kind for kind in kinds if kind is not Kind.EMPTY]
    if Kind.QUOTE not in solid:
        return True
    position = 0
    while position < len(solid) and solid[position] in (Kind.QUOTE, Kind.MARKER, Kind.HEADER):
        position += 1
    return all(kind is Kind.TEXT for kind in solid[position:])


def _cut_at_marker(rows: list[Row]) -> list[Row]:
    """The reply ends at the first marker below the person's text that introduces the
    earlier message; an inline reply (answers between quotes below it) goes on."""
    seen_text = False
    for index, row in enumerate(rows):
        if row.kind is Kind.TEXT:
            seen_text = True
        elif (
            row.kind is Kind.MARKER
            and seen_text
            and _is_earlier_message([r.kind for r in rows[index + 1 :]])
        ):
            return rows[:index]
    return rows


def _cut_at_header_block(rows: list[Row]) -> list[Row]:
    """The first header block with the person's text above it cuts the rest; blocks with
    nothing typed above (a forward without comment) go by themselves."""
    kept: list[Row] = []
    typed = False
    for row in rows:
        if row.kind is Kind.HEADER:
            if typed:
                return kept
            continue
        typed = typed or row.kind is Kind.TEXT
        kept.append(row)
    return kept


def _drop_trailing_quote(rows: list[Row]) -> list[Row]:
    """Quoted lines at the end go when the person wrote a line of their own."""
    if not _has(rows, Kind.TEXT):
        return rows
    end = len(rows)
    while end and rows[end - 1].kind in (Kind.QUOTE, Kind.EMPTY):
        end -= 1
    return rows[:end]


def _render(rows: list[Row]) -> str:
    """The kept lines, each without trailing blanks, without blank lines around them."""
    return "\n".join(row.line.rstrip() for row in rows).strip("\n")


def _lines(text: str) -> list[str]:
    """The lines of a body, line ends unified and invisible characters removed."""
    return INVISIBLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).split("\n")


def trim(text: str) -> str:
    """The reply the person typed in a plain-text body: quotes, attributions, earlier
    messages, signatures after a delimiter and client lines removed."""
    lines = _lines(text)
    rows = [Row(kind, line) for kind, line in zip(classify(lines), lines, strict=True)]
    rows = [row for row in _cut_at_delimiter(rows) if row.kind is not Kind.CLIENT]
    bottom = _bottom_post(rows)
    if bottom is not None:
        return _render(bottom)
    rows = [row for row in _cut_at_marker(rows) if row.kind is not Kind.MARKER]
    rows = _drop_trailing_quote(_cut_at_header_block(rows))
    return _render(rows)

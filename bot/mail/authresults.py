"""Authentication-Results (RFC 8601): what our own receiving server found out about a sender.

Anyone can write an Authentication-Results header, so only one is read: the topmost whose
authserv-id is PARTNERBOT_MAIL_AUTHSERV_ID (our receiving server prepends its header above
everything the sender wrote, and should drop incoming ones that claim its authserv-id, RFC
8601 section 5). Every other copy is ignored. What that header says decides:

- PASS when dmarc=pass (for the From's domain), or — when dmarc is none or absent — DKIM
  passed for a domain aligned with the From's (`header.d`), or SPF passed for an aligned
  envelope sender (`smtp.mailfrom`); aligned means the same organizational domain;
- FAIL when dmarc=fail;
- NONE otherwise: no header of ours, dmarc=temperror/permerror, conflicting dmarc results, a
  pass for another domain than the From's, nothing aligned passed.

Only PASS is trusted; without an authserv-id there is no verdict at all.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import StrEnum

from publicsuffixlist import PublicSuffixList


@dataclass(frozen=True)
class MethodResult:
    """One `method=result` of a header, with its properties (`header.d=example.com`…)."""

    method: str  # lowercase, without a version ("dkim/1" is "dkim")
    result: str  # lowercase
    properties: tuple[tuple[str, str], ...] = ()  # (lowercase name, value), in order

    def prop(self, name: str) -> str | None:
        """A property's value when it occurs exactly once (twice is ambiguous: None)."""
        values = [value for key, value in self.properties if key == name]
        return values[0] if len(values) == 1 else None


@dataclass(frozen=True)
class AuthResults:
    """A parsed Authentication-Results header."""

    authserv_id: str
    results: tuple[MethodResult, ...]


# --- parse -------------------------------------------------------------------------------

SEPARATORS = ";=/"
WORD = re.compile(r'[^\s()";=/]+')


@dataclass(frozen=True)
class Token:
    """A word (an atom or a quoted string's content) or one of the separators `;`, `=`, `/`."""

    text: str
    separator: bool = False


def _comment_end(value: str, start: int) -> int:
    """The index after a (possibly nested) comment starting at `start`."""
    depth, index = 0, start
    while index < len(value):
        char = value[index]
        if char == "\\":
            index += 1
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    return index


def _quoted(value: str, start: int) -> tuple[str, int]:
    """A quoted string's content (escapes undone) and the index after it."""
    out, index = [], start + 1
    while index < len(value) and value[index] != '"':
        if value[index] == "\\" and index + 1 < len(value):
            index += 1
        out.append(value[index])
        index += 1
    return "".join(out), index + 1


def tokens(value: str) -> list[Token]:
    """The words and separators of a header value; comments and white space dropped."""
    out: list[Token] = []
    index = 0
    while index < len(value):
        char = value[index]
        if char.isspace() or char == ")":  # a stray ")" is dropped too
            index += 1
        elif char == "(":
            index = _comment_end(value, index)
        elif char == '"':
            word, index = _quoted(value, index)
            out.append(Token(word))
        elif char in SEPARATORS:
            out.append(Token(char, separator=True))
            index += 1
        else:
            match = WORD.match(value, index)
            assert match is not None
            out.append(Token(match.group()))
            index = match.end()
    return out


def _join_slashes(words: list[Token]) -> list[Token]:
    """`dkim / 1` (a method's version) and `ab/cd` (a value with a slash) as one word."""
    joined: list[Token] = []
    for token in words:
        previous = joined[-1] if joined else None
        slash = token.text == "/" and token.separator
        if (
            previous is not None
            and not previous.separator
            and (slash or previous.text.endswith("/"))
        ):
            joined[-1] = Token(previous.text + token.text)
        else:
            joined.append(Token(token.text) if slash else token)
    return joined


def _pairs(words: list[Token]) -> list[tuple[str, str]]:
    """The leading `name=value` pairs of a result (a value's trailing `=` stay with it: base64
    padding); reading stops at anything else."""
    joined = _join_slashes(words)
    pairs: list[tuple[str, str]] = []
    index = 0
    while index + 3 <= len(joined):
        name, equals, value = joined[index : index + 3]
        if name.separator or value.separator or not (equals.separator and equals.text == "="):
            break
        index += 3
        text = value.text
        while index < len(joined) and joined[index].separator and joined[index].text == "=":
            text += "="
            index += 1
        pairs.append((name.text.lower(), text))
    return pairs


def _result(words: list[Token]) -> MethodResult | None:
    """One `method=result [reason=…] [ptype.property=value…]`; None if it does not start so."""
    pairs = _pairs(words)
    if not pairs:
        return None
    (method, result), *properties = pairs
    return MethodResult(method.split("/")[0], result.lower(), tuple(properties))


def parse(value: str) -> AuthResults | None:
    """A header value parsed: the authserv-id, then each `method=result` with its properties;
    None when it does not start with an authserv-id."""
    segments: list[list[Token]] = [[]]
    for token in tokens(value):
        if token.separator and token.text == ";":
            segments.append([])
        else:
            segments[-1].append(token)
    head = segments[0]
    if not head or head[0].separator:
        return None
    found = (_result(segment) for segment in segments[1:])
    return AuthResults(head[0].text, tuple(result for result in found if result is not None))


# --- decide ------------------------------------------------------------------------------


class Trust(StrEnum):
    """What our receiving server's checks say about the From."""

    PASS = "pass"  # noqa: S105 (not a password)
    FAIL = "fail"
    NONE = "none"


@dataclass(frozen=True)
class Verdict:
    """Trust, and why."""

    trust: Trust
    detail: str


def ours(values: list[str], authserv_id: str) -> AuthResults | None:
    """The topmost header whose authserv-id is ours (case-insensitive); the rest are ignored."""
    wanted = authserv_id.casefold()
    for value in values:
        parsed = parse(value)
        if parsed is not None and parsed.authserv_id.casefold() == wanted:
            return parsed
    return None


@functools.cache
def _public_suffixes() -> PublicSuffixList:
    return PublicSuffixList()  # the list bundled with the package: never fetched at run time


def _organizational(domain: str) -> str:
    domain = domain.strip().rstrip(".").lower()
    return _public_suffixes().privatesuffix(domain) or domain


def aligned(domain: str, from_domain: str) -> bool:
    """Relaxed DMARC alignment: both domains have the same organizational domain."""
    return bool(domain) and _organizational(domain) == _organizational(from_domain)


def _identifier(result: MethodResult) -> str:
    """The domain a DKIM or SPF pass vouches for ("" for other methods)."""
    if result.method == "dkim":
        return result.prop("header.d") or (result.prop("header.i") or "").rpartition("@")[2]
    if result.method == "spf":
        return (result.prop("smtp.mailfrom") or "").rpartition("@")[2]
    return ""


def _dmarc(results: list[MethodResult], from_domain: str) -> Verdict | None:
    """The verdict of our dmarc result; None when dmarc is none or absent."""
    found = {result.result for result in results}
    if len(found) > 1:
        return Verdict(Trust.NONE, "conflicting dmarc results: " + ", ".join(sorted(found)))
    if not found or found == {"none"}:
        return None
    [outcome] = found
    if outcome == "fail":
        return Verdict(Trust.FAIL, "dmarc=fail")
    if outcome != "pass":
        return Verdict(Trust.NONE, f"dmarc={outcome}")
    checked = {(result.prop("header.from") or from_domain).lower() for result in results}
    if checked != {from_domain}:
        return Verdict(Trust.NONE, "dmarc passed for another domain than the From's")
    return Verdict(Trust.PASS, "dmarc=pass")


def verdict(values: list[str], authserv_id: str, from_domain: str) -> Verdict:
    """What our server's Authentication-Results header says about a From domain (see the
    module's docstring); `values` are every Authentication-Results header, topmost first."""
    header = ours(values, authserv_id)
    if header is None:
        return Verdict(Trust.NONE, f"no Authentication-Results header from {authserv_id}")
    from_domain = from_domain.lower()
    dmarc = _dmarc([r for r in header.results if r.method == "dmarc"], from_domain)
    if dmarc is not None:
        return dmarc
    for result in header.results:
        if result.result == "pass" and aligned(_identifier(result), from_domain):
            return Verdict(Trust.PASS, f"{result.method}=pass, aligned with {from_domain}")
    return Verdict(Trust.NONE, "no dmarc result and no aligned dkim or spf pass")

"""The one way text reaches Slack as mrkdwn: markup written in code, everything else escaped.

Slack reads `<…>` as links, mentions and `<!channel>`, and `&` starts an entity, so text a
person typed (a customer's name, a decline reason, an email address) must have `&`, `<` and
`>` escaped before it is shown. `Mrkdwn` marks text that is already safe: every block
builder and every notification takes `Mrkdwn`, never `str`, so mypy refuses a message built
from raw input, and `md()` escapes each value it formats into a template.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import LiteralString

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# A cut must not leave half an entity (`&am`) or half a link (`<https://…`).
_OPEN_MARKUP = re.compile(r"(&[a-z]{0,5}|<[^>]*)$")


class Mrkdwn(str):
    """Text safe to send to Slack as mrkdwn."""

    __slots__ = ()


def escape(text: object) -> Mrkdwn:
    """Any value as literal text in mrkdwn (`&`, `<`, `>` escaped)."""
    return Mrkdwn(str(text).translate(_ESCAPES))


def literal(markup: LiteralString) -> Mrkdwn:
    """Markup written in the code itself (no user text in it)."""
    return Mrkdwn(markup)


def _safe(value: object) -> object:
    if isinstance(value, Mrkdwn | int | float | Decimal):  # numbers keep their format specs
        return value
    return escape(value)


def md(template: LiteralString, *args: object, **kwargs: object) -> Mrkdwn:
    """`template.format(…)` with every value escaped unless it is already `Mrkdwn`."""
    return Mrkdwn(
        template.format(*(_safe(a) for a in args), **{k: _safe(v) for k, v in kwargs.items()})
    )


def join(parts: Iterable[Mrkdwn], separator: LiteralString = "\n") -> Mrkdwn:
    """Safe pieces joined by a literal separator."""
    return Mrkdwn(separator.join(parts))


def truncate(text: Mrkdwn, limit: int) -> Mrkdwn:
    """Cut to Slack's limit, marking the cut with an ellipsis, never inside an escape or link."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    return Mrkdwn(_OPEN_MARKUP.sub("", cut) + "…")

"""The one way text reaches Slack as mrkdwn: markup written in code, everything else escaped.

Slack reads `<…>` as links, mentions and `<!channel>`, and `&` starts an entity, so text a
person typed (a customer's name, a decline reason, an email address) must have `&`, `<` and
`>` escaped before it is shown. `Mrkdwn` marks text that is already safe: every block
builder and every notification takes `Mrkdwn`, never `str`, so mypy refuses a message built
from raw input, and `md()` escapes each value it formats into a template.
"""

from __future__ import annotations

import html
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


_LINK = re.compile(
    r"&lt;((?:https?|mailto):[^\s|&]+(?:&amp;[^\s|&]+)*)(?:\|([^&]*(?:&amp;[^&]*)*))?&gt;"
)


def authored(text: str) -> Mrkdwn:
    """Mrkdwn a manager wrote on purpose (an announcement): their *bold*, _italics_, `code`,
    > quotes and links (`<https://…|label>`) work; mentions, `<!channel>` and every other
    `<…>` stay literal text."""
    escaped = str(escape(text))

    def link(match: re.Match[str]) -> str:
        url, label = match.group(1), match.group(2)
        return f"<{url}|{label}>" if label else f"<{url}>"

    return Mrkdwn(_LINK.sub(link, escaped))


_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EMPHASIS = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_BULLET = re.compile(r"^([ \t]*)[-*+][ \t]+", re.MULTILINE)
_LINK_MD = re.compile(r"\[([^\]\n]+)\]\(((?:https?|mailto):[^)\s]+)\)")


def from_markdown(text: str) -> str:
    """Markdown an admin wrote (training content) in Slack's mrkdwn syntax, to pass on to
    `authored` (Slack) or `to_text`/`to_html` (email): headings and **bold** as *bold*,
    *emphasis* as _italics_, `- ` bullets as •, [label](url) as a link."""
    strong: list[str] = []

    def hold(match: re.Match[str]) -> str:
        strong.append(match.group(2))
        return f"\x00{len(strong) - 1}\x00"

    text = _HEADING.sub(lambda m: "**" + m.group(1) + "**", text.replace("\r\n", "\n"))
    text = _STRONG.sub(hold, text)
    text = _EMPHASIS.sub(r"_\1_", text)
    text = re.sub(r"\x00(\d+)\x00", lambda m: "*" + strong[int(m.group(1))] + "*", text)
    text = _BULLET.sub(r"\1• ", text)
    return _LINK_MD.sub(lambda m: f"<{m.group(2)}|{m.group(1)}>", text)


_MD_LINK = re.compile(r"<((?:https?|mailto):[^|>\s]+)(?:\|([^>]*))?>")
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])")
_CODE = re.compile(r"`([^`\n]+)`")


def to_text(text: str) -> str:
    """A manager's mrkdwn as plain text for an email: markers dropped, links as
    `label (url)`."""
    plain = _MD_LINK.sub(
        lambda m: f"{m.group(2)} ({m.group(1)})" if m.group(2) else m.group(1), text
    )
    for pattern in (_BOLD, _ITALIC, _STRIKE, _CODE):
        plain = pattern.sub(r"\1", plain)
    return plain


QUOTE_STYLE = ' style="border-left:3px solid #ddd;margin:0;padding-left:12px"'


def to_html(text: str) -> str:
    """A manager's mrkdwn as safe HTML for an email: paragraphs, line breaks, *bold*,
    _italics_, ~strike~, `code`, > quotes and links; everything else escaped."""

    def inline(line: str) -> str:
        parts, last = [], 0
        for match in _MD_LINK.finditer(line):
            parts.append(_inline_marks(html.escape(line[last : match.start()])))
            url = html.escape(match.group(1), quote=True)
            label = html.escape(match.group(2) or match.group(1))
            parts.append(f'<a href="{url}">{label}</a>')
            last = match.end()
        parts.append(_inline_marks(html.escape(line[last:])))
        return "".join(parts)

    blocks = []
    for paragraph in text.replace("\r\n", "\n").split("\n\n"):
        lines = paragraph.split("\n")
        if all(line.startswith(">") for line in lines if line.strip()):
            quoted = "<br>".join(inline(line.lstrip(">").lstrip()) for line in lines)
            blocks.append(f"<blockquote{QUOTE_STYLE}>{quoted}</blockquote>")
        elif paragraph.strip():
            blocks.append("<p>" + "<br>".join(inline(line) for line in lines) + "</p>")
    return "\n".join(blocks)


def _inline_marks(escaped: str) -> str:
    escaped = _CODE.sub(r"<code>\1</code>", escaped)
    escaped = _BOLD.sub(r"<strong>\1</strong>", escaped)
    escaped = _ITALIC.sub(r"<em>\1</em>", escaped)
    return _STRIKE.sub(r"<s>\1</s>", escaped)

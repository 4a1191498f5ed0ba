"""What people saw, for a terminal: Slack's Block Kit (messages, modals, the Home tab) and
emails rendered readably from the real payloads — rich markup with colour on a terminal,
plain text otherwise."""

from __future__ import annotations

import email
import email.policy
import html
import re
from email.message import EmailMessage
from typing import Any

from rich.markup import escape

_DATE = re.compile(r"<!date\^\d+\^[^|>]*\|([^>]*)>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)\|([^>]*)>|<((?:https?|mailto):[^>]+)>")
_MENTION = re.compile(r"<[@#!]([^>|]+)(?:\|([^>]*))?>")
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
_CODE = re.compile(r"`([^`\n]+)`")
_EMOJI = {
    ":white_check_mark:": "✅",
    ":x:": "❌",
    ":warning:": "⚠️",
    ":hourglass:": "⏳",
    ":hourglass_flowing_sand:": "⏳",
    ":question:": "❓",
    ":tada:": "🎉",
    ":bell:": "🔔",
    ":point_right:": "👉",
    ":new:": "🆕",
    ":repeat:": "🔁",
    ":zzz:": "💤",
    ":speech_balloon:": "💬",
    ":leftwards_arrow_with_hook:": "↩️",
    ":rotating_light:": "🚨",
    ":mag:": "🔍",
    ":shield:": "🛡️",
    ":large_green_circle:": "🟢",
    ":large_yellow_circle:": "🟡",
    ":red_circle:": "🔴",
    ":information_source:": "\u2139\ufe0f",
    ":no_entry:": "⛔",
    ":calendar:": "📅",
    ":email:": "📧",
    ":outbox_tray:": "📤",
}


def mrkdwn(text: str) -> str:
    """Slack mrkdwn as rich markup: *bold*, _italics_, `code`, links as their label, dates
    as their fallback, entities decoded; everything else literal."""
    text = _DATE.sub(lambda m: m.group(1), text)
    links: list[str] = []

    def hold(label: str) -> str:
        links.append(label)
        return f"\x00{len(links) - 1}\x00"

    text = _LINK.sub(lambda m: hold(m.group(2) or m.group(3)), text)
    text = _MENTION.sub(lambda m: hold("@" + (m.group(2) or m.group(1))), text)
    text = html.unescape(text)
    for code, glyph in _EMOJI.items():
        text = text.replace(code, glyph)
    text = escape(text)
    text = _CODE.sub(r"[cyan]\1[/cyan]", text)
    text = _BOLD.sub(r"[bold]\1[/bold]", text)
    text = _ITALIC.sub(r"[italic]\1[/italic]", text)
    return re.sub(
        r"\x00(\d+)\x00", lambda m: "[underline]" + escape(links[int(m.group(1))]) + "[/]", text
    )


def _plain(obj: dict[str, Any] | None) -> str:
    return escape(html.unescape(str((obj or {}).get("text", ""))))


def _element(element: dict[str, Any]) -> str:
    kind = element.get("type")
    if kind == "button":
        style = {"primary": "green", "danger": "red"}.get(str(element.get("style")), "blue")
        return f"[bold {style}]⟦ {_plain(element.get('text'))} ⟧[/]"
    if kind in ("radio_buttons", "checkboxes", "static_select", "multi_static_select"):
        options = [_plain(o.get("text")) for o in element.get("options") or []]
        mark = "◯" if kind == "radio_buttons" else "☐" if kind == "checkboxes" else "▾"
        return "  ".join(f"{mark} {option}" for option in options[:10])
    if kind == "datepicker":
        return "[dim]📅 pick a date[/dim]"
    if kind in ("plain_text_input", "email_text_input", "number_input"):
        return "[dim]▁▁▁▁▁▁▁▁▁▁[/dim]"
    if kind == "mrkdwn":
        return mrkdwn(str(element.get("text", "")))
    if kind == "plain_text":
        return _plain(element)
    return f"[dim]({escape(str(kind))})[/dim]"


def blocks(shown: list[dict[str, Any]], *, limit: int = 40) -> list[str]:
    """Block Kit blocks as lines of rich markup."""
    lines: list[str] = []
    for block in shown[:limit]:
        kind = block.get("type")
        if kind == "header":
            lines.append(f"[bold underline]{_plain(block.get('text'))}[/]")
        elif kind == "section":
            text = block.get("text") or {}
            body = (
                mrkdwn(str(text.get("text", ""))) if text.get("type") == "mrkdwn" else _plain(text)
            )
            lines += body.splitlines() or [""]
            for field in block.get("fields") or []:
                lines.append("  " + mrkdwn(str(field.get("text", ""))))
            if block.get("accessory"):
                lines.append("  " + _element(block["accessory"]))
        elif kind == "context":
            lines.append(
                "[dim]" + "  ".join(_element(e) for e in block.get("elements") or []) + "[/dim]"
            )
        elif kind == "actions":
            lines.append("  ".join(_element(e) for e in block.get("elements") or []))
        elif kind == "divider":
            lines.append("[dim]" + "─" * 40 + "[/dim]")
        elif kind == "input":
            lines.append(f"[bold]{_plain(block.get('label'))}[/bold]")
            lines.append("  " + _element(block.get("element") or {}))
    if len(shown) > limit:
        lines.append(f"[dim]… {len(shown) - limit} more blocks[/dim]")
    return lines


def view(shown: dict[str, Any]) -> list[str]:
    """A modal (or the Home tab) with its title and buttons."""
    title = _plain(shown.get("title")) or "Home"
    lines = [f"[reverse] {title} [/reverse]", *blocks(shown.get("blocks") or [])]
    buttons = [f"⟦ {_plain(shown[key])} ⟧" for key in ("close", "submit") if shown.get(key)]
    if buttons:
        lines.append("[bold]" + "  ".join(buttons) + "[/bold]")
    return lines


def message(params: dict[str, Any]) -> list[str]:
    """A chat.postMessage / chat.update / response_url payload."""
    shown = params.get("blocks")
    if isinstance(shown, list) and shown:
        return blocks(shown)
    return mrkdwn(str(params.get("text", ""))).splitlines()


def mail(raw: bytes, *, lines: int = 40) -> list[str]:
    """An email: its envelope and the text part, as the recipient reads it."""
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    body = parsed.get_body(("plain",))
    text = body.get_content() if body is not None else ""
    head = [
        f"[bold]From:[/bold] {escape(str(parsed['From']))}",
        f"[bold]To:[/bold] {escape(str(parsed['To']))}",
        f"[bold]Subject:[/bold] {escape(str(parsed['Subject']))}",
    ]
    if parsed["Reply-To"]:
        head.append(f"[bold]Reply-To:[/bold] [dim]{escape(str(parsed['Reply-To']))}[/dim]")
    rows = [escape(line) for line in text.replace("\r\n", "\n").rstrip().splitlines()]
    if len(rows) > lines:
        rows = [*rows[:lines], f"[dim]… {len(rows) - lines} more lines[/dim]"]
    return [*head, "", *rows]

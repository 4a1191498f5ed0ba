"""How each queued notification reads: Slack text and blocks, or an email template.

`bot/domain/notifications.py` queues a `kind` and plain facts; the delivery loop asks this
module to render them, so the words live in one place per kind and the domain knows nothing
of Slack or email.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.blocks import Block, actions, button, context, section, slack_date
from bot.ids import ActionId
from bot.mail.tokens import SubjectKind
from bot.mrkdwn import Mrkdwn, join, literal, md


@dataclass(frozen=True)
class Email:
    """An email rendered from `templates/email/<template>.*.j2`."""

    template: str
    context: dict[str, Any]
    subject_kind: SubjectKind | None = None
    subject_id: int | None = None


@dataclass(frozen=True)
class Notice:
    """A notification ready to send."""

    text: Mrkdwn  # Slack's fallback text (notifications, screen readers)
    blocks: list[Block] = field(default_factory=list)
    email: Email | None = None


Renderer = Callable[[dict[str, Any]], Notice]
RENDERERS: dict[str, Renderer] = {}


def renders(kind: str) -> Callable[[Renderer], Renderer]:
    """Register the renderer of a notification kind."""

    def add(function: Renderer) -> Renderer:
        RENDERERS[kind] = function
        return function

    return add


def render(kind: str, payload: dict[str, Any]) -> Notice:
    """The notice for a queued notification; KeyError for a kind nobody renders."""
    return RENDERERS[kind](payload)


def _when(value: str | None) -> Mrkdwn:
    return slack_date(datetime.fromisoformat(value)) if value else literal("?")


def _day(value: str | None) -> str:
    return datetime.fromisoformat(value).strftime("%d %b %Y") if value else "?"


def _deal_email(payload: dict[str, Any], headline: str, message: str) -> Email:
    return Email(
        "deal_update",
        {
            "customer": payload["customer"],
            "domain": payload["domain"],
            "headline": headline,
            "message": message,
            "question": "",
        },
        SubjectKind.DEAL,
        int(payload["deal_id"]),
    )


def _open_button(payload: dict[str, Any]) -> Block:
    return actions(button("Open deal", ActionId.OPEN_DEAL, str(payload["deal_id"])))


@renders("deal.expiry_reminder")
def expiry_reminder(payload: dict[str, Any]) -> Notice:
    """To the partner, a few days before their protection ends."""
    text = md(
        ":hourglass: Protection for *{}* ends {}. If the deal needs more time, ask for an"
        " extension.",
        payload["customer"],
        _when(payload["protection_expires_at"]),
    )
    return Notice(
        text,
        [
            section(text),
            actions(
                button("Request extension", ActionId.REQUEST_EXTENSION, str(payload["deal_id"]))
            ),
        ],
        _deal_email(
            payload,
            f"Protection ends on {_day(payload['protection_expires_at'])}",
            'If the deal needs more time, reply "extend 30" (15, 30 or 60 days).',
        ),
    )


@renders("deal.expired")
def expired(payload: dict[str, Any]) -> Notice:
    """To the partner, when protection ended."""
    text = md(
        ":zzz: Protection for *{}* has ended: the customer is open for registration again.",
        payload["customer"],
    )
    return Notice(
        text,
        [section(text)],
        _deal_email(payload, "Protection ended", "The customer is open for registration again."),
    )


@renders("deal.expired_desk")
def expired_desk(payload: dict[str, Any]) -> Notice:
    """To the deal desk, when a registration expired."""
    text = md(
        ":zzz: Protection for *{}* ({}) ended {}; the customer is released.",
        payload["customer"],
        payload.get("partner", "?"),
        _when(payload["protection_expires_at"]),
    )
    return Notice(text, [section(text)])


@renders("deal.sla_reminder")
def sla_reminder(payload: dict[str, Any]) -> Notice:
    """To the channel manager, half-way through the approval SLA."""
    text = md(
        ":hourglass_flowing_sand: *{}* from {} is waiting for a decision, due {}.",
        payload["customer"],
        payload.get("partner", "?"),
        _when(payload["sla_due_at"]),
    )
    email = Email(
        "deal_reminder",
        {
            "customer": payload["customer"],
            "partner": payload.get("partner", ""),
            "headline": f"Waiting for your decision, due {_day(payload['sla_due_at'])}",
        },
        SubjectKind.APPROVAL,
        int(payload["deal_id"]),
    )
    return Notice(text, [section(text), _open_button(payload)], email)


@renders("deal.sla_escalation")
def sla_escalation(payload: dict[str, Any]) -> Notice:
    """To the deal desk (or a manager): the registrations past their approval SLA."""
    items = payload["items"]
    lines = [
        md(
            "• *{}* from {}: due {}",
            item["customer"],
            item.get("partner", "?"),
            _when(item["sla_due_at"]),
        )
        for item in items[:40]
    ]
    if len(items) > 40:
        lines.append(md("…and {} more (`partnerbot report sla`)", len(items) - 40))
    text = md(":rotating_light: {} registration(s) are past their approval SLA:", len(items))
    blocks = [section(md("{}\n{}", text, join(lines)))]
    if len(items) == 1:
        blocks.append(_open_button(items[0]))
    email = Email(
        "deal_reminder",
        {
            "customer": ", ".join(item["customer"] for item in items[:10]),
            "partner": "",
            "headline": "Past the approval SLA",
        },
    )
    return Notice(text, blocks, email)


@renders("deal.inactive")
def inactive(payload: dict[str, Any]) -> Notice:
    """To the channel manager: an approved deal with no activity for a while."""
    text = md(
        ":mag: *{}* ({}) has had no activity for {} days; protected until {}.",
        payload["customer"],
        payload.get("partner", "?"),
        payload["days"],
        _when(payload["protection_expires_at"]),
    )
    email = Email(
        "deal_reminder",
        {
            "customer": payload["customer"],
            "partner": payload.get("partner", ""),
            "headline": f"No activity for {payload['days']} days: consider reassigning it",
        },
    )
    return Notice(
        text, [section(text), context(literal("Flagged once.")), _open_button(payload)], email
    )

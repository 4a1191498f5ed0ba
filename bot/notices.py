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
from bot.domain.training import answer_example
from bot.ids import ActionId
from bot.mail.tokens import SubjectKind
from bot.mrkdwn import Mrkdwn, from_markdown, join, literal, md, to_html, to_text
from bot.views import announcements as announcement_views
from bot.views import training as training_views


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


# --- Announcements --------------------------------------------------------------------------


def _announcement_email(payload: dict[str, Any], *, reminder: bool = False) -> Email:
    deadline = payload.get("deadline")
    return Email(
        "announcement",
        {
            "title": ("Reminder: " if reminder else "") + str(payload["title"]),
            "body": to_text(str(payload.get("body", ""))),
            "body_html": to_html(str(payload.get("body", ""))),
            "ack_required": bool(payload.get("ack_required")),
            "deadline": _day(deadline) if deadline else "",
            "published_by": payload.get("published_by") or "the partner team",
        },
        SubjectKind.ANNOUNCEMENT,
        int(payload["announcement_id"]),
    )


@renders("announcement")
def announcement(payload: dict[str, Any]) -> Notice:
    """The announcement itself: a DM with its buttons, or an email to reply to."""
    return Notice(
        announcement_views.dm_text(payload),
        announcement_views.dm(payload),
        _announcement_email(payload),
    )


@renders("announcement.reminder")
def announcement_reminder(payload: dict[str, Any]) -> Notice:
    """To someone who has not acknowledged yet, before the deadline."""
    text = md("Reminder: please acknowledge {}", payload["title"])
    return Notice(
        text, announcement_views.reminder(payload), _announcement_email(payload, reminder=True)
    )


@renders("announcement.missed")
def announcement_missed(payload: dict[str, Any]) -> Notice:
    """To a channel manager after the deadline: who never acknowledged."""
    people = payload["people"]
    lines = [md("• {} ({})", p["name"], p["company"]) for p in people[:60]]
    if len(people) > 60:
        lines.append(
            md(
                "…and {} more (`partnerbot report acks {}`)",
                len(people) - 60,
                payload["announcement_id"],
            )
        )
    text = md(
        ":warning: {} of your partners' people never acknowledged *{}*:",
        len(people),
        payload["title"],
    )
    email = Email(
        "deal_reminder",
        {
            "customer": payload["title"],
            "partner": "",
            "headline": f"{len(people)} people never acknowledged: "
            + ", ".join(f"{p['name']} ({p['company']})" for p in people[:20]),
        },
    )
    return Notice(text, [section(md("{}\n{}", text, join(lines)))], email)


@renders("announcement.question")
def announcement_question(payload: dict[str, Any]) -> Notice:
    """To the publisher: a partner's question about their announcement."""
    text = md(
        ":speech_balloon: {} ({}) asks about *{}*:\n>{}",
        payload["asker"],
        payload.get("company") or "?",
        payload["title"],
        payload["question"],
    )
    email = Email(
        "deal_reminder",
        {
            "customer": payload["title"],
            "partner": payload.get("company") or "",
            "headline": f"{payload['asker']} asks: {payload['question']}",
        },
    )
    return Notice(text, [section(text)], email)


# --- Training -------------------------------------------------------------------------------


def _quiz_email(payload: dict[str, Any], *, intro: str = "", intro_subject: str = "") -> Email:
    """A module by email: its content and numbered quiz with lettered choices, to answer by
    replying (the reply address names the module)."""
    questions = payload.get("questions") or []
    example = answer_example(len(questions))
    content = from_markdown(str(payload.get("content", "")))
    return Email(
        "training",
        {
            "title": payload["title"],
            "content": to_text(content),
            "content_html": to_html(content),
            "questions": questions,
            "example": example,
            "pass_mark": payload.get("pass_mark", 80),
            "certification": payload.get("certification") or "",
            "valid_days": payload.get("valid_days") or "",
            "intro": intro,
            "intro_subject": intro_subject,
        },
        SubjectKind.TRAINING,
        int(payload["module_id"]),
    )


@renders("training.invite")
def training_invite(payload: dict[str, Any]) -> Notice:
    """An invitation to a module: a DM with `Start training`, or the module and its quiz by
    email."""
    return Notice(
        md("Training: {}", payload["title"]), training_views.invite(payload), _quiz_email(payload)
    )


@renders("training.recertify")
def training_recertify(payload: dict[str, Any]) -> Notice:
    """Before a certification expires: take the module again (Slack), or answer its quiz by
    email."""
    expires, name = _day(payload.get("expires_at")), payload["certification"]
    if payload.get("expired"):
        intro = (
            f"Your {name} certification expired on {expires}. To regain it, take the module "
            "again: answer the quiz below by replying to this email."
        )
        subject, text = (
            f"Your {name} certification has expired",
            md("Your {} certification has expired", name),
        )
    else:
        intro = (
            f"Your {name} certification expires on {expires}. To renew it, take the module "
            "again: answer the quiz below by replying to this email."
        )
        subject, text = (
            f"Renew your {name} certification by {expires}",
            md("Your {} certification expires soon", name),
        )
    return Notice(
        text,
        training_views.recertify(payload),
        _quiz_email(payload, intro=intro, intro_subject=subject),
    )


@renders("training.result")
def training_result(payload: dict[str, Any]) -> Notice:
    """A graded quiz: passed (with the certification and its expiry) or not (which questions
    were wrong, and when to try again) — never the right answers."""
    text = training_views.result_text(payload)
    if payload["passed"]:
        headline = f"You passed {payload['title']}"
        message = (
            f"You passed “{payload['title']}”: {payload['right']} of {payload['total']} right."
        )
        if payload.get("certification") and payload.get("expires_at"):
            until = _day(payload["expires_at"])
            message += (
                f"\nYou are certified as {payload['certification']} until {until}."
                if payload.get("renewed")
                else f"\nYour {payload['certification']} certification already runs until "
                f"{until}; it can be renewed in its last 30 days."
            )
        retry = ""
    else:
        headline = f"Not passed yet: {payload['title']}"
        wrong = ", ".join(str(n) for n in payload["wrong"])
        message = (
            f"You answered {payload['right']} of {payload['total']} questions of "
            f"“{payload['title']}” right ({payload['percent']}%; {payload['pass_mark']}% "
            f"needed).\nQuestion {wrong} {'was' if len(payload['wrong']) == 1 else 'were'} "
            "not right."
        )
        at = payload.get("retry_at")
        retry = (
            f"You can try again from {datetime.fromisoformat(at):%H:%M} UTC on {_day(at)} by "
            "replying to this email with all your answers."
            if at
            else "You can try again by replying to this email with all your answers."
        )
    email = Email(
        "training_result",
        {"headline": headline, "message": message, "retry": retry},
        SubjectKind.TRAINING,
        int(payload["module_id"]),
    )
    return Notice(text, [section(text)], email)


@renders("training.help")
def training_help(payload: dict[str, Any]) -> Notice:
    """A reply to a quiz that could not be graded (no answers, or not all of them): how to
    answer — it counts as no attempt."""
    text = md("{} (“{}”)", payload["problem"], payload["title"])
    email = Email(
        "training_result",
        {
            "headline": f"About your answers: {payload['title']}",
            "message": payload["problem"],
            "retry": "Nothing was recorded: reply to this email again with your answers.",
        },
        SubjectKind.TRAINING,
        int(payload["module_id"]),
    )
    return Notice(text, [section(text)], email)


@renders("certification.expired")
def certification_expired(payload: dict[str, Any]) -> Notice:
    """To the partner's channel manager: a certification lapsed, and with it the rights it
    gave."""
    text = md(
        ":warning: {}'s *{}* certification ({}) expired on {}.",
        payload["person"],
        payload["certification"],
        payload["company"],
        _day(payload["expires_at"]),
    )
    if payload.get("products"):
        text = md(
            "{} Unless someone else there holds it, {} can no longer register {}.",
            text,
            payload["company"],
            ", ".join(payload["products"]),
        )
    message = (
        f"{payload['person']}'s {payload['certification']} certification ({payload['company']}) "
        f"expired on {_day(payload['expires_at'])}."
    )
    if payload.get("products"):
        message += (
            f" Unless someone else there holds it, {payload['company']} can no longer register "
            + ", ".join(payload["products"])
            + "."
        )
    email = Email(
        "training_result",
        {
            "headline": f"{payload['person']}'s {payload['certification']} certification expired",
            "message": message,
            "retry": "",
        },
    )
    return Notice(text, [section(text)], email)

"""Block Kit for announcements: the `/announce` modal and its confirmation, the DM with
`Acknowledge` and `Ask a question`, the publisher's progress message, read receipts, and the
rules-of-engagement gate before a registration."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.blocks import (
    MODAL_TITLE_LIMIT,
    Block,
    actions,
    button,
    context,
    header,
    paragraphs,
    plain,
    section,
    slack_date,
)
from bot.domain.publishing import MAX_TITLE, Audience, Progress, Receipts
from bot.ids import ActionId, ViewId
from bot.mrkdwn import Mrkdwn, authored, join, literal, md
from store.models import Announcement, PartnerType

SECTION = 2900  # a section's text is at most 3,000 characters (and escaping grows it)
BODY_SECTIONS = 40  # a DM holds 50 blocks; the body never needs more than this
# DESIGN.md "Public surface": these labels are a contract.
LABELS = {
    "title": "Title",
    "message": "Message",
    "partner_types": "Partner types",
    "tiers": "Tiers",
    "regions": "Regions",
    "via": "Send by",
    "ack": "Acknowledgement required",
    "deadline": "Deadline",
    "rules": "Rules of engagement",
}


def announcement_facts(announcement: Announcement, publisher: str = "") -> dict[str, Any]:
    """What rendering an announcement needs (read once per delivery round)."""
    return {
        "announcement_id": announcement.id,
        "title": announcement.title,
        "body": announcement.body,
        "ack_required": announcement.ack_required,
        "deadline": announcement.deadline.isoformat() if announcement.deadline else None,
        "rules": announcement.rules,
        "published_by": publisher,
    }


def body_sections(body: str) -> list[Block]:
    """The manager's text as sections of at most 3,000 characters, cut between paragraphs
    (or lines, or words) — never refused by Slack, whatever its length."""
    chunks = paragraphs(body, SECTION)
    blocks = [section(authored(chunk)) for chunk in chunks if chunk.strip()]
    if len(blocks) > BODY_SECTIONS:
        more = context(literal("The message continues in the email we sent you."))
        blocks = [*blocks[: BODY_SECTIONS - 1], more]
    return blocks


def _deadline(facts: dict[str, Any]) -> Mrkdwn:
    return (
        slack_date(datetime.fromisoformat(facts["deadline"]))
        if facts.get("deadline")
        else literal("")
    )


def dm(facts: dict[str, Any], *, acknowledged_at: datetime | None = None) -> list[Block]:
    """The announcement in a partner's DM: the text, then Acknowledge / Ask a question (or,
    once acknowledged, when)."""
    value = str(facts["announcement_id"])
    blocks: list[Block] = [header(str(facts["title"]))]
    blocks += body_sections(str(facts["body"]))
    line = md("Published by {}", facts.get("published_by") or "the partner team")
    if facts.get("rules"):
        line = md("{} · the current rules of engagement", line)
    if facts.get("ack_required") and facts.get("deadline"):
        line = md("{} · please acknowledge by {}", line, _deadline(facts))
    blocks.append(context(line))
    if acknowledged_at is not None:
        blocks.append(
            section(md(":white_check_mark: Acknowledged on {}", slack_date(acknowledged_at)))
        )
        blocks.append(actions(button("Ask a question", ActionId.ASK_QUESTION, value)))
    else:
        buttons = [button("Ask a question", ActionId.ASK_QUESTION, value)]
        if facts.get("ack_required"):
            buttons.insert(0, button("Acknowledge", ActionId.ACKNOWLEDGE, value, style="primary"))
        blocks.append(actions(*buttons))
    return blocks[:50]


def dm_text(facts: dict[str, Any]) -> Mrkdwn:
    """The DM's notification text."""
    return md(
        "{}: {}",
        "Please acknowledge" if facts.get("ack_required") else "Announcement",
        facts["title"],
    )


def reminder(facts: dict[str, Any]) -> list[Block]:
    """A reminder to someone who has not acknowledged yet."""
    value = str(facts["announcement_id"])
    return [
        section(
            md(
                ":bell: Please acknowledge *{}* by {} — one click.",
                facts["title"],
                _deadline(facts),
            )
        ),
        actions(
            button("Acknowledge", ActionId.ACKNOWLEDGE, value, style="primary"),
            button("Ask a question", ActionId.ASK_QUESTION, value),
        ),
    ]


# --- Publishing --------------------------------------------------------------------------------


def _multi(block_id: str, options: list[str], *, optional: bool = True) -> Block:
    element: dict[str, Any] = {"type": "multi_static_select", "action_id": "value"}
    if options:
        element["options"] = [
            {"text": plain(option, 75), "value": option[:150]} for option in options[:100]
        ]
        element["placeholder"] = plain("Everyone", 150)
    else:
        element = {"type": "plain_text_input", "action_id": "value", "max_length": 500}
    return {
        "type": "input",
        "block_id": block_id,
        "label": plain(LABELS[block_id], 2000),
        "element": element,
        "optional": optional,
        "hint": plain("Empty: everyone.", 2000),
    }


def announce_modal(tiers: list[str], regions: list[str]) -> dict[str, Any]:
    """`/announce`: the contract's labels, each filter optional (empty = everyone)."""
    checkbox = lambda value, text: {"text": plain(text, 75), "value": value}  # noqa: E731
    blocks: list[Block] = [
        {
            "type": "input",
            "block_id": "title",
            "label": plain(LABELS["title"], 2000),
            "element": {"type": "plain_text_input", "action_id": "value", "max_length": MAX_TITLE},
        },
        {
            "type": "input",
            "block_id": "message",
            "label": plain(LABELS["message"], 2000),
            "element": {
                "type": "plain_text_input",
                "action_id": "value",
                "multiline": True,
                "max_length": 3000,  # Slack's input limit; longer messages: `partnerbot announce`
            },
            "hint": plain(
                "Slack formatting (*bold*, _italics_, links) works here and in email.", 2000
            ),
        },
        _multi("partner_types", [t.value for t in PartnerType]),
        _multi("tiers", tiers),
        _multi("regions", regions),
        {
            "type": "input",
            "block_id": "via",
            "label": plain(LABELS["via"], 2000),
            "element": {
                "type": "checkboxes",
                "action_id": "value",
                "options": [checkbox("slack", "Slack"), checkbox("email", "Email")],
                "initial_options": [checkbox("slack", "Slack")],
            },
            "hint": plain("People without Slack get an email either way.", 2000),
        },
        {
            "type": "input",
            "block_id": "ack",
            "label": plain(LABELS["ack"], 2000),
            "optional": True,
            "element": {
                "type": "checkboxes",
                "action_id": "value",
                "options": [checkbox("yes", "Ask everyone to acknowledge")],
            },
        },
        {
            "type": "input",
            "block_id": "deadline",
            "label": plain(LABELS["deadline"], 2000),
            "optional": True,
            "element": {"type": "datepicker", "action_id": "value"},
        },
        {
            "type": "input",
            "block_id": "rules",
            "label": plain(LABELS["rules"], 2000),
            "optional": True,
            "element": {
                "type": "checkboxes",
                "action_id": "value",
                "options": [checkbox("yes", "These are the new rules of engagement")],
            },
        },
    ]
    return {
        "type": "modal",
        "callback_id": ViewId.ANNOUNCE,
        "title": plain("New announcement", MODAL_TITLE_LIMIT),
        "submit": plain("Next", MODAL_TITLE_LIMIT),
        "close": plain("Cancel", MODAL_TITLE_LIMIT),
        "blocks": blocks,
    }


def read_announce(values: dict[str, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """The submitted `/announce` form's raw values."""

    def element(block_id: str) -> dict[str, Any]:
        return (values.get(block_id) or {}).get("value") or {}

    def chosen(block_id: str) -> list[str]:
        item = element(block_id)
        if "selected_options" in item:
            return [str(o.get("value", "")) for o in item.get("selected_options") or []]
        return [v for v in str(item.get("value") or "").replace(",", " ").split() if v]

    return {
        "title": str(element("title").get("value") or ""),
        "body": str(element("message").get("value") or ""),
        "partner_types": chosen("partner_types"),
        "tiers": chosen("tiers"),
        "regions": chosen("regions"),
        "via": chosen("via"),
        "ack_required": "yes" in chosen("ack"),
        "deadline": element("deadline").get("selected_date") or None,
        "rules": "yes" in chosen("rules"),
    }


def confirm_view(announcement: Announcement, reach: Audience) -> dict[str, Any]:
    """Before sending: how many people and companies it reaches, and how; Send or Cancel."""
    lines = [
        md(
            "*{}* will reach *{} people* at *{} companies* ({} by Slack, {} by email).",
            announcement.title,
            reach.people,
            reach.companies,
            reach.by("slack"),
            reach.by("email"),
        )
    ]
    if reach.unreachable:
        lines.append(
            md(":warning: {} cannot be reached (bouncing addresses).", len(reach.unreachable))
        )
    if announcement.ack_required:
        lines.append(
            md(
                "Acknowledgement required{}.",
                md(" by {}", slack_date(announcement.deadline))
                if announcement.deadline
                else literal(""),
            )
        )
    if announcement.rules:
        lines.append(literal("Marks the new rules of engagement."))
    return {
        "type": "modal",
        "callback_id": ViewId.ANNOUNCE_CONFIRM,
        "title": plain("Send announcement?", MODAL_TITLE_LIMIT),
        "submit": plain("Send", MODAL_TITLE_LIMIT),
        "close": plain("Cancel", MODAL_TITLE_LIMIT),
        "notify_on_close": True,
        "private_metadata": json.dumps({"announcement_id": announcement.id}),
        "blocks": [section(join(lines)), *body_sections(announcement.body)[:20]],
    }


def progress_message(announcement: Announcement, done: Progress) -> tuple[Mrkdwn, list[Block]]:
    """The publisher's confirmation message: delivered so far, then the summary and what to
    do about failures."""
    value = str(announcement.id)
    if done.pending:
        text = md(
            ":outbox_tray: Sending *{}*: delivered {} of {}{}.",
            announcement.title,
            done.sent,
            done.total,
            md(", {} failed", done.failed) if done.failed else literal(""),
        )
        return text, [
            section(text),
            actions(button("View receipts", ActionId.VIEW_RECEIPTS, value)),
        ]
    text = md(
        ":white_check_mark: *{}* delivered to {} of {}.", announcement.title, done.sent, done.total
    )
    lines = [text]
    for reason, count in done.failures.most_common(5):
        lines.append(md("• {} failed: {} — {}", count, reason, _advice(reason)))
    return text, [
        section(join(lines)),
        actions(button("View receipts", ActionId.VIEW_RECEIPTS, value)),
    ]


def _advice(reason: str) -> Mrkdwn:
    if "user_not_found" in reason or "channel_not_found" in reason or "no Slack" in reason:
        return literal("check their Slack id (`partnerbot users add --slack-user-id …`)")
    if "bouncing" in reason or reason.startswith("5"):
        return literal("ask their channel manager for a working address")
    if "not configured" in reason:
        return literal("set the missing PARTNERBOT_ settings; the worker retries nothing sent")
    return literal("see `partnerbot report acks`")


def receipts_modal(receipts: Receipts) -> dict[str, Any]:
    """Who got it and who acknowledged, company by company (the first 90 people)."""
    counts = receipts.counts
    lines = [
        md(
            "*{}* · audience {} · delivered {} · acknowledged {} · failed {}",
            receipts.announcement.title,
            counts["audience"],
            counts["delivered"],
            counts["acknowledged"],
            counts["failed"],
        )
    ]
    blocks: list[Block] = [section(join(lines))]
    for row in receipts.rows[:90]:
        ack = (
            md(":white_check_mark: {} by {}", slack_date(row.acknowledged_at), row.acknowledged_by)
            if row.acknowledged_at
            else literal("not yet")
        )
        blocks.append(
            context(md("*{}* ({}) · {} · {}", row.person, row.company, row.delivered, ack))
        )
    if len(receipts.rows) > 90:
        blocks.append(
            context(
                md(
                    "…and {} more: `partnerbot report acks {}`",
                    len(receipts.rows) - 90,
                    receipts.announcement.id,
                )
            )
        )
    return {
        "type": "modal",
        "title": plain("Read receipts", MODAL_TITLE_LIMIT),
        "close": plain("Close", MODAL_TITLE_LIMIT),
        "blocks": blocks[:100],
    }


def question_modal(announcement_id: int, title: str) -> dict[str, Any]:
    """Ask the publisher a question about an announcement."""
    return {
        "type": "modal",
        "callback_id": ViewId.ASK_QUESTION,
        "title": plain("Ask a question", MODAL_TITLE_LIMIT),
        "submit": plain("Send", MODAL_TITLE_LIMIT),
        "close": plain("Cancel", MODAL_TITLE_LIMIT),
        "private_metadata": json.dumps({"announcement_id": announcement_id}),
        "blocks": [
            section(md("About *{}*:", title)),
            {
                "type": "input",
                "block_id": "question",
                "label": plain("Your question", 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": True,
                    "max_length": 2000,
                },
            },
        ],
    }


def rules_gate(rules: Announcement, prefill: str) -> dict[str, Any]:
    """Before registering: the current rules, with `Acknowledge` (then the registration
    modal opens in its place — one extra click, no dead end)."""
    blocks: list[Block] = [
        section(
            literal(
                "Before you register a deal, please read and acknowledge the current rules"
                " of engagement."
            )
        ),
        header(rules.title),
        *body_sections(rules.body)[:90],
        actions(button("Acknowledge", ActionId.ACKNOWLEDGE_RULES, str(rules.id), style="primary")),
    ]
    return {
        "type": "modal",
        "callback_id": ViewId.RULES_GATE,
        "title": plain("Rules of engagement", MODAL_TITLE_LIMIT),
        "close": plain("Close", MODAL_TITLE_LIMIT),
        "private_metadata": json.dumps({"prefill": prefill[:500]}),
        "blocks": blocks[:100],
    }


def home_section(recent: list[tuple[Announcement, Progress, int]]) -> list[Block]:
    """Managers' App Home: the latest announcements with their read receipts."""
    if not recent:
        return [context(literal("No announcements yet. Publish one with `/announce`."))]
    found: list[Block] = []
    for announcement, done, acknowledged in recent:
        line = md(
            "*{}* · {} · audience {} · delivered {} · acknowledged {}",
            announcement.title,
            slack_date(announcement.published_at),
            done.total,
            done.sent,
            acknowledged if announcement.ack_required else "—",
        )
        found.append(section(line))
        found.append(actions(button("View receipts", ActionId.VIEW_RECEIPTS, str(announcement.id))))
    return found

"""Block Kit builders: every message, home tab and modal the bot shows, within Slack's limits.

Blocks are plain dicts built by the small helpers below rather than slack_sdk's model
classes: those validate by introspection and cost ~0.8 ms per answer on the ack path.
The limits Slack enforces are applied here (truncate, cap the block count).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain.deals import DealPage, DealSummary
from bot.ids import ActionId, SlashCommand
from bot.mrkdwn import Mrkdwn, escape, join, literal, md
from bot.mrkdwn import truncate as truncate_mrkdwn
from store.models import Person, Role

Block = dict[str, Any]

SECTION_TEXT_LIMIT = 3000
HEADER_LIMIT = 150
BUTTON_TEXT_LIMIT = 75
MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
MODAL_TITLE_LIMIT = 24

_STATUS_LABEL = {
    "pending": literal(":hourglass_flowing_sand: Pending approval"),
    "info_requested": literal(":question: Info requested"),
    "approved": literal(":white_check_mark: Approved"),
    "declined": literal(":x: Declined"),
    "withdrawn": literal(":leftwards_arrow_with_hook: Withdrawn"),
    "expired": literal(":zzz: Expired"),
}


def truncate(text: str, limit: int) -> str:
    """Cut plain text to Slack's limit, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def paragraphs(text: str, size: int) -> list[str]:
    """Text cut into pieces of at most `size` characters, between paragraphs where it can
    (else lines, else words): long text shown over several sections, never refused."""
    chunks: list[str] = []
    for paragraph in text.split("\n\n"):
        while len(paragraph) > size:
            cut = paragraph.rfind("\n", 0, size)
            cut = cut if cut > size // 2 else paragraph.rfind(" ", 0, size)
            cut = cut if cut > size // 2 else size
            chunks.append(paragraph[:cut])
            paragraph = paragraph[cut:].lstrip()
        if chunks and len(chunks[-1]) + len(paragraph) + 2 <= size:
            chunks[-1] += "\n\n" + paragraph
        else:
            chunks.append(paragraph)
    return [chunk for chunk in chunks if chunk.strip()]


def slack_date(moment: datetime) -> Mrkdwn:
    """A date each reader sees in their own time zone, with a UTC fallback."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return Mrkdwn(f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>")


def plain(text: str, limit: int) -> dict[str, Any]:
    """A plain_text object."""
    return {"type": "plain_text", "text": truncate(text, limit), "emoji": True}


def section(markdown: Mrkdwn) -> Block:
    """A section of mrkdwn text."""
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": truncate_mrkdwn(markdown, SECTION_TEXT_LIMIT)},
    }


def header(text: str) -> Block:
    """A header block."""
    return {"type": "header", "text": plain(text, HEADER_LIMIT)}


def context(markdown: Mrkdwn) -> Block:
    """A context block with one line of small mrkdwn text."""
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": truncate_mrkdwn(markdown, 2000)}],
    }


def divider() -> Block:
    """A divider block."""
    return {"type": "divider"}


def button(text: str, action_id: str, value: str, *, style: str | None = None) -> dict[str, Any]:
    """A button element."""
    element = {
        "type": "button",
        "text": plain(text, BUTTON_TEXT_LIMIT),
        "action_id": action_id,
        "value": value[:2000],
    }
    if style:
        element["style"] = style
    return element


def actions(*elements: dict[str, Any]) -> Block:
    """An actions block."""
    return {"type": "actions", "elements": list(elements)}


def _partner_buttons(deal: DealSummary) -> list[Block]:
    """Withdraw while open or protected; Request extension while protected."""
    buttons = []
    if deal.status == "approved" and deal.protection_expires_at is not None:
        buttons.append(button("Request extension", ActionId.REQUEST_EXTENSION, str(deal.id)))
    if deal.status in ("pending", "info_requested", "approved"):
        buttons.append(button("Withdraw", ActionId.WITHDRAW, str(deal.id), style="danger"))
    return [actions(*buttons)] if buttons else []


def _deal_section(deal: DealSummary) -> Block:
    lines = [
        md("*{}*  ·  {}", deal.customer, deal.partner)
        if deal.partner
        else md("*{}*", deal.customer)
    ]
    lines.append(_STATUS_LABEL.get(deal.status) or escape(deal.status))
    if deal.protection_expires_at is not None:
        lines.append(md("Protected until {}", slack_date(deal.protection_expires_at)))
    elif deal.sla_due_at is not None and deal.status == "pending":
        lines.append(md("Decision due by {}", slack_date(deal.sla_due_at)))
    lines.append(md("_Next:_ {}", deal.next_step))
    return section(join(lines))


def _pager(page: DealPage) -> list[Block]:
    buttons = []
    if page.offset > 0:
        previous = max(page.offset - len(page.deals) if page.deals else 0, 0)
        buttons.append(button("Previous", f"{ActionId.DEALS_PAGE}:prev", str(previous)))
    if page.has_next:
        following = page.offset + len(page.deals)
        buttons.append(button("Next", f"{ActionId.DEALS_PAGE}:next", str(following)))
    return [actions(*buttons)] if buttons else []


def deal_list_blocks(page: DealPage, *, for_partner: bool) -> list[Block]:
    """The `/deals` answer: one section per registration and Previous/Next buttons."""
    if page.total == 0:
        hint = (
            "Your company has no deal registrations yet."
            if for_partner
            else "No registrations yet."
        )
        return [section(escape(hint))]
    first, last = page.offset + 1, page.offset + len(page.deals)
    title = "Your company's deal registrations" if for_partner else "Deal registrations"
    blocks = [header(title), context(md("{} to {} of {}", first, last, page.total))]
    for deal in page.deals:
        blocks += [_deal_section(deal), *(_partner_buttons(deal) if for_partner else []), divider()]
    return (blocks + _pager(page))[:MESSAGE_BLOCK_LIMIT]


def home_view(
    person: Person,
    partner_name: str | None,
    page: DealPage,
    sections: list[Block] | None = None,
) -> dict[str, Any]:
    """The App Home tab: who you are to partnerbot, what waits for you (`sections`: a
    manager's queue, announcements, training), your registrations."""
    blocks = [header("partnerbot")]
    if person.role == Role.PARTNER:
        blocks += [
            section(md("You're signed in as *{}* of *{}*.", person.name, partner_name or "?")),
            actions(button("Register a deal", ActionId.OPEN_REGISTRATION, "home", style="primary")),
            context(
                md(
                    "Or type `{}` or `{}` in any channel.",
                    SlashCommand.REGISTER_DEAL.value,
                    SlashCommand.DEALS.value,
                )
            ),
        ]
    else:
        blocks.append(section(md("You're signed in as *{}*, {}.", person.name, person.role)))
    blocks += sections or []
    blocks += [divider(), *deal_list_blocks(page, for_partner=person.role == Role.PARTNER)]
    return {"type": "home", "blocks": blocks[:VIEW_BLOCK_LIMIT]}


def no_access_home(message: str) -> dict[str, Any]:
    """The App Home tab for someone partnerbot does not serve: how to get access, nothing else."""
    return {"type": "home", "blocks": [header("partnerbot"), section(escape(message))]}


def notice_modal(title: str, message: str | Mrkdwn) -> dict[str, Any]:
    """A modal that only says something (a refusal, a confirmation); plain text is escaped."""
    return {
        "type": "modal",
        "title": plain(title, MODAL_TITLE_LIMIT),
        "close": plain("Close", MODAL_TITLE_LIMIT),
        "blocks": [section(message if isinstance(message, Mrkdwn) else escape(message))],
    }

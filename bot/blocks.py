"""Block Kit builders: every message, home tab and modal the bot shows, within Slack's limits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.domain.deals import DealPage, DealSummary
from bot.ids import ActionId, SlashCommand
from store.models import Person, Role

SECTION_TEXT_LIMIT = 3000
HEADER_LIMIT = 150
MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100

_STATUS_LABEL = {
    "pending": ":hourglass_flowing_sand: Pending approval",
    "info_requested": ":question: Info requested",
    "approved": ":white_check_mark: Approved",
    "declined": ":x: Declined",
    "withdrawn": ":leftwards_arrow_with_hook: Withdrawn",
    "expired": ":zzz: Expired",
}


def truncate(text: str, limit: int) -> str:
    """Cut text to Slack's limit, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_date(moment: datetime) -> str:
    """A date each reader sees in their own time zone, with a UTC fallback."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def _deal_section(deal: DealSummary) -> SectionBlock:
    lines = [
        f"*{escape(deal.customer)}*" + (f"  ·  {escape(deal.partner)}" if deal.partner else "")
    ]
    lines.append(_STATUS_LABEL.get(deal.status, deal.status))
    if deal.protection_expires_at is not None:
        lines.append(f"Protected until {slack_date(deal.protection_expires_at)}")
    elif deal.sla_due_at is not None and deal.status == "pending":
        lines.append(f"Decision due by {slack_date(deal.sla_due_at)}")
    lines.append(f"_Next:_ {deal.next_step}")
    return SectionBlock(
        text=MarkdownTextObject(text=truncate("\n".join(lines), SECTION_TEXT_LIMIT))
    )


def _pager(page: DealPage) -> list[Block]:
    buttons = []
    if page.offset > 0:
        previous = max(page.offset - len(page.deals) if page.deals else 0, 0)
        buttons.append(
            ButtonElement(
                text="Previous", action_id=f"{ActionId.DEALS_PAGE}:prev", value=str(previous)
            )
        )
    if page.has_next:
        buttons.append(
            ButtonElement(
                text="Next",
                action_id=f"{ActionId.DEALS_PAGE}:next",
                value=str(page.offset + len(page.deals)),
            )
        )
    return [ActionsBlock(elements=buttons)] if buttons else []


def deal_list_blocks(page: DealPage, *, for_partner: bool) -> list[Block]:
    """The `/deals` answer: one section per registration and Previous/Next buttons."""
    if page.total == 0:
        hint = (
            "Your company has no deal registrations yet."
            if for_partner
            else "No registrations yet."
        )
        return [SectionBlock(text=MarkdownTextObject(text=hint))]
    first, last = page.offset + 1, page.offset + len(page.deals)
    title = "Your company's deal registrations" if for_partner else "Deal registrations"
    blocks: list[Block] = [
        HeaderBlock(text=truncate(title, HEADER_LIMIT)),
        ContextBlock(elements=[MarkdownTextObject(text=f"{first} to {last} of {page.total}")]),
    ]
    for deal in page.deals:
        blocks += [_deal_section(deal), DividerBlock()]
    return (blocks + _pager(page))[:MESSAGE_BLOCK_LIMIT]


def home_view(person: Person, partner_name: str | None, page: DealPage) -> View:
    """The App Home tab: who you are to partnerbot, and your (company's) registrations."""
    if person.role == Role.PARTNER:
        intro = f"You're signed in as *{escape(person.name)}* of *{escape(partner_name or '?')}*."
    else:
        intro = f"You're signed in as *{escape(person.name)}*, {person.role}."
    blocks: list[Block] = [
        HeaderBlock(text="partnerbot"),
        SectionBlock(text=MarkdownTextObject(text=intro)),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Type `{SlashCommand.DEALS}` in any channel to list registrations."
                )
            ]
        ),
        DividerBlock(),
    ]
    blocks += deal_list_blocks(page, for_partner=person.role == Role.PARTNER)
    return View(type="home", blocks=blocks[:VIEW_BLOCK_LIMIT])


def no_access_home(message: str) -> View:
    """The App Home tab for someone partnerbot does not serve: how to get access, nothing else."""
    return View(
        type="home",
        blocks=[
            HeaderBlock(text="partnerbot"),
            SectionBlock(text=MarkdownTextObject(text=message)),
        ],
    )


def notice_modal(title: str, message: str) -> dict[str, Any]:
    """A modal that only says something (used to answer a refused view submission)."""
    view = View(
        type="modal",
        title=truncate(title, 24),
        close="Close",
        blocks=[SectionBlock(text=MarkdownTextObject(text=truncate(message, SECTION_TEXT_LIMIT)))],
    )
    return view.to_dict()

"""`/deals` and its Previous/Next buttons."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot import blocks
from bot.context import Services
from bot.domain.deals import visible_deals
from bot.ids import ActionId, SlashCommand
from bot.mrkdwn import literal
from bot.payloads import button_value, parse_id
from store.models import Person, Role


def register(app: AsyncApp, services: Services) -> None:
    """Attach the `/deals` listeners."""

    async def page_blocks(person: Person, offset: int) -> list[blocks.Block]:
        async with services.db.read() as session:
            page = await visible_deals(session, person, offset=offset)
        return blocks.deal_list_blocks(page, for_partner=person.role == Role.PARTNER)

    @app.command(SlashCommand.DEALS)
    async def list_deals(ack: AsyncAck, context: dict[str, Any]) -> None:
        person: Person = context["person"]
        page = await page_blocks(person, 0)  # a few ms of indexed reads: answer in the ack
        await ack(response_type="ephemeral", blocks=page, text="Deal registrations")

    @app.action(re.compile(f"^{ActionId.DEALS_PAGE}:"))
    async def turn_page(ack: AsyncAck, body: dict[str, Any], context: dict[str, Any]) -> None:
        await ack()
        person: Person = context["person"]
        value = button_value(body)
        offset = parse_id(value) if value not in ("", "0") else 0

        async def replace_message() -> None:
            page = await page_blocks(person, offset)
            await services.slack_http.respond(
                body["response_url"],
                replace_original=True,
                blocks=page,
                text=literal("Deal registrations"),
            )

        services.tasks.spawn(replace_message(), name="deals-page")

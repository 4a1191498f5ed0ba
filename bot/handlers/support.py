"""What the deal listeners share: work after the ack, answers to the clicker, card updates."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import blocks, deal_views, notify
from bot.context import Services
from bot.domain import decisions
from bot.errors import AccessDenied, UserFacingError
from bot.handlers.errors import audit_refusal
from bot.handlers.home import publish_home
from bot.mrkdwn import Mrkdwn, escape, md
from store.models import DealRegistration, Person


def clicked_message(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """(channel, ts) of the message whose button was clicked."""
    container = body.get("container") or {}
    return container.get("channel_id"), container.get("message_ts")


def input_text(view: dict[str, Any], block_id: str) -> str:
    """The text typed into a modal's input block."""
    values = (view.get("state") or {}).get("values") or {}
    return str(((values.get(block_id) or {}).get("value") or {}).get("value") or "")


class DealDesk:
    """Answers and notifications around a registration, shared by the deal listeners."""

    def __init__(self, app: AsyncApp, services: Services) -> None:
        self.app, self.services = app, services

    def after_ack(
        self, body: dict[str, Any], person: Person, name: str, work: Callable[[], Awaitable[None]]
    ) -> None:
        """Run `work` after the ack; a refusal is audited, and any user-facing error is told
        to the person who clicked."""

        async def run() -> None:
            try:
                await work()
            except UserFacingError as exc:
                if isinstance(exc, AccessDenied):
                    await audit_refusal(self.services, body, person, exc)
                await self.tell(body, person, escape(exc.message))

        self.services.tasks.spawn(run(), name=name)

    async def tell(self, body: dict[str, Any], person: Person, message: Mrkdwn) -> None:
        """An ephemeral answer where they clicked, else a DM."""
        if body.get("response_url"):
            await self.services.slack_http.respond(
                body["response_url"],
                text=message,
                response_type="ephemeral",
                replace_original=False,
            )
        else:
            await notify.dm(self.app.client, person, message)

    async def refresh_partner(self, client: AsyncWebClient, outcome: decisions.Outcome) -> None:
        """The registering partner's Home tab shows the decision without a reload."""
        await publish_home(self.services, client, outcome.registered_by)

    async def refresh_card(
        self,
        client: AsyncWebClient,
        outcome: decisions.Outcome,
        where: tuple[str | None, str | None],
    ) -> None:
        """The deal desk's card, updated in place after a decision."""
        deal = outcome.deal
        card = deal_views.decided_card(
            deal, outcome.partner.name, outcome.registered_by.name, outcome.actor_name
        )
        text = md("Deal registration #{}: {}", deal.id, deal.status)
        channel, ts = where if where[1] else (deal.slack_card_channel, deal.slack_card_ts)
        await notify.update(client, channel, ts, text, card)

    async def card_thread(
        self, client: AsyncWebClient, deal: DealRegistration, text: Mrkdwn
    ) -> None:
        """A line in the thread under the registration's card."""
        if deal.slack_card_channel and deal.slack_card_ts:
            await notify.post(
                client,
                deal.slack_card_channel,
                text,
                [blocks.section(text)],
                thread_ts=deal.slack_card_ts,
            )

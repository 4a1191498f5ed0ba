"""The App Home tab: each person's own view, published when they open it."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import blocks
from bot.context import Services
from bot.domain.deals import visible_deals
from bot.ids import EventType
from store.models import Partner, Person


def register(app: AsyncApp, services: Services) -> None:
    """Attach the App Home listener."""

    @app.event(EventType.APP_HOME_OPENED)
    async def publish_home(
        event: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        if event.get("tab", "home") != "home":
            return
        person: Person = context["person"]

        async def publish() -> None:
            async with services.db.read() as session:
                partner = (
                    await session.get(Partner, person.partner_id) if person.partner_id else None
                )
                page = await visible_deals(session, person)
            view = blocks.home_view(person, partner.name if partner else None, page)
            await client.views_publish(user_id=event["user"], view=view)

        services.tasks.spawn(publish(), name="app-home")

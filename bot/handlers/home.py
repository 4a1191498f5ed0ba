"""The App Home tab: each person's own view, published when they open it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import blocks, deal_views
from bot.context import Services
from bot.domain import publishing
from bot.domain.deals import pending_queue, recent_decisions, visible_deals
from bot.handlers.training import training_blocks
from bot.ids import EventType
from bot.views import announcements as announcement_views
from store.models import Partner, Person, Role


async def _manager_blocks(session: AsyncSession, now: datetime) -> list[blocks.Block]:
    queue, recent = await pending_queue(session, now=now), await recent_decisions(session)
    return [
        blocks.header("Waiting for a decision"),
        *deal_views.pending_queue(queue, now),
        blocks.header("Recent decisions"),
        *deal_views.recent_decisions(recent),
        blocks.header("Announcements"),
        *announcement_views.home_section(await publishing.recent(session)),
    ]


async def publish_home(services: Services, client: AsyncWebClient, person: Person) -> None:
    """Publish a person's App Home: their registrations, and the queue for managers."""
    if not person.slack_user_id:
        return
    async with services.db.read() as session:
        partner = await session.get(Partner, person.partner_id) if person.partner_id else None
        page = await visible_deals(session, person)
        extra = (
            await _manager_blocks(session, services.clock()) if person.role != Role.PARTNER else []
        )
    extra += [blocks.header("Training"), *await training_blocks(services, person, limit=8)]
    view = blocks.home_view(person, partner.name if partner else None, page, extra)
    await client.views_publish(user_id=person.slack_user_id, view=view)


def register(app: AsyncApp, services: Services) -> None:
    """Attach the App Home listener."""

    @app.event(EventType.APP_HOME_OPENED)
    async def home_opened(
        event: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        if event.get("tab", "home") == "home":
            person: Person = context["person"]
            services.tasks.spawn(publish_home(services, client, person), name="app-home")

"""`/announce` and its confirmation, `Acknowledge`, `Ask a question`, `View receipts`, and the
rules-of-engagement gate's `Acknowledge`."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import blocks, deal_views, notify
from bot.context import Services
from bot.domain import announcements, publishing
from bot.domain.access import require_role
from bot.domain.publishing import MANAGERS, DraftErrors
from bot.errors import ForgedRequest
from bot.handlers.support import input_text
from bot.ids import ActionId, SlashCommand, ViewId
from bot.mrkdwn import md
from bot.payloads import button_value, parse_id, private_state
from bot.views import announcements as views
from store.models import Acknowledgement, Announcement, Channel, Partner, Person

log = logging.getLogger(__name__)

# Where each draft field's error shows in the `/announce` modal.
FIELD_BLOCKS = {"title": "title", "message": "message", "partner_types": "partner_types",
                "via": "via", "deadline": "deadline"}  # fmt: skip


def _announcement_id(view: dict[str, Any]) -> int:
    return parse_id(private_state(view).get("announcement_id"))


def register(app: AsyncApp, services: Services) -> None:
    """Attach the announcement listeners."""
    db = services.db

    @app.command(SlashCommand.ANNOUNCE)
    async def announce(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        require_role(context["person"], *MANAGERS)
        async with db.read() as session:
            rows = (
                await session.exec(select(Partner.tier, Partner.region).where(col(Partner.active)))
            ).all()
        tiers = sorted({tier for tier, _ in rows if tier})
        regions = sorted({region for _, region in rows if region})
        services.tasks.spawn(
            client.views_open(
                trigger_id=body["trigger_id"], view=views.announce_modal(tiers, regions)
            ),
            name="open-announce",
        )
        await ack()

    @app.view(ViewId.ANNOUNCE)
    async def drafted(ack: AsyncAck, view: dict[str, Any], context: dict[str, Any]) -> None:
        person: Person = context["person"]
        raw = views.read_announce(view["state"]["values"])
        now = services.clock()
        try:
            draft = publishing.validate_draft(**raw, now=now)
        except DraftErrors as exc:
            await ack(
                response_action="errors",
                errors={FIELD_BLOCKS.get(k, "title"): v for k, v in exc.errors.items()},
            )
            return
        async with db.session() as session:
            announcement = await publishing.create(session, author=person, draft=draft, now=now)
            reach = await publishing.audience(session, draft)
        await ack(response_action="update", view=views.confirm_view(announcement, reach))

    @app.view(ViewId.ANNOUNCE_CONFIRM)
    async def confirmed(
        ack: AsyncAck, view: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        person: Person = context["person"]
        announcement_id = _announcement_id(view)
        async with db.session() as session:
            published = await publishing.publish_draft(
                session, announcement_id=announcement_id, manager=person, now=services.clock()
            )
        await ack(response_action="clear")
        services.tasks.spawn(status_message(client, person, published), name="announce-status")

    async def status_message(
        client: AsyncWebClient, person: Person, published: publishing.Published
    ) -> None:
        """The publisher's confirmation message, updated by the worker as it delivers."""
        if not person.slack_user_id:
            return
        async with db.read() as session:
            done = await publishing.progress(session, published.announcement.id or 0)
        text, shown = views.progress_message(published.announcement, done)
        try:
            response = await client.chat_postMessage(
                channel=person.slack_user_id, text=text, blocks=shown
            )
        except SlackApiError as exc:
            log.error("could not post the announcement's status: %s", exc.response.get("error"))
            return
        async with db.session() as session:
            stored = await session.get(Announcement, published.announcement.id)
            if stored is not None:
                stored.status_channel, stored.status_ts = (
                    str(response["channel"]),
                    str(response["ts"]),
                )
                session.add(stored)

    @app.view_closed(ViewId.ANNOUNCE_CONFIRM)
    async def cancelled(ack: AsyncAck, view: dict[str, Any], context: dict[str, Any]) -> None:
        await ack()
        async with db.session() as session:
            await publishing.cancel_draft(
                session,
                announcement_id=_announcement_id(view),
                manager=context["person"],
                now=services.clock(),
            )

    @app.action(ActionId.ACKNOWLEDGE)
    async def acknowledged(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        person: Person = context["person"]
        announcement_id = parse_id(button_value(body))
        now = services.clock()
        async with db.session() as session:
            await publishing.require_recipient(session, announcement_id, person)
            await announcements.acknowledge(
                session,
                announcement_id=announcement_id,
                person=person,
                channel=Channel.SLACK,
                now=now,
            )
            announcement = await session.get(Announcement, announcement_id)
            given = await _acknowledged_at(session, announcement_id, person)
            assert announcement is not None
            publisher = await session.get(Person, announcement.published_by_id)
        container = body.get("container") or {}
        if container.get("channel_id") and container.get("message_ts"):
            facts = views.announcement_facts(announcement, publisher.name if publisher else "")
            services.tasks.spawn(
                notify.update(
                    client,
                    container["channel_id"],
                    container["message_ts"],
                    md("Acknowledged: {}", announcement.title),
                    views.dm(facts, acknowledged_at=given or now),
                ),
                name="acknowledged",
            )

    @app.action(ActionId.ASK_QUESTION)
    async def ask_clicked(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        person: Person = context["person"]
        announcement_id = parse_id(button_value(body))
        async with db.read() as session:
            await publishing.require_recipient(session, announcement_id, person)
            announcement = await session.get(Announcement, announcement_id)
        assert announcement is not None
        services.tasks.spawn(
            client.views_open(
                trigger_id=body["trigger_id"],
                view=views.question_modal(announcement_id, announcement.title),
            ),
            name="open-question",
        )

    @app.view(ViewId.ASK_QUESTION)
    async def question_asked(ack: AsyncAck, view: dict[str, Any], context: dict[str, Any]) -> None:
        person: Person = context["person"]
        announcement_id = _announcement_id(view)
        async with db.session() as session:
            await publishing.require_recipient(session, announcement_id, person)
            await announcements.ask(
                session,
                announcement_id=announcement_id,
                person=person,
                question=input_text(view, "question"),
                channel=Channel.SLACK,
                now=services.clock(),
            )
        await ack(
            response_action="update",
            view=blocks.notice_modal("Question sent", "The partner team will answer you."),
        )

    @app.action(ActionId.VIEW_RECEIPTS)
    async def receipts_clicked(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        require_role(context["person"], *MANAGERS)
        announcement_id = parse_id(button_value(body))
        async with db.read() as session:
            found = await publishing.receipts(session, announcement_id)
        services.tasks.spawn(
            client.views_open(trigger_id=body["trigger_id"], view=views.receipts_modal(found)),
            name="open-receipts",
        )

    @app.action(ActionId.ACKNOWLEDGE_RULES)
    async def rules_acknowledged(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """From the gate before a registration: acknowledge, then the registration modal."""
        await ack()
        person: Person = context["person"]
        rules_id = parse_id(button_value(body))
        async with db.session() as session:
            current = await publishing.current_rules(session)
            if current is None or current.id != rules_id:
                raise ForgedRequest(
                    "Those are not the current rules any more; run /register-deal again."
                )
            await announcements.acknowledge(
                session,
                announcement_id=rules_id,
                person=person,
                channel=Channel.SLACK,
                now=services.clock(),
            )
        view = body.get("view") or {}
        try:
            prefill = str(private_state(view).get("prefill", ""))
        except ForgedRequest:
            prefill = ""
        modal = deal_views.registration_modal(services.settings.products, prefill=prefill)
        services.tasks.spawn(
            client.views_update(view_id=str(view.get("id", "")), view=modal),
            name="rules-then-register",
        )


async def _acknowledged_at(
    session: AsyncSession, announcement_id: int, person: Person
) -> datetime | None:
    """When the person acknowledged (the first time)."""
    query = select(Acknowledgement.acknowledged_at).where(
        Acknowledgement.announcement_id == announcement_id,
        Acknowledgement.person_id == person.id,
    )
    return (await session.exec(query)).first()

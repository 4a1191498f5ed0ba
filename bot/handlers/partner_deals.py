"""The partner's side of a registration: answer a question, withdraw, request an extension."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import blocks, deal_views, notify
from bot.context import Services
from bot.domain import decisions
from bot.domain.access import require_role
from bot.domain.deals import deal_for
from bot.handlers.support import DealDesk, input_text
from bot.ids import ActionId, ViewId
from bot.mrkdwn import md
from bot.payloads import button_value, parse_id, view_metadata
from store.models import Person, Role


def _chosen_days(view: dict[str, Any]) -> int:
    values = (view.get("state") or {}).get("values") or {}
    chosen = ((values.get("days") or {}).get("value") or {}).get("selected_option") or {}
    value = str(chosen.get("value", ""))
    return int(value) if value in {str(days) for days in decisions.EXTENSION_CHOICES} else 0


def register(app: AsyncApp, services: Services) -> None:
    """Attach the partner's listeners."""
    db, settings, desk = services.db, services.settings, DealDesk(app, services)

    @app.action(ActionId.ANSWER)
    async def answer_clicked(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        person: Person = context["person"]
        deal_id = parse_id(button_value(body))
        require_role(person, Role.PARTNER)
        async with db.read() as session:  # checks the deal is theirs before reading anything
            question = await decisions.last_question(session, person, deal_id)
        modal = deal_views.reason_modal(
            ViewId.ANSWER,
            deal_id,
            title="Answer",
            label="Your answer",
            submit="Send",
            block_id="answer",
            intro=md(">{}", question.text if question else ""),
        )
        services.tasks.spawn(
            client.views_open(trigger_id=body["trigger_id"], view=modal), name="open-answer"
        )

    @app.view(ViewId.ANSWER)
    async def answer_submitted(
        ack: AsyncAck, view: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        person: Person = context["person"]
        data, text = view_metadata(view), input_text(view, "answer").strip()
        async with db.session() as session:
            question = await decisions.last_question(session, person, data["deal_id"])
            outcome = await decisions.answer(
                session,
                partner_user=person,
                deal_id=data["deal_id"],
                text=text,
                now=services.clock(),
            )
            asker = await session.get(Person, question.author_id) if question else None
        await ack()

        async def notify_all() -> None:
            message = md(
                "{} ({}) answered about {}: {}",
                person.name,
                outcome.partner.name,
                outcome.deal.customer_company,
                text,
            )
            await desk.card_thread(client, outcome.deal, message)
            if asker is not None:
                await notify.dm(client, asker, message)

        services.tasks.spawn(notify_all(), name="answer")

    @app.action(ActionId.WITHDRAW)
    async def withdraw_clicked(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        person: Person = context["person"]
        deal_id = parse_id(button_value(body))

        async def work() -> None:
            async with db.session() as session:
                outcome = await decisions.withdraw(
                    session, partner_user=person, deal_id=deal_id, now=services.clock()
                )
            await desk.tell(body, person, md("Withdrawn: {}.", outcome.deal.customer_company))
            await desk.card_thread(
                client, outcome.deal, md("{} withdrew this registration.", person.name)
            )

        desk.after_ack(body, person, "withdraw", work)

    @app.action(ActionId.REQUEST_EXTENSION)
    async def extension_clicked(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        person: Person = context["person"]
        deal_id = parse_id(button_value(body))
        require_role(person, Role.PARTNER)
        async with db.read() as session:
            deal = await deal_for(session, person, deal_id)
        choices = [d for d in decisions.EXTENSION_CHOICES if d <= settings.protection_days]
        modal = deal_views.extension_modal(deal_id, choices, deal.protection_expires_at)
        services.tasks.spawn(
            client.views_open(trigger_id=body["trigger_id"], view=modal), name="open-extension"
        )

    @app.view(ViewId.REQUEST_EXTENSION)
    async def extension_submitted(
        ack: AsyncAck, view: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        person: Person = context["person"]
        data, days, reason = view_metadata(view), _chosen_days(view), input_text(view, "reason")
        async with db.session() as session:
            asked = await decisions.request_extension(
                session,
                partner_user=person,
                deal_id=data["deal_id"],
                days=days,
                reason=reason,
                settings=settings,
                now=services.clock(),
            )
        await ack(
            response_action="update",
            view=blocks.notice_modal(
                "Extension requested", f"Asked for {days} more days; a channel manager will decide."
            ),
        )
        if settings.deal_desk_channel:
            card = deal_views.extension_card(
                asked.outcome.deal, asked.outcome.partner.name, asked.extension, person, reason
            )
            services.tasks.spawn(
                notify.post(client, settings.deal_desk_channel, md("Extension request"), card),
                name="extension-card",
            )

"""The deal desk's buttons and modals, and the partner's answers, withdrawals and extensions."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import blocks, deal_views, notify
from bot.context import Services
from bot.domain import decisions
from bot.errors import InvalidInput, UserFacingError
from bot.handlers.home import publish_home
from bot.ids import ActionId, ViewId
from store.models import DealRegistration, Person

log = logging.getLogger(__name__)


def _id(body: dict[str, Any]) -> int:
    value = str(body["actions"][0].get("value") or "")
    if not value.isdigit():
        raise InvalidInput("That button is no longer valid.")
    return int(value)


def _clicked_message(body: dict[str, Any]) -> tuple[str | None, str | None]:
    container = body.get("container") or {}
    return container.get("channel_id"), container.get("message_ts")


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        data = {}
    if not isinstance(data, dict) or not isinstance(data.get("deal_id"), int):
        raise InvalidInput("This form is no longer valid; start again.")
    return data


def _text(view: dict[str, Any], block_id: str) -> str:
    return str(
        ((view["state"]["values"].get(block_id) or {}).get("value") or {}).get("value") or ""
    )


def register(app: AsyncApp, services: Services) -> None:
    """Attach the decision listeners."""
    db, settings = services.db, services.settings

    def after_ack(
        body: dict[str, Any], person: Person, name: str, work: Callable[[], Awaitable[None]]
    ) -> None:
        """Run `work` after the ack; a refusal or failure is told to the person who clicked."""

        async def run() -> None:
            try:
                await work()
            except UserFacingError as exc:
                await tell(body, person, exc.message)

        services.tasks.spawn(run(), name=name)

    async def tell(body: dict[str, Any], person: Person, message: str) -> None:
        if body.get("response_url"):
            await services.slack_http.respond(
                body["response_url"],
                text=message,
                response_type="ephemeral",
                replace_original=False,
            )
        else:
            await notify.dm(app.client, person, message)

    async def refresh_partner(client: AsyncWebClient, outcome: decisions.Outcome) -> None:
        """The registering partner's Home tab shows the decision without a reload."""
        await publish_home(services, client, outcome.registered_by)

    async def refresh_card(
        client: AsyncWebClient, outcome: decisions.Outcome, where: tuple[str | None, str | None]
    ) -> None:
        deal = outcome.deal
        card = deal_views.decided_card(
            deal, outcome.partner.name, outcome.registered_by.name, outcome.actor.name
        )
        text = f"Deal registration #{deal.id}: {deal.status}"
        channel, ts = where if where[1] else (deal.slack_card_channel, deal.slack_card_ts)
        await notify.update(client, channel, ts, text, card)

    async def card_thread(client: AsyncWebClient, deal: DealRegistration, text: str) -> None:
        if deal.slack_card_channel and deal.slack_card_ts:
            await notify.post(
                client,
                deal.slack_card_channel,
                text,
                [blocks.section(blocks.escape(text))],
                thread_ts=deal.slack_card_ts,
            )

    # --- Approve / Decline / Request info (deal desk) -----------------------------------

    @app.action(ActionId.APPROVE)
    async def approve_clicked(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        person, deal_id, where = context["person"], _id(body), _clicked_message(body)

        async def work() -> None:
            await decisions.require_manager(
                db, person, action="approve", subject_id=deal_id, now=services.clock()
            )
            async with db.session() as session:
                outcome = await decisions.approve(
                    session,
                    manager=person,
                    deal_id=deal_id,
                    settings=settings,
                    now=services.clock(),
                )
            await refresh_card(client, outcome, where)
            expires = (
                blocks.slack_date(outcome.deal.protection_expires_at)
                if outcome.deal.protection_expires_at
                else ""
            )
            await notify.dm(
                client,
                outcome.registered_by,
                f"Your registration for {outcome.deal.customer_company} was approved:"
                f" protected until {expires}.",
            )
            await refresh_partner(client, outcome)

        after_ack(body, person, "approve", work)

    # The two decisions that need words first: which modal each button opens.
    reason_modals = {
        ActionId.DECLINE: (
            ViewId.DECLINE_DEAL,
            "Decline registration",
            "Reason (the partner will read it)",
            "Decline",
            "reason",
        ),
        ActionId.REQUEST_INFO: (
            ViewId.REQUEST_INFO,
            "Ask the partner",
            "Your question",
            "Ask",
            "question",
        ),
    }

    @app.action(ActionId.DECLINE)
    @app.action(ActionId.REQUEST_INFO)
    async def reason_needed(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """Decline or Request info: check the role, then ask the manager for the words."""
        await ack()
        person, action = context["person"], ActionId(body["actions"][0]["action_id"])
        view_id, title, label, submit, block_id = reason_modals[action]
        try:
            deal_id = _id(body)
            await decisions.require_manager(
                db, person, action=action, subject_id=deal_id, now=services.clock()
            )
        except UserFacingError as exc:
            await tell(body, person, exc.message)
            return
        modal = deal_views.reason_modal(
            view_id, deal_id, title=title, label=label, submit=submit, block_id=block_id
        )
        channel, ts = _clicked_message(body)
        modal["private_metadata"] = json.dumps({"deal_id": deal_id, "channel": channel, "ts": ts})
        services.tasks.spawn(
            client.views_open(trigger_id=body["trigger_id"], view=modal), name=f"open-{action}"
        )

    @app.view(ViewId.DECLINE_DEAL)
    async def decline_submitted(
        ack: AsyncAck, view: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        person, data = context["person"], _metadata(view)
        await decisions.require_manager(
            db, person, action="decline", subject_id=data["deal_id"], now=services.clock()
        )
        async with db.session() as session:
            outcome = await decisions.decline(
                session,
                manager=person,
                deal_id=data["deal_id"],
                reason=_text(view, "reason"),
                now=services.clock(),
            )
        await ack()

        async def notify_all() -> None:
            await refresh_card(client, outcome, (data.get("channel"), data.get("ts")))
            await notify.dm(
                client,
                outcome.registered_by,
                f"Your registration for {outcome.deal.customer_company} "
                f"was declined: {outcome.deal.decline_reason}",
            )
            await refresh_partner(client, outcome)

        services.tasks.spawn(notify_all(), name="declined")

    @app.view(ViewId.REQUEST_INFO)
    async def question_submitted(
        ack: AsyncAck, view: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        person, data = context["person"], _metadata(view)
        await decisions.require_manager(
            db, person, action="request_info", subject_id=data["deal_id"], now=services.clock()
        )
        question = _text(view, "question")
        async with db.session() as session:
            outcome = await decisions.request_info(
                session,
                manager=person,
                deal_id=data["deal_id"],
                question=question,
                now=services.clock(),
            )
        await ack()

        async def notify_all() -> None:
            await notify.dm(
                client,
                outcome.registered_by,
                f"{person.name} has a question about {outcome.deal.customer_company}",
                deal_views.question_dm(outcome.deal, person.name, question),
            )
            await card_thread(client, outcome.deal, f"{person.name} asked the partner: {question}")

        services.tasks.spawn(notify_all(), name="question")

    # --- The partner's side -------------------------------------------------------------------

    @app.action(ActionId.ANSWER)
    async def answer_clicked(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        deal_id = _id(body)
        async with db.read() as session:
            question = await decisions.last_question(session, deal_id)
        modal = deal_views.reason_modal(
            ViewId.ANSWER,
            deal_id,
            title="Answer",
            label="Your answer",
            submit="Send",
            block_id="answer",
            intro=f">{blocks.escape(question.text if question else '')}",
        )
        services.tasks.spawn(
            client.views_open(trigger_id=body["trigger_id"], view=modal), name="open-answer"
        )

    @app.view(ViewId.ANSWER)
    async def answer_submitted(
        ack: AsyncAck, view: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        person, data = context["person"], _metadata(view)
        text = _text(view, "answer")
        async with db.session() as session:
            outcome = await decisions.answer(
                session,
                partner_user=person,
                deal_id=data["deal_id"],
                text=text,
                now=services.clock(),
            )
            question = await decisions.last_question(session, data["deal_id"])
            asker = await session.get(Person, question.author_id) if question else None
        await ack()

        async def notify_all() -> None:
            about = outcome.deal.customer_company
            message = f"{person.name} ({outcome.partner.name}) answered about {about}: {text}"
            await card_thread(client, outcome.deal, message)
            if asker is not None:
                await notify.dm(client, asker, message)

        services.tasks.spawn(notify_all(), name="answer")

    @app.action(ActionId.WITHDRAW)
    async def withdraw_clicked(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        person, deal_id = context["person"], _id(body)

        async def work() -> None:
            async with db.session() as session:
                outcome = await decisions.withdraw(
                    session, partner_user=person, deal_id=deal_id, now=services.clock()
                )
            await tell(body, person, f"Withdrawn: {outcome.deal.customer_company}.")
            await card_thread(client, outcome.deal, f"{person.name} withdrew this registration.")

        after_ack(body, person, "withdraw", work)

    @app.action(ActionId.REQUEST_EXTENSION)
    async def extension_clicked(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        deal_id = _id(body)
        async with db.read() as session:
            deal = await session.get(DealRegistration, deal_id)
        person: Person = context["person"]
        if deal is None or deal.partner_id != person.partner_id:
            await tell(body, person, "That registration is not one of your company's.")
            return
        choices = [d for d in decisions.EXTENSION_CHOICES if d <= settings.protection_days]
        modal = deal_views.extension_modal(deal_id, choices, deal.protection_expires_at)
        services.tasks.spawn(
            client.views_open(trigger_id=body["trigger_id"], view=modal), name="open-extension"
        )

    @app.view(ViewId.REQUEST_EXTENSION)
    async def extension_submitted(
        ack: AsyncAck, view: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        person, data = context["person"], _metadata(view)
        chosen = ((view["state"]["values"].get("days") or {}).get("value") or {}).get(
            "selected_option"
        ) or {}
        days = int(chosen["value"]) if str(chosen.get("value", "")).isdigit() else 0
        reason = _text(view, "reason")
        async with db.session() as session:
            asked = await decisions.request_extension(
                session,
                partner_user=person,
                deal_id=data["deal_id"],
                days=days,
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
                notify.post(client, settings.deal_desk_channel, "Extension request", card),
                name="extension-card",
            )

    async def extension_decided(
        body: dict[str, Any], person: Person, client: AsyncWebClient, approve: bool
    ) -> None:
        extension_id, where = _id(body), _clicked_message(body)

        async def work() -> None:
            await decisions.require_manager(
                db, person, action="decide_extension", subject_id=extension_id, now=services.clock()
            )
            async with db.session() as session:
                done = await decisions.decide_extension(
                    session,
                    manager=person,
                    extension_id=extension_id,
                    approve=approve,
                    now=services.clock(),
                )
            deal = done.outcome.deal
            until = (
                blocks.slack_date(deal.protection_expires_at) if deal.protection_expires_at else "?"
            )
            verdict = (
                f"approved by {person.name}: protected until {until}"
                if approve
                else f"declined by {person.name}"
            )
            text = f"Extension of {done.extension.days} days for {deal.customer_company} {verdict}."
            await notify.update(
                client, where[0], where[1], text, [blocks.section(blocks.escape(text))]
            )
            await notify.dm(client, done.outcome.registered_by, text)
            await refresh_partner(client, done.outcome)

        after_ack(body, person, "extension-decision", work)

    @app.action(ActionId.APPROVE_EXTENSION)
    async def extension_approved(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        await extension_decided(body, context["person"], client, approve=True)

    @app.action(ActionId.DECLINE_EXTENSION)
    async def extension_declined(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        await extension_decided(body, context["person"], client, approve=False)

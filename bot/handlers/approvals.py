"""The deal desk's buttons and modals: Approve, Decline, Request info, and extension decisions."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import blocks, deal_views, notify
from bot.context import Services
from bot.domain import decisions, teaching
from bot.domain.access import require_role
from bot.domain.deals import deal_for
from bot.errors import InvalidInput
from bot.handlers.support import DealDesk, clicked_message, input_text
from bot.ids import ActionId, ViewId
from bot.mrkdwn import Mrkdwn, literal, md
from bot.payloads import button_value, parse_id, view_metadata
from store.models import DealRegistration, Partner, Person

# The two decisions that need words first: which modal each button opens.
REASON_MODALS = {
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


def register(app: AsyncApp, services: Services) -> None:
    """Attach the deal desk's listeners."""
    db, settings, desk = services.db, services.settings, DealDesk(app, services)

    @app.action(ActionId.APPROVE)
    async def approve_clicked(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        person: Person = context["person"]
        deal_id, where = parse_id(button_value(body)), clicked_message(body)
        require_role(person, *decisions.MANAGERS)

        async def work() -> None:
            async with db.session() as session:
                outcome = await decisions.approve(
                    session,
                    manager=person,
                    deal_id=deal_id,
                    settings=settings,
                    now=services.clock(),
                )
            await desk.refresh_card(client, outcome, where)
            expires = outcome.deal.protection_expires_at
            await notify.dm(
                client,
                outcome.registered_by,
                md(
                    "Your registration for {} was approved: protected until {}.",
                    outcome.deal.customer_company,
                    blocks.slack_date(expires) if expires else literal("?"),
                ),
            )
            await desk.refresh_partner(client, outcome)

        desk.after_ack(body, person, "approve", work)

    @app.action(ActionId.OPEN_DEAL)
    async def open_deal(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """A reminder's `Open deal`: the registration in a modal, for a manager."""
        await ack()
        person: Person = context["person"]
        deal_id = parse_id(button_value(body))
        require_role(person, *decisions.MANAGERS)
        async with db.read() as session:
            deal = await deal_for(session, person, deal_id)
            partner = await session.get(Partner, deal.partner_id)
            registered_by = await session.get(Person, deal.registered_by_id)
        assert partner is not None and registered_by is not None  # foreign keys
        modal = deal_views.deal_modal(deal, partner.name, registered_by.name)
        services.tasks.spawn(
            client.views_open(trigger_id=body["trigger_id"], view=modal), name="open-deal"
        )

    @app.action(ActionId.DECLINE)
    @app.action(ActionId.REQUEST_INFO)
    async def reason_needed(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """Decline or Request info: check the role, then ask the manager for the words."""
        await ack()
        person: Person = context["person"]
        action = ActionId(body["actions"][0]["action_id"])
        view_id, title, label, submit, block_id = REASON_MODALS[action]
        deal_id = parse_id(button_value(body))
        require_role(person, *decisions.MANAGERS)
        modal = deal_views.reason_modal(
            view_id, deal_id, title=title, label=label, submit=submit, block_id=block_id
        )
        channel, ts = clicked_message(body)
        modal["private_metadata"] = json.dumps({"deal_id": deal_id, "channel": channel, "ts": ts})
        services.tasks.spawn(
            client.views_open(trigger_id=body["trigger_id"], view=modal), name=f"open-{action}"
        )

    @app.view(ViewId.DECLINE_DEAL)
    async def decline_submitted(
        ack: AsyncAck, view: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        person: Person = context["person"]
        data = view_metadata(view)
        async with db.session() as session:
            outcome = await decisions.decline(
                session,
                manager=person,
                deal_id=data["deal_id"],
                reason=input_text(view, "reason"),
                now=services.clock(),
            )
        await ack()

        async def notify_all() -> None:
            await desk.refresh_card(client, outcome, (data.get("channel"), data.get("ts")))
            await notify.dm(
                client,
                outcome.registered_by,
                md(
                    "Your registration for {} was declined: {}",
                    outcome.deal.customer_company,
                    outcome.deal.decline_reason,
                ),
            )
            await desk.refresh_partner(client, outcome)

        services.tasks.spawn(notify_all(), name="declined")

    @app.view(ViewId.REQUEST_INFO)
    async def question_submitted(
        ack: AsyncAck, view: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        person: Person = context["person"]
        data, asked = view_metadata(view), input_text(view, "question").strip()
        async with db.session() as session:
            outcome = await decisions.request_info(
                session,
                manager=person,
                deal_id=data["deal_id"],
                question=asked,
                now=services.clock(),
            )
        await ack()

        async def notify_all() -> None:
            await notify.dm(
                client,
                outcome.registered_by,
                md("{} has a question about {}", person.name, outcome.deal.customer_company),
                deal_views.question_dm(outcome.deal, person.name, asked),
            )
            await desk.card_thread(
                client, outcome.deal, md("{} asked the partner: {}", person.name, asked)
            )

        services.tasks.spawn(notify_all(), name="question")

    async def extension_decided(
        body: dict[str, Any], person: Person, client: AsyncWebClient, approve: bool
    ) -> None:
        extension_id, where = parse_id(button_value(body)), clicked_message(body)
        require_role(person, *decisions.MANAGERS)

        async def work() -> None:
            async with db.session() as session:
                done = await decisions.decide_extension(
                    session,
                    manager=person,
                    extension_id=extension_id,
                    approve=approve,
                    now=services.clock(),
                )
            deal = done.outcome.deal
            until = deal.protection_expires_at
            verdict = (
                md(
                    "approved by {}: protected until {}",
                    person.name,
                    blocks.slack_date(until) if until else literal("?"),
                )
                if approve
                else md("declined by {}", person.name)
            )
            text = md(
                "Extension of {} days for {} {}.",
                done.extension.days,
                deal.customer_company,
                verdict,
            )
            await notify.update(client, where[0], where[1], text, [blocks.section(text)])
            await notify.dm(client, done.outcome.registered_by, text)
            await desk.refresh_partner(client, done.outcome)

        desk.after_ack(body, person, "extension-decision", work)

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

    # --- teaching the matcher -------------------------------------------------------------

    @app.action(ActionId.NOT_SAME_CUSTOMER)
    @app.action(ActionId.SAME_CUSTOMER)
    async def pair_clicked(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """The modal that asks which records are (or are not) the card's customer."""
        await ack()
        person: Person = context["person"]
        same = body["actions"][0]["action_id"] == ActionId.SAME_CUSTOMER
        deal_id = parse_id(button_value(body))
        require_role(person, *decisions.MANAGERS)
        async with db.read() as session:
            deal = await deal_for(session, person, deal_id)
            choices = (
                await teaching.similar_records(
                    session, manager=person, deal_id=deal_id, now=services.clock()
                )
                if same
                else teaching.matched(deal)
            )
        channel, ts = clicked_message(body)
        modal = deal_views.pair_modal(
            deal,
            [(c.value, c.label) for c in choices],
            same=same,
            where={"channel": channel, "ts": ts},
        )
        services.tasks.spawn(
            client.views_open(trigger_id=body["trigger_id"], view=modal), name="pair-modal"
        )

    @app.view(ViewId.NOT_SAME_CUSTOMER)
    @app.view(ViewId.SAME_CUSTOMER)
    async def pair_submitted(
        ack: AsyncAck, view: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        person: Person = context["person"]
        require_role(person, *decisions.MANAGERS)
        data, same = view_metadata(view), view["callback_id"] == ViewId.SAME_CUSTOMER
        records = [teaching.parse_choice(value) for value in _picked(view)]
        typed = input_text(view, "other").strip() if same else ""
        now = services.clock()
        async with db.session() as session:
            if typed:
                records.append(
                    await teaching.typed_record(
                        session, typed, deal_id=data["deal_id"], now=now, field="other"
                    )
                )
            elif same and not records:
                raise InvalidInput(
                    "Pick a record, or enter its domain or registration number.", field="other"
                )
            deal = await teaching.teach(
                session,
                manager=person,
                deal_id=data["deal_id"],
                records=records,
                same=same,
                now=now,
            )
            partner = await session.get(Partner, deal.partner_id)
            registered_by = await session.get(Person, deal.registered_by_id)
        assert partner is not None and registered_by is not None  # foreign keys
        await ack()

        async def refresh() -> None:
            card = deal_views.approval_card(deal, partner.name, registered_by.name)
            text = md("Deal registration #{}: {}", deal.id, deal.conflict_verdict or "")
            channel, ts = data.get("channel"), data.get("ts")
            if not ts:
                channel, ts = deal.slack_card_channel, deal.slack_card_ts
            await notify.update(client, channel, ts, text, card)
            await desk.card_thread(client, deal, _taught(person, deal, len(records), same=same))

        services.tasks.spawn(refresh(), name="pair-taught")


def _picked(view: dict[str, Any]) -> list[str]:
    """The option values chosen in the pair modal (a select, or ticked boxes)."""
    state = ((view.get("state") or {}).get("values") or {}).get("records") or {}
    element = state.get("value") or {}
    options = element.get("selected_options")
    if options is None:
        one = element.get("selected_option")
        options = [one] if one else []
    return [str(o.get("value")) for o in options if isinstance(o, dict)][:100]


def _taught(person: Person, deal: DealRegistration, count: int, *, same: bool) -> Mrkdwn:
    what = "the same customer as" if same else "a different company from"
    records = "1 record" if count == 1 else f"{count} records"
    return md(
        "{} marked {} as {} this one; the verdict is now {} (`{}`).",
        person.name,
        records,
        what,
        deal.conflict_verdict or "",
        deal.conflict_rule or "",
    )

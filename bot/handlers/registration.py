"""`/register-deal`, its shortcut and Home button, the modal's submission and the approval card."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import deal_views, notify
from bot.context import Services
from bot.domain import publishing, training
from bot.domain.access import require_role
from bot.domain.conflicts import Rule
from bot.domain.registration import (
    DealForm,
    FormErrors,
    Registration,
    prepare_registration,
    record_card,
    record_registration,
)
from bot.ids import ActionId, Shortcut, SlashCommand, ViewId
from bot.mrkdwn import md
from bot.views import announcements as announcement_views
from bot.views import training as training_views
from store.models import Partner, Person, Role

log = logging.getLogger(__name__)


def register(app: AsyncApp, services: Services) -> None:
    """Attach the registration listeners."""

    @app.command(SlashCommand.REGISTER_DEAL)
    @app.shortcut(Shortcut.REGISTER_DEAL)
    @app.action(ActionId.OPEN_REGISTRATION)
    async def open_registration(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """`/register-deal [domain or company]`, the global shortcut, or the Home button; the
        current rules of engagement first, when they must be acknowledged and are not yet."""
        person: Person = context["person"]
        require_role(person, Role.PARTNER)
        prefill = str(body.get("text", "")) if "type" not in body else ""
        rules = None
        if services.settings.require_rules_ack:
            async with services.db.read() as session:
                rules = await publishing.rules_to_acknowledge(session, person)
        view = (
            announcement_views.rules_gate(rules, prefill)
            if rules is not None
            else deal_views.registration_modal(services.settings.products, prefill=prefill)
        )
        # The trigger expires 3 s after the click: open the modal right after the ack.
        services.tasks.spawn(
            client.views_open(trigger_id=body["trigger_id"], view=view), name="open-registration"
        )
        await ack()

    @app.view(ViewId.REGISTER_DEAL)
    async def submit_registration(
        ack: AsyncAck, view: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        person: Person = context["person"]
        form = DealForm(**deal_views.read_registration(view["state"]["values"]))
        now = services.clock()
        try:
            async with services.db.read() as session:
                submission = await prepare_registration(
                    session, person=person, form=form, settings=services.settings, now=now
                )
            async with services.db.session() as session:  # the serialised part: check and record
                result = await record_registration(
                    session,
                    submission,
                    # The view id alone is not secret: bind the retry key to the submitter.
                    idempotency_key=f"view:{view['id']}:person:{person.id}",
                    settings=services.settings,
                    now=now,
                )
        except FormErrors as exc:
            await ack(response_action="errors", errors=exc.errors)
            if "products" in exc.errors:
                services.tasks.spawn(offer_training(client, person, form), name="offer-training")
            return
        deal = result.deal
        await ack(
            response_action="update",
            view=deal_views.registration_result(
                clear=result.clear,
                customer=deal.customer_company,
                sla_due_at=deal.sla_due_at,
                own_duplicate=deal.conflict_rule == Rule.ALREADY_REGISTERED_BY_YOUR_COMPANY,
            ),
        )
        if result.created:
            services.tasks.spawn(post_approval_card(client, result, person), name="approval-card")

    async def offer_training(client: AsyncWebClient, person: Person, form: DealForm) -> None:
        """A registration refused for a missing certification: a DM with `Start training`
        for each module that grants it (the refusal itself is inline in the modal)."""
        now = services.clock()
        async with services.db.read() as session:
            partner = await session.get(Partner, person.partner_id) if person.partner_id else None
            if partner is None:
                return
            missing = await training.missing_certifications(
                session, partner, list(form.products), now
            )
            names = set().union(*missing.values()) if missing else set()
            granting = await training.modules_granting(session, names, partner)
        if not granting:
            return
        offer = [
            (name, [(m.id or 0, m.title) for m in granting[name]]) for name in sorted(granting)
        ]
        text = md("You need a certification to register {}.", ", ".join(sorted(missing)))
        await notify.dm(client, person, text, training_views.gated(offer))

    async def post_approval_card(
        client: AsyncWebClient, result: Registration, person: Person
    ) -> None:
        deal, partner = result.deal, result.partner
        blocks = deal_views.approval_card(deal, partner.name, person.name)
        text = md("New deal registration: {} ({})", deal.customer_company, partner.name)
        channel = services.settings.deal_desk_channel
        posted = await notify.post(client, channel, text, blocks) if channel else None
        if partner.channel_manager_id is not None:
            async with services.db.read() as session:
                manager = await session.get(Person, partner.channel_manager_id)
            if manager is not None:
                await notify.dm(client, manager, text, blocks)
        elif posted is None:
            log.warning("deal %s has no approval card: set PARTNERBOT_DEAL_DESK_CHANNEL", deal.id)
        if posted is not None:
            async with services.db.session() as session:
                await record_card(session, deal.id or 0, *posted)

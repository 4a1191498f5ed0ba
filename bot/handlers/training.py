"""`/training`, `Start training`, and a module's modal: `Next` through its pages, then the quiz,
graded on the server."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import col, func, select

from bot import blocks
from bot.blocks import Block
from bot.context import Services
from bot.domain import catalogue, notifications, training
from bot.errors import ForgedRequest
from bot.ids import ActionId, SlashCommand, ViewId
from bot.mrkdwn import md
from bot.payloads import button_value, parse_id, private_state
from bot.views import training as views
from store.models import Channel, Person, Role, TrainingAttempt

log = logging.getLogger(__name__)


def _page_state(view: dict[str, Any]) -> tuple[int, int, datetime | None]:
    """(module id, page, version) from a module modal's hidden state, parsed strictly."""
    data = private_state(view)
    try:
        page = int(data.get("page", 1))
        version = datetime.fromisoformat(str(data["version"])) if data.get("version") else None
    except (ValueError, TypeError, OverflowError):
        raise ForgedRequest() from None
    if not 1 <= page <= 100:
        raise ForgedRequest()
    return parse_id(data.get("module_id")), page, version


async def training_blocks(
    services: Services, person: Person, *, limit: int = views.LIST_LIMIT
) -> list[Block]:
    """`/training` and the App Home's training section: a partner's own modules, or the
    catalogue with how many passed each (managers and admins); the first `limit`."""
    now = services.clock()
    async with services.db.read() as session:
        if person.role == Role.PARTNER:
            wait = timedelta(minutes=services.settings.quiz_retry_minutes)
            found = await training.statuses(session, person, now=now, retry_wait=wait)
            return views.status_blocks(found, training.next_up(found), now, limit=limit)
        modules = await catalogue.modules(session)
        passed = await session.exec(
            select(TrainingAttempt.module_id, func.count(func.distinct(TrainingAttempt.person_id)))
            .where(col(TrainingAttempt.passed).is_(True))
            .group_by(col(TrainingAttempt.module_id))
        )
        return views.catalogue_blocks(modules, dict(passed.all()), limit=limit)


def register(app: AsyncApp, services: Services) -> None:
    """Attach the training listeners."""
    db = services.db

    def retry_wait() -> timedelta:
        return timedelta(minutes=services.settings.quiz_retry_minutes)

    @app.command(SlashCommand.TRAINING)
    async def list_training(ack: AsyncAck, context: dict[str, Any]) -> None:
        """A partner's modules (done, certified until when, next up); the catalogue for
        managers. A few indexed reads: answered in the ack."""
        shown = await training_blocks(services, context["person"])
        await ack(response_type="ephemeral", blocks=shown, text="Training")

    @app.action(ActionId.START_TRAINING)
    async def start(
        ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """Open a module (from a list, a DM, or a refused registration)."""
        await ack()
        person: Person = context["person"]
        module_id = parse_id(button_value(body))
        now = services.clock()
        async with db.read() as session:
            module = await training.module_for(session, person, module_id)
            wait_over = await training.retry_at(
                session, person, module, now=now, retry_wait=retry_wait()
            )
        view = (
            views.wait_modal(module.title, wait_over)
            if wait_over is not None
            else views.module_modal(views.module_facts(module))
        )
        services.tasks.spawn(
            client.views_open(trigger_id=body["trigger_id"], view=view), name="open-training"
        )

    @app.view(ViewId.TRAINING)
    async def page_submitted(ack: AsyncAck, view: dict[str, Any], context: dict[str, Any]) -> None:
        """`Next`: the following page. `Submit`: grade, record once, show the result."""
        person: Person = context["person"]
        module_id, page, version = _page_state(view)
        now = services.clock()
        async with db.read() as session:
            module = await training.module_for(session, person, module_id)
        facts = views.module_facts(module)
        if page < len(views.content_pages(module.content)):
            await ack(response_action="update", view=views.module_modal(facts, page + 1))
            return
        answers = views.read_answers((view.get("state") or {}).get("values") or {})
        try:
            async with db.session() as session:
                result = await training.submit(
                    session,
                    person=person,
                    module_id=module_id,
                    answers=answers,
                    channel=Channel.SLACK,
                    # A view is submitted once; Slack's retry of it carries the same id. Bound
                    # to the submitter, so another person's view id is no key of theirs.
                    submission_key=f"slack:{view.get('id', '')}:person:{person.id}",
                    retry_wait=retry_wait(),
                    now=now,
                    version=version,
                )
                message = training.result_message(person, module, result, via="slack")
                if not result.replayed and result.grade.passed:
                    await notifications.queue(session, [message], now=now)
        except training.ModuleChanged as exc:
            fresh = views.module_modal(facts)
            fresh["blocks"].insert(0, blocks.context(md(":warning: {}", exc.message)))
            await ack(response_action="update", view=fresh)
            return
        except training.RetryLater as exc:
            await ack(response_action="update", view=views.wait_modal(module.title, exc.at))
            return
        await ack(response_action="update", view=views.result_modal(message.payload))

"""What runs before every listener: Slack retry de-duplication, then identity and access."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.response import BoltResponse
from sqlalchemy.exc import IntegrityError

from bot import blocks
from bot.context import Services
from bot.domain.access import identify_slack_user
from bot.errors import AccessDenied, ForgedRequest
from bot.handlers.errors import audit_refusal
from bot.mrkdwn import escape
from bot.payloads import slack_user
from store.models import SlackReceipt

log = logging.getLogger(__name__)

# Bolt's next(): marks the chain as continued; the listener runs after the last middleware.
Next = Callable[[], Awaitable[None]]


def home_teams(services: Services, context: AsyncBoltContext) -> frozenset[str]:
    """The vendor's own workspaces: PARTNERBOT_SLACK_TEAM_IDS, else the bot token's own
    workspace (auth.test, which Bolt has already asked)."""
    if services.settings.slack_team_ids:
        return frozenset(services.settings.slack_team_ids)
    result = context.authorize_result
    return frozenset({result.team_id}) if result is not None and result.team_id else frozenset()


def _refusal(
    body: dict[str, Any], message: str, services: Services, context: AsyncBoltContext
) -> BoltResponse:
    """Answer a refused request in the way its kind of payload allows."""
    if "type" not in body and "command" in body:
        return BoltResponse(
            status=200, body={"response_type": "ephemeral", "text": escape(message)}
        )
    kind = body.get("type")
    if kind == "view_submission":
        return BoltResponse(
            status=200,
            body={"response_action": "update", "view": blocks.notice_modal("No access", message)},
        )
    if kind == "block_actions" and body.get("response_url"):
        services.tasks.spawn(
            services.slack_http.respond(
                body["response_url"],
                text=escape(message),
                response_type="ephemeral",
                replace_original=False,
            ),
            name="refusal-respond",
        )
    elif kind in ("shortcut", "message_action") and context.client and body.get("trigger_id"):
        view = blocks.notice_modal("No access", message)
        services.tasks.spawn(
            context.client.views_open(trigger_id=body["trigger_id"], view=view),
            name="refusal-modal",
        )
    elif (
        context.client is not None
        and context.user_id is not None
        and (kind == "block_actions" or (body.get("event") or {}).get("type") == "app_home_opened")
    ):
        client, user_id = context.client, context.user_id
        services.tasks.spawn(
            client.views_publish(user_id=user_id, view=blocks.no_access_home(message)),
            name="refusal-home",
        )
    return BoltResponse(status=200, body="")


def register(app: AsyncApp, services: Services) -> None:
    """Install the middlewares, in order: retry de-duplication, then identity."""

    @app.middleware
    async def once_per_event(body: dict[str, Any], next: Next) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if not event_id:
            await next()
            return None
        try:
            async with services.db.session() as session:
                session.add(SlackReceipt(event_id=str(event_id), received_at=services.clock()))
        except IntegrityError:
            log.info("slack event %s was already handled; ignoring the retry", event_id)
            return BoltResponse(status=200, body="")
        await next()
        return None

    @app.middleware
    async def identify(
        body: dict[str, Any], context: AsyncBoltContext, next: Next
    ) -> BoltResponse | None:
        user_id, team_id = slack_user(body)
        try:
            if user_id is None:  # every payload we handle names the person behind it
                raise ForgedRequest()
            context["person"] = await identify_slack_user(
                services.db,
                services.directory,
                user_id=user_id,
                team_id=team_id,
                home_teams=home_teams(services, context),
                now=services.clock(),
            )
        except AccessDenied as refused:
            await audit_refusal(services, body, None, refused)
            if user_id is None:
                return BoltResponse(status=400, body={"error": "no_user"})
            return _refusal(body, refused.message, services, context)
        await next()
        return None

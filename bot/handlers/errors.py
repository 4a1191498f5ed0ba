"""The one place a listener's exception becomes an answer: a message, or an apology with an id.

A refusal (AccessDenied: unknown or revoked person, missing role, someone else's record, a
forged id) is also audited here, once, whichever listener raised it — in the request or in
the work done after the ack.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.response import BoltResponse

from bot import payloads
from bot.blocks import notice_modal
from bot.context import Services
from bot.domain import audit
from bot.domain.access import record_refusal
from bot.errors import AccessDenied, InvalidInput, UserFacingError
from bot.mrkdwn import escape
from store.models import Channel, Person

log = logging.getLogger(__name__)


async def audit_refusal(
    services: Services, body: dict[str, Any], person: Person | None, error: AccessDenied
) -> None:
    """Record who tried what and why it was refused (an `access.denied` audit event)."""
    if person is not None:
        actor = audit.Actor.person(person)
    else:
        user_id, team_id = payloads.slack_user(body)
        actor = audit.Actor.slack_user(user_id or "?", team_id)
    try:
        await record_refusal(
            services.db,
            actor=actor,
            channel=Channel.SLACK,
            attempt=payloads.attempt(body),
            reason=error,
            now=services.clock(),
        )
    except Exception:  # the refusal itself stands; the person still gets their answer
        log.exception("could not audit a refusal of %s", actor.label)


def _answer_body(
    body: dict[str, Any], error: UserFacingError | None, message: str
) -> dict[str, Any]:
    if body.get("type") == "view_submission" and isinstance(error, InvalidInput) and error.field:
        return {"response_action": "errors", "errors": {error.field: message}}
    if body.get("type") == "view_submission":
        return {"response_action": "update", "view": notice_modal("partnerbot", message)}
    return {"response_type": "ephemeral", "text": escape(message)}


def register(app: AsyncApp, services: Services) -> None:
    """Install the global error handler."""

    @app.error
    async def on_error(
        error: Exception,
        body: dict[str, Any],
        context: dict[str, Any],
        response: BoltResponse | None,
        respond: AsyncRespond | None,
    ) -> BoltResponse | None:
        if isinstance(error, UserFacingError):
            user_error: UserFacingError | None = error
            message = error.message
            if isinstance(error, AccessDenied):
                await audit_refusal(services, body, context.get("person"), error)
        else:
            user_error = None
            error_id = uuid.uuid4().hex[:10]
            log.error("unhandled error %s in a Slack listener", error_id, exc_info=error)
            message = f"Sorry, something went wrong on our side (error id `{error_id}`)."
        clicked = body.get("type") == "block_actions"  # Slack ignores the body of its ack
        if response is not None and not clicked:  # not answered yet: the ack carries it
            return BoltResponse(status=200, body=_answer_body(body, user_error, message))
        if respond is not None:
            await respond(text=escape(message), response_type="ephemeral", replace_original=False)
        return BoltResponse(status=200, body="") if response is not None else None

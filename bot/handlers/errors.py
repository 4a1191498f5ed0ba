"""The one place a listener's exception becomes an answer: a message, or an apology with an id."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.response import BoltResponse

from bot.blocks import notice_modal
from bot.errors import InvalidInput, UserFacingError

log = logging.getLogger(__name__)


def _answer_body(
    body: dict[str, Any], error: UserFacingError | None, message: str
) -> dict[str, Any]:
    if body.get("type") == "view_submission" and isinstance(error, InvalidInput) and error.field:
        return {"response_action": "errors", "errors": {error.field: message}}
    if body.get("type") == "view_submission":
        return {"response_action": "update", "view": notice_modal("partnerbot", message)}
    return {"response_type": "ephemeral", "text": message}


def register(app: AsyncApp) -> None:
    """Install the global error handler."""

    @app.error
    async def on_error(
        error: Exception,
        body: dict[str, Any],
        response: BoltResponse | None,
        respond: AsyncRespond | None,
    ) -> BoltResponse | None:
        if isinstance(error, UserFacingError):
            user_error: UserFacingError | None = error
            message = error.message
        else:
            user_error = None
            error_id = uuid.uuid4().hex[:10]
            log.error("unhandled error %s in a Slack listener", error_id, exc_info=error)
            message = f"Sorry, something went wrong on our side (error id `{error_id}`)."
        if response is not None:  # not acknowledged yet: the ack carries the answer
            return BoltResponse(status=200, body=_answer_body(body, user_error, message))
        if respond is not None:
            await respond(text=message, response_type="ephemeral", replace_original=False)
        return None

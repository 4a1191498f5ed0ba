"""Direct messages to people, and updates to the deal desk's cards (run after the ack).

The top-level `text` is what notifications and screen readers show: it is `Mrkdwn` like
every block, so a person's input reaches it only escaped."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.mrkdwn import Mrkdwn
from store.models import Person

log = logging.getLogger(__name__)


async def dm(
    client: AsyncWebClient, person: Person, text: Mrkdwn, blocks: list[Any] | None = None
) -> str | None:
    """DM a person; return the message ts, or None (logged) without Slack account or on refusal."""
    if not person.slack_user_id:
        log.info("person %s has no Slack account; DM not sent", person.id)
        return None
    try:
        # Posting to a user id lands in the app's DM with them: no conversations.open call.
        response = await client.chat_postMessage(
            channel=person.slack_user_id, text=text, blocks=blocks
        )
    except SlackApiError as exc:  # one failed DM must not stop the notifications after it
        log.error("could not DM person %s: %s", person.id, exc.response.get("error"))
        return None
    return str(response["ts"])


async def post(
    client: AsyncWebClient,
    channel: str,
    text: Mrkdwn,
    blocks: list[Any],
    *,
    thread_ts: str | None = None,
) -> tuple[str, str] | None:
    """Post to a channel; return (channel, ts), or None (logged) if Slack refuses."""
    try:
        response = await client.chat_postMessage(
            channel=channel, text=text, blocks=blocks, thread_ts=thread_ts
        )
    except SlackApiError as exc:
        log.error("could not post to %s: %s", channel, exc.response.get("error"))
        return None
    return str(response["channel"]), str(response["ts"])


async def update(
    client: AsyncWebClient, channel: str | None, ts: str | None, text: Mrkdwn, blocks: list[Any]
) -> None:
    """Replace a message in place (an approval card), if we know where it is."""
    if channel and ts:
        await client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)

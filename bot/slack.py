"""The Slack Web API client and the directory lookups built on it."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.domain.access import SlackProfile
from bot.mrkdwn import Mrkdwn
from bot.settings import Settings
from crm.ratelimit import RequestBudget

log = logging.getLogger(__name__)


def build_web_client(settings: Settings) -> AsyncWebClient:
    """A Web API client for our bot token, at `PARTNERBOT_SLACK_API_URL`, retrying 429s."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    retry_handlers: list[AsyncRetryHandler] = [
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
        AsyncRateLimitErrorRetryHandler(max_retry_count=3),  # honours Retry-After
    ]
    return AsyncWebClient(
        token=token, base_url=settings.slack_api_url, retry_handlers=retry_handlers, timeout=10
    )


class SlackPacer:
    """chat.postMessage's limits, kept before Slack has to say 429. Slack's rate-limit guide:
    "chat.postMessage generally allows posting one message per second per channel, while
    also maintaining a workspace-wide limit" (unpublished; "several hundred messages a
    minute", so `PARTNERBOT_SLACK_MESSAGES_PER_MINUTE`, 300 by default)."""

    def __init__(self, per_minute: int, *, per_channel_seconds: float = 1.0) -> None:
        # A second's margin on the minute: a request counted here as it leaves is counted by
        # Slack as it arrives, and network jitter must not make the 301st land inside the
        # minute of the first (a 429 then costs every post Retry-After).
        self.workspace = RequestBudget(per_minute, 61.0)
        self.per_channel_seconds = per_channel_seconds
        self._channels: dict[str, RequestBudget] = {}

    async def before_post(self, channel: str) -> None:
        """Wait until a message to `channel` is within both limits."""
        budget = self._channels.get(channel)
        if budget is None:
            if len(self._channels) > 10_000:  # forget quiet channels
                self._channels.clear()
            budget = self._channels[channel] = RequestBudget(1, self.per_channel_seconds)
        await budget.acquire()
        await self.workspace.acquire()

    def rate_limited(self, retry_after: float) -> None:
        """Slack answered 429 anyway: pause every post for Retry-After."""
        self.workspace.pause(retry_after)


class SlackHttp:
    """One aiohttp session, and so one pool of kept-alive connections, for every call to Slack.

    Without it slack_sdk opens a new session (a new TCP and TLS handshake) for each Web API
    call and each response_url post. `start()` runs inside the event loop at app start-up.
    """

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        messages_per_minute: int = 300,
        per_channel_seconds: float = 1.0,
    ) -> None:
        self.client = client
        self.pacer = SlackPacer(messages_per_minute, per_channel_seconds=per_channel_seconds)
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Open the shared session and hand it to the Web API client."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
            self.client.session = self._session

    async def close(self) -> None:
        """Close the shared session."""
        if self._session is not None:
            await self._session.close()
            self._session, self.client.session = None, None

    async def respond(
        self,
        response_url: str,
        *,
        text: Mrkdwn,
        blocks: list[Any] | None = None,
        response_type: str | None = None,
        replace_original: bool | None = None,
    ) -> None:
        """Post to an interaction's response_url (to replace or add an ephemeral message)."""
        webhook = AsyncWebhookClient(response_url, session=self._session, timeout=10)
        message: dict[str, Any] = {"text": text}
        if blocks is not None:
            message["blocks"] = blocks
        if response_type is not None:
            message["response_type"] = response_type
        if replace_original is not None:
            message["replace_original"] = replace_original
        response = await webhook.send_dict(message)
        if response.status_code != 200:
            log.warning("response_url answered %s: %s", response.status_code, response.body[:200])


class SlackWebDirectory:
    """SlackDirectory over users.info (needs the users:read and users:read.email scopes)."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def profile(self, user_id: str) -> SlackProfile | None:
        """Return what Slack knows of the user, or None if Slack does not know them."""
        try:
            response = await self._client.users_info(user=user_id)
        except SlackApiError as exc:
            if exc.response.get("error") in ("user_not_found", "user_not_visible"):
                return None
            raise
        user = response["user"]
        profile = user.get("profile") or {}
        return SlackProfile(
            user_id=user["id"],
            team_id=user.get("team_id"),
            name=profile.get("real_name") or user.get("real_name") or user.get("name") or "",
            email=profile.get("email"),
            deleted=bool(user.get("deleted")),
            is_bot=bool(user.get("is_bot")),
            time_zone=user.get("tz") or None,
        )

"""The Slack Web API client and the directory lookups built on it."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.access import SlackProfile
from bot.settings import Settings

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
        )

"""Correctly signed Slack requests (slash commands, block actions, view submissions, events).

`SlackSender` posts them with any httpx client: one over real HTTP to a served app, or one
on httpx's ASGI transport for in-process tests. The payload shapes follow Slack's docs.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx

from bot.demo.slack_standin import TEAM_ID

SIGNING_SECRET = "test-signing-secret"
_counter = itertools.count(1)


def sign(
    body: bytes, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    """The X-Slack-Signature headers Slack would send with `body`."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + ts.encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


class SlackSender:
    """Sends signed Slack requests to `/slack/events` through `client`."""

    def __init__(
        self, client: httpx.AsyncClient, *, response_url: str, secret: str = SIGNING_SECRET
    ) -> None:
        self.client = client
        self.secret = secret
        self.response_url = response_url

    async def post(
        self,
        body: bytes,
        *,
        content_type: str,
        headers: dict[str, str] | None = None,
        timestamp: int | None = None,
        signed: bool = True,
    ) -> httpx.Response:
        """Post raw bytes, signed unless `signed=False`."""
        all_headers = {
            "Content-Type": content_type,
            **(sign(body, secret=self.secret, timestamp=timestamp) if signed else {}),
        }
        all_headers.update(headers or {})
        return await self.client.post("/slack/events", content=body, headers=all_headers)

    async def command(
        self,
        command: str,
        text: str = "",
        *,
        user: str = "U0PARTNER",
        team: str = TEAM_ID,
        channel: str = "C0GENERAL",
    ) -> httpx.Response:
        """A slash command, form-encoded as Slack sends it."""
        form = {
            "token": "legacy-verification-token",
            "team_id": team,
            "team_domain": "test",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": "someone",
            "command": command,
            "text": text,
            "api_app_id": "A0TEST",
            "is_enterprise_install": "false",
            "response_url": self.response_url,
            "trigger_id": f"{next(_counter)}.trigger",
        }
        return await self.post(
            urlencode(form).encode(), content_type="application/x-www-form-urlencoded"
        )

    async def _interactive(self, payload: dict[str, Any]) -> httpx.Response:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self.post(body, content_type="application/x-www-form-urlencoded")

    async def action(
        self,
        action_id: str,
        value: str = "",
        *,
        user: str = "U0PARTNER",
        team: str = TEAM_ID,
        channel: str | None = "C0GENERAL",
        block_id: str = "b1",
        view: dict[str, Any] | None = None,
        message_ts: str = "1.000001",
    ) -> httpx.Response:
        """A button click (block_actions), from a message (`message_ts` in `channel`), or from
        a view when `view` is given."""
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": user, "username": "someone", "name": "someone", "team_id": team},
            "api_app_id": "A0TEST",
            "token": "legacy",
            "team": {"id": team, "domain": "test"},
            "trigger_id": f"{next(_counter)}.trigger",
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": block_id,
                    "value": value,
                    "action_ts": f"{time.time():.6f}",
                    "text": {"type": "plain_text", "text": "button"},
                }
            ],
        }
        if view is not None:
            payload["container"] = {"type": "view", "view_id": view.get("id", "V1")}
            payload["view"] = view
        else:
            payload["container"] = {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel,
            }
            payload["channel"] = {"id": channel, "name": "general"}
            payload["message"] = {"ts": message_ts, "text": "message"}
            payload["response_url"] = self.response_url
        return await self._interactive(payload)

    async def shortcut(
        self, callback_id: str, *, user: str = "U0PARTNER", team: str = TEAM_ID
    ) -> httpx.Response:
        """A global shortcut (no channel, no response_url)."""
        payload = {
            "type": "shortcut",
            "callback_id": callback_id,
            "team": {"id": team, "domain": "test"},
            "user": {"id": user, "username": "someone", "team_id": team},
            "api_app_id": "A0TEST",
            "token": "legacy",
            "trigger_id": f"{next(_counter)}.trigger",
            "action_ts": f"{time.time():.6f}",
        }
        return await self._interactive(payload)

    async def submit_view(
        self,
        callback_id: str,
        values: dict[str, dict[str, Any]],
        *,
        user: str = "U0PARTNER",
        team: str = TEAM_ID,
        private_metadata: str = "",
        view_id: str = "V0VIEW",
    ) -> httpx.Response:
        """A modal submission; `values` is view.state.values (block_id → action_id → value)."""
        payload = {
            "type": "view_submission",
            "team": {"id": team, "domain": "test"},
            "user": {"id": user, "username": "someone", "name": "someone", "team_id": team},
            "api_app_id": "A0TEST",
            "token": "legacy",
            "trigger_id": f"{next(_counter)}.trigger",
            "view": {
                "id": view_id,
                "team_id": team,
                "type": "modal",
                "callback_id": callback_id,
                "private_metadata": private_metadata,
                "hash": f"{next(_counter)}.hash",
                "state": {"values": values},
                "blocks": [],
            },
            "response_urls": [],
        }
        return await self._interactive(payload)

    async def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        team: str = TEAM_ID,
        retry_num: int | None = None,
    ) -> httpx.Response:
        """An Events API callback (JSON); `retry_num` adds Slack's retry headers."""
        envelope = {
            "token": "legacy",
            "team_id": team,
            "api_app_id": "A0TEST",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(_counter):08d}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "team_id": team,
                    "user_id": "U0BOT",
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
        }
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        body = json.dumps(envelope).encode()
        return await self.post(body, content_type="application/json", headers=headers)

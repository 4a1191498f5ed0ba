"""A local stand-in for Slack's Web API (and response_url), recording every call.

It runs an aiohttp server on loopback in its own thread, so it answers even while a test
blocks on a subprocess. It speaks Slack's wire format: `POST /api/<method>` with a JSON or
form body (or GET with a query), a Bearer token, `{"ok": true, ...}` or
`{"ok": false, "error": "..."}`, and HTTP 429 with `Retry-After`. It enforces the Block
Kit limits that make real Slack refuse a message or view.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import mimetypes
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.demo.standin import Fault, ThreadedStandIn

VALID_TOKEN = "xoxb-test-token"
TEAM_ID = "T0TEST"
BOT_USER_ID = "U0BOT"


@dataclass
class SlackCall:
    """One request the bot made."""

    method: str
    params: dict[str, Any]
    token: str | None
    at: float = field(default_factory=time.monotonic)


def _block_kit_error(blocks: Any, *, limit: int) -> str | None:
    """The error Slack would give for blocks that break its limits, or None."""
    if not isinstance(blocks, list):
        return "invalid_blocks_format"
    if len(blocks) > limit:
        return "invalid_blocks"
    for block in blocks:
        kind = block.get("type")
        text = (
            (block.get("text") or {}).get("text", "") if isinstance(block.get("text"), dict) else ""
        )
        if kind == "section" and len(text) > 3000:
            return "invalid_blocks"
        if kind == "header" and len(text) > 150:
            return "invalid_blocks"
        if kind == "input":
            # https://api.slack.com/reference/block-kit/blocks#input: label ≤ 2,000 characters;
            # radio buttons hold ≤ 10 options, each option's text ≤ 75 characters
            # (https://api.slack.com/reference/block-kit/composition-objects#option).
            if len((block.get("label") or {}).get("text", "")) > 2000:
                return "invalid_blocks"
            element = block.get("element") or {}
            options = element.get("options") or []
            if element.get("type") in ("radio_buttons", "checkboxes") and len(options) > 10:
                return "invalid_blocks"
            if any(len((o.get("text") or {}).get("text", "")) > 75 for o in options):
                return "invalid_blocks"
        for element in block.get("elements") or []:
            if element.get("type") != "button":
                continue
            if len(element["text"]["text"]) > 75 or len(str(element.get("value", ""))) > 2000:
                return "invalid_blocks"
    return None


def view_error(view: dict[str, Any]) -> str | None:
    """The error Slack would give for a modal (opened, updated, or returned in an ack's
    `response_action`), or None: title, submit and close ≤ 24 characters, private_metadata
    ≤ 3,000, and the blocks' limits (https://api.slack.com/reference/surfaces/views)."""
    if not isinstance(view, dict):
        return "invalid_arguments"
    for key in ("title", "submit", "close"):
        if len((view.get(key) or {}).get("text", "")) > 24:
            return "invalid_arguments"
    if len(str(view.get("private_metadata", ""))) > 3000:
        return "invalid_arguments"
    return _block_kit_error(view.get("blocks", []), limit=100)


def _dm(channel: str) -> str:
    """A user id names the app's DM with them (`D…`), as Slack resolves it."""
    return "D" + channel[1:] if channel[:1] in ("U", "W") else channel


class SlackStandIn(ThreadedStandIn):
    """Start with `start()`; point the bot at `api_url`; inspect `calls`."""

    thread_name = "slack-standin"

    def __init__(self, token: str = VALID_TOKEN) -> None:
        super().__init__()
        self.token = token
        self.calls: list[SlackCall] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.history: dict[str, list[dict[str, Any]]] = defaultdict(list)  # channel → messages
        self._faults: dict[str, list[Fault]] = defaultdict(list)
        self._ts = itertools.count(1)
        self.clock: Callable[[], float] = time.time  # Slack's own time (a simulation sets it)
        # chat.postMessage's limits when enforced (`enforce_post_limits`): Slack's rate-limit
        # guide, "one message per second per channel, while also maintaining a
        # workspace-wide limit"; 429 with Retry-After beyond them, as Slack answers.
        self.post_limits: tuple[float, int] | None = None
        self._last_post: dict[str, float] = {}
        self._posts: deque[float] = deque()
        # Tiered methods' limits per minute when enforced (`enforce_tiers`).
        self.tiers: dict[str, int] = {}
        self._method_calls: dict[str, deque[float]] = defaultdict(deque)
        # Files upload v2: file id → what files.getUploadURLExternal was told and what the
        # upload URL received (`data`, None until then).
        self.files: dict[str, dict[str, Any]] = {}
        self._file_ids = itertools.count(1)
        self._fail_after_sharing: list[str] = []

    def add_routes(self, app: web.Application) -> None:
        """Slack's Web API methods and response_url."""
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{key}", self._respond)
        app.router.add_post("/upload/{file_id}", self._upload)

    @property
    def api_url(self) -> str:
        """The base URL to give the Slack client (PARTNERBOT_SLACK_API_URL)."""
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, key: str = "r1") -> str:
        """A response_url for a payload; what is posted to it is recorded as `response_url`."""
        return f"http://127.0.0.1:{self.port}/respond/{key}"

    # --- test controls ----------------------------------------------------------------

    def reset(self) -> None:
        """Forget calls, users and faults (between tests)."""
        with self.lock:
            self.calls.clear()
            self.users.clear()
            self.history.clear()
            self._faults.clear()
            self.post_limits, self.tiers = None, {}
            self._last_post.clear()
            self._posts.clear()
            self._method_calls.clear()
            self.files.clear()
            self._fail_after_sharing.clear()

    def add_user(
        self,
        user_id: str,
        email: str | None,
        *,
        name: str = "Test User",
        team_id: str = TEAM_ID,
        deleted: bool = False,
        is_bot: bool = False,
        tz: str = "America/Los_Angeles",
    ) -> None:
        """Make users.info and users.lookupByEmail know this user (with Slack's `tz` and
        `tz_offset`, as users.info answers)."""
        profile: dict[str, Any] = {"real_name": name, "display_name": name}
        if email is not None:
            profile["email"] = email
        self.users[user_id] = {
            "id": user_id,
            "team_id": team_id,
            "name": name.lower().replace(" ", "."),
            "real_name": name,
            "deleted": deleted,
            "is_bot": is_bot,
            "tz": tz,
            "tz_offset": int(ZoneInfo(tz).utcoffset(datetime.now(UTC)).total_seconds()),  # type: ignore[union-attr]
            "profile": profile,
        }

    def enforce_post_limits(
        self, *, per_channel_seconds: float = 1.0, per_minute: int = 300
    ) -> None:
        """Answer chat.postMessage with 429 beyond 1 message/s per channel or `per_minute`
        in the workspace (None of that until this is called)."""
        self.post_limits = (per_channel_seconds, per_minute)

    def enforce_tiers(self, per_minute: dict[str, int]) -> None:
        """Answer a method with 429 beyond its tier's calls per minute (Slack's rate-limit
        guide: Tier 2 20+, Tier 3 50+, Tier 4 100+ per minute, per method and workspace)."""
        self.tiers = dict(per_minute)

    def _tier_wait(self, method: str) -> float:
        limit = self.tiers.get(method)
        if limit is None:
            return 0.0
        now = time.monotonic()
        with self.lock:
            calls = self._method_calls[method]
            while calls and calls[0] <= now - 60:
                calls.popleft()
            if len(calls) >= limit:
                return calls[0] + 60 - now
            calls.append(now)
            return 0.0

    def _post_wait(self, channel: str) -> float:
        """Seconds until a post to `channel` is within the limits (0: now), counting it."""
        if self.post_limits is None:
            return 0.0
        per_channel, per_minute = self.post_limits
        now = time.monotonic()
        with self.lock:
            while self._posts and self._posts[0] <= now - 60:
                self._posts.popleft()
            wait = max(
                self._last_post.get(channel, -1e9) + per_channel - now,
                (self._posts[0] + 60 - now) if len(self._posts) >= per_minute else 0.0,
            )
            if wait <= 0:
                self._last_post[channel] = now
                self._posts.append(now)
            return max(wait, 0.0)

    def fail(self, method: str, error: str, *, times: int = 1) -> None:
        """Answer the next `times` calls to `method` with `{"ok": false, "error": error}`."""
        self._faults[method].append(Fault("error", error, times))

    def rate_limit(self, method: str, *, retry_after: int = 1, times: int = 1) -> None:
        """Answer the next `times` calls to `method` with HTTP 429 and Retry-After."""
        self._faults[method].append(Fault("rate_limit", retry_after, times))

    def slow(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Delay the next `times` answers to `method`."""
        self._faults[method].append(Fault("slow", seconds, times))

    def calls_to(self, method: str) -> list[SlackCall]:
        """Every recorded call to `method`, oldest first."""
        with self.lock:
            return [call for call in self.calls if call.method == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[SlackCall]:
        """Wait until `method` was called at least `count` times; return those calls."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            calls = self.calls_to(method)
            if len(calls) >= count:
                return calls
            await asyncio.sleep(0.01)
        raise AssertionError(
            f"{method} called {len(self.calls_to(method))} time(s), wanted {count}"
        )

    # --- serving ----------------------------------------------------------------------

    def _take_fault(self, method: str) -> Fault | None:
        with self.lock:
            faults = self._faults.get(method) or []
            if not faults:
                return None
            fault = faults[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                faults.pop(0)
            return fault

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                params.update(dict(await request.post()))
        for key in ("blocks", "view", "attachments", "metadata"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else params.get("token")
        with self.lock:
            self.calls.append(SlackCall(method, params, token))
        fault = self._take_fault(method)
        if fault is not None and fault.kind == "rate_limit":
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(fault.value)},
            )
        if fault is not None and fault.kind == "slow":
            await asyncio.sleep(fault.value)
        if fault is not None and fault.kind == "error":
            return web.json_response({"ok": False, "error": fault.value})
        if token is None:
            return web.json_response({"ok": False, "error": "not_authed"})
        if token != self.token:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        wait = (
            self._post_wait(_dm(str(params.get("channel"))))
            if method == "chat.postMessage"
            else self._tier_wait(method)
        )
        if wait:
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        return web.json_response(self._answer(method, params))

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        answer: dict[str, Any] = handler(params)
        return answer

    def _next_ts(self) -> str:
        return f"{int(self.clock())}.{next(self._ts):06d}"

    def _m_auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://partnerbot-test.slack.com/",
            "team": "Test",
            "user": "partnerbot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": "B0BOT",
        }

    def _message(self, params: dict[str, Any]) -> dict[str, Any] | None:
        if not params.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not params.get("text") and not params.get("blocks"):
            return {"ok": False, "error": "no_text"}
        if "blocks" in params:
            error = _block_kit_error(params["blocks"], limit=50)
            if error:
                return {"ok": False, "error": error}
        return None

    def _m_chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        error = self._message(params)
        if error:
            return error
        ts = self._next_ts()
        channel = _dm(str(params.get("channel", "")))
        message = {"type": "message", "text": params.get("text", ""), "ts": ts}
        if isinstance(params.get("metadata"), dict):
            message["metadata"] = params["metadata"]
        with self.lock:
            self.history[channel].append(message)
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _m_conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        """Newest first; metadata only with include_all_metadata (as Slack does)."""
        channel = str(params.get("channel", ""))
        if channel[:1] not in ("C", "D", "G"):
            return {"ok": False, "error": "channel_not_found"}
        limit = min(int(params.get("limit") or 100), 999)
        oldest = float(params.get("oldest") or 0)
        start = int(params.get("cursor") or 0)
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        with self.lock:
            newer = [m for m in reversed(self.history[channel]) if float(m["ts"]) > oldest]
        page = newer[start : start + limit]
        if not with_metadata:
            page = [{k: v for k, v in m.items() if k != "metadata"} for m in page]
        more = start + limit < len(newer)
        answer: dict[str, Any] = {"ok": True, "messages": page, "has_more": more}
        if more:
            answer["response_metadata"] = {"next_cursor": str(start + limit)}
        return answer

    def _m_chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        error = self._message(params)
        if error is None and not params.get("ts"):
            error = {"ok": False, "error": "message_not_found"}
        return error or {"ok": True, "channel": params["channel"], "ts": params["ts"]}

    def _m_chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        error = self._message(params)
        if error is None and not params.get("user"):
            error = {"ok": False, "error": "user_not_in_channel"}
        return error or {"ok": True, "message_ts": self._next_ts()}

    def _view(self, params: dict[str, Any]) -> dict[str, Any]:
        view = params.get("view")
        error = view_error(view) if isinstance(view, dict) else "invalid_arguments"
        if error or not isinstance(view, dict):
            return {"ok": False, "error": error}
        return {"ok": True, "view": {"id": f"V{next(self._ts):08d}", **view}}

    def _m_views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        return self._view(params)

    def _m_views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("view_id") and not params.get("external_id"):
            return {"ok": False, "error": "not_found"}
        return self._view(params)

    def _m_views_push(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._view(params)

    def _m_views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("user_id"):
            return {"ok": False, "error": "invalid_arguments"}
        return self._view(params)

    def _m_users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(params.get("user")))
        return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}

    def _m_users_lookupByEmail(self, params: dict[str, Any]) -> dict[str, Any]:
        email = str(params.get("email", "")).lower()
        for user in self.users.values():
            if str(user["profile"].get("email", "")).lower() == email:
                return {"ok": True, "user": user}
        return {"ok": False, "error": "users_not_found"}

    def _m_conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = str(params.get("users", ""))
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        return {"ok": True, "channel": {"id": _dm(users.split(",")[0])}}

    async def _respond(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        body = await request.json()
        with self.lock:
            self.calls.append(SlackCall("response_url", {"key": key, **body}, None))
        error = _block_kit_error(body["blocks"], limit=50) if "blocks" in body else None
        if error:
            return web.Response(status=400, text=error)
        return web.Response(text="ok")

    # --- files upload v2 ------------------------------------------------------------------
    # slack_sdk's files_upload_v2 calls files.getUploadURLExternal (filename, length), POSTs
    # the bytes to the upload_url it got, then files.completeUploadExternal (files: a JSON
    # list of {id, title}; channel_id) which shares them in the channel as one message.
    # https://docs.slack.dev/reference/methods/files.getUploadURLExternal
    # https://docs.slack.dev/reference/methods/files.completeUploadExternal

    def fail_after_sharing(self, error: str = "fatal_error", *, times: int = 1) -> None:
        """The next `times` files.completeUploadExternal share the files and then answer
        `error`, as Slack may: "It's possible some aspect of the operation succeeded before
        the error was raised" (its fatal_error and internal_error)."""
        with self.lock:
            self._fail_after_sharing += [error] * times

    def shared_files(self, channel: str) -> list[dict[str, Any]]:
        """The files shared in `channel`, oldest first, each with the bytes uploaded."""
        with self.lock:
            return [
                self.files[file["id"]]
                for message in self.history[channel]
                for file in message.get("files") or []
            ]

    def _m_files_getUploadURLExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        filename = str(params.get("filename") or "")
        try:
            length = int(str(params.get("length")))
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        if not filename:
            return {"ok": False, "error": "invalid_arguments"}
        if length <= 0:  # Slack: "Typically only occurs when the length provided is 0."
            return {"ok": False, "error": "missing_argument"}
        if len(str(params.get("alt_txt") or "")) > 1000:
            return {"ok": False, "error": "alt_txt_too_large"}
        file_id = f"F{next(self._file_ids):08d}"
        with self.lock:
            self.files[file_id] = {
                "id": file_id,
                "name": filename,
                "length": length,
                "alt_txt": params.get("alt_txt"),
                "title": None,
                "data": None,
                "shared": [],
            }
        upload_url = f"http://127.0.0.1:{self.port}/upload/{file_id}"
        return {"ok": True, "upload_url": upload_url, "file_id": file_id}

    async def _upload(self, request: web.Request) -> web.Response:
        """The upload URL: the file's bytes, raw or as a multipart form (Slack takes both)."""
        file_id = request.match_info["file_id"]
        if request.content_type == "multipart/form-data":
            form = await request.post()
            parts = [v for v in form.values() if isinstance(v, web.FileField)]
            data = parts[0].file.read() if parts else b""
        else:
            data = await request.read()
        with self.lock:
            self.calls.append(SlackCall("upload", {"file_id": file_id, "bytes": len(data)}, None))
            file = self.files.get(file_id)
            if file is None:
                return web.Response(status=404, text="file not found")
            file["data"] = data
        return web.Response(text=f"OK - {len(data)}")

    def _m_files_completeUploadExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        files = params.get("files")
        try:
            listed = json.loads(files) if isinstance(files, str) else files
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        if not isinstance(listed, list) or not listed:
            return {"ok": False, "error": "invalid_arguments"}
        if not all(isinstance(item, dict) and item.get("id") for item in listed):
            return {"ok": False, "error": "invalid_arguments"}
        channels = [str(params["channel_id"])] if params.get("channel_id") else []
        channels += [c for c in str(params.get("channels") or "").split(",") if c]
        if any(_dm(channel)[:1] not in ("C", "D", "G") for channel in channels):
            return {"ok": False, "error": "invalid_channel"}
        with self.lock:
            found = [self.files.get(str(item["id"])) for item in listed]
            if any(file is None or file["data"] is None for file in found):
                return {"ok": False, "error": "file_not_found"}  # unknown, or never uploaded
            shared = []
            for item, file in zip(listed, found, strict=True):
                assert file is not None
                file["title"] = item.get("title") or file["name"]
                shared.append(
                    {
                        "id": file["id"],
                        "name": file["name"],
                        "title": file["title"],
                        "mimetype": mimetypes.guess_type(file["name"])[0]
                        or "application/octet-stream",
                        "size": len(file["data"]),
                    }
                )
            for channel in channels:
                message = {
                    "type": "message",
                    "text": str(params.get("initial_comment") or ""),
                    "user": BOT_USER_ID,
                    "upload": True,
                    "files": shared,
                    "ts": self._next_ts(),
                }
                self.history[_dm(channel)].append(message)
                for file in found:
                    assert file is not None
                    file["shared"].append(_dm(channel))
            failure = self._fail_after_sharing.pop(0) if self._fail_after_sharing else None
        if failure is not None:
            return {"ok": False, "error": failure}
        return {"ok": True, "files": [{"id": f["id"], "title": f["title"]} for f in shared]}

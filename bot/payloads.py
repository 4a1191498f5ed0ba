"""Facts read off a Slack payload, whatever its kind (command, action, view, event).

Everything here reads the one place Slack puts each fact for each kind of payload, and
parses what a person could have tampered with (button values, hidden view state) strictly.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.domain.access import Attempt
from bot.errors import ForgedRequest

MAX_ID = 2**31 - 1  # the database's integer
# ASCII digits only: an Arabic-Indic one or a superscript two is no id.
_ID = re.compile(r"[0-9]{1,10}")


def listener_name(body: dict[str, Any]) -> str:
    """A low-cardinality name for the listener a payload is meant for (a metrics label)."""
    if _is_command(body):
        return f"command:{body['command']}"
    kind = body.get("type")
    if kind == "block_actions":
        return f"action:{action_id(body).split(':')[0]}"
    if kind in ("view_submission", "view_closed"):
        return f"view:{_view(body).get('callback_id', '?')}"
    if kind == "event_callback":
        return f"event:{_event(body).get('type', '?')}"
    if kind in ("shortcut", "message_action"):
        return f"shortcut:{body.get('callback_id', '?')}"
    return str(kind or "unknown")[:64]


def _is_command(body: dict[str, Any]) -> bool:
    """Slash commands are the only payloads without a `type` (form fields, not JSON)."""
    return "type" not in body and isinstance(body.get("command"), str)


def _view(body: dict[str, Any]) -> dict[str, Any]:
    view = body.get("view")
    return view if isinstance(view, dict) else {}


def _event(body: dict[str, Any]) -> dict[str, Any]:
    event = body.get("event")
    return event if isinstance(event, dict) else {}


def _first_action(body: dict[str, Any]) -> dict[str, Any]:
    actions = body.get("actions")
    first = actions[0] if isinstance(actions, list) and actions else None
    return first if isinstance(first, dict) else {}


def action_id(body: dict[str, Any]) -> str:
    """The clicked element's action id ('?' when there is none)."""
    return str(_first_action(body).get("action_id") or "?")[:100]


def slack_user(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """The (user id, team id) of the person behind a payload, from where Slack puts it for
    that kind of payload only; (None, None) when the payload names nobody."""
    if _is_command(body):
        return _string(body.get("user_id")), _string(body.get("team_id"))
    kind = body.get("type")
    if kind in ("block_actions", "view_submission", "view_closed", "shortcut", "message_action"):
        user = body.get("user")
        if not isinstance(user, dict):
            return None, None
        team = user.get("team_id") or (body.get("team") or {}).get("id")
        return _string(user.get("id")), _string(team)
    if kind == "event_callback":
        return _string(_event(body).get("user")), _string(body.get("team_id"))
    return None, None


def _string(value: object) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= 64 else None


def parse_id(value: object) -> int:
    """A record id from a button value or hidden state: ASCII digits in the database's
    range, else ForgedRequest (our own screens never send anything else)."""
    text = str(value) if isinstance(value, int | str) else ""
    if not _ID.fullmatch(text) or not 0 < int(text) <= MAX_ID:
        raise ForgedRequest()
    return int(text)


def button_value(body: dict[str, Any]) -> str:
    """The clicked button's value."""
    return str(_first_action(body).get("value") or "")


def private_state(view: dict[str, Any]) -> dict[str, Any]:
    """A modal's hidden state as we wrote it (a JSON object); anything else — not JSON,
    nested too deep to parse, not an object — is ForgedRequest."""
    try:
        data = json.loads(str(view.get("private_metadata") or "{}"))
    except (ValueError, RecursionError):
        raise ForgedRequest() from None
    if not isinstance(data, dict):
        raise ForgedRequest()
    return data


def view_metadata(view: dict[str, Any]) -> dict[str, Any]:
    """A modal's hidden state as we wrote it, with its `deal_id` checked; else ForgedRequest."""
    data = private_state(view)
    data["deal_id"] = parse_id(data.get("deal_id"))
    return data


def attempt(body: dict[str, Any]) -> Attempt:
    """What a payload tried to do, for the audit of a refusal: the listener and its subject."""
    listener = listener_name(body)
    if body.get("type") == "block_actions":
        value, kind = button_value(body), action_id(body).split("_", 1)[0]
        subject = "extension" if kind == "extension" else "deal" if kind == "deal" else "slack"
        return Attempt(listener, subject, value[:64] or "?", detail=value[:300])
    if body.get("type") in ("view_submission", "view_closed"):
        raw = str(_view(body).get("private_metadata") or "")
        deal = re.search(r'"deal_id"\s*:\s*"?([^,"}]{1,20})', raw)
        return Attempt(listener, "deal", deal.group(1) if deal else "?", detail=raw[:300])
    if _is_command(body):
        return Attempt(listener, "command", str(body.get("command"))[:64], str(body.get("text")))
    return Attempt(listener, "slack", "-")

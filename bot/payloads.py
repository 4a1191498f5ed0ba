"""Facts read off a Slack payload, whatever its kind (command, action, view, event)."""

from __future__ import annotations

from typing import Any


def listener_name(body: dict[str, Any]) -> str:
    """A low-cardinality name for the listener a payload is meant for (a metrics label)."""
    if "command" in body:
        return f"command:{body['command']}"
    kind = body.get("type")
    if kind == "block_actions":
        actions = body.get("actions") or [{}]
        return f"action:{str(actions[0].get('action_id', '?')).split(':')[0]}"
    if kind in ("view_submission", "view_closed"):
        return f"view:{(body.get('view') or {}).get('callback_id', '?')}"
    if kind == "event_callback":
        return f"event:{(body.get('event') or {}).get('type', '?')}"
    if kind in ("shortcut", "message_action"):
        return f"shortcut:{body.get('callback_id', '?')}"
    return str(kind or "unknown")


def slack_user(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """The (user id, team id) of the person behind a payload, if it has one."""
    if "command" in body:
        return body.get("user_id"), body.get("team_id")
    user = body.get("user")
    if isinstance(user, dict):
        team = user.get("team_id") or (body.get("team") or {}).get("id")
        return user.get("id"), team
    event = body.get("event")
    if isinstance(event, dict) and isinstance(event.get("user"), str):
        return event["user"], body.get("team_id")
    return None, None

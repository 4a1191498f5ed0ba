"""Moved to `bot/demo/slack_requests.py` (the demo runs it too); kept so existing imports work."""

from bot.demo.slack_requests import *  # noqa: F403

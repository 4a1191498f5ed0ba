"""Moved to `bot/demo/slack_standin.py` (the demo runs it too); kept so existing imports work."""

from bot.demo.slack_standin import *  # noqa: F403

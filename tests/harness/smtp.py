"""Moved to `bot/demo/smtp.py` (the demo runs it too); kept so existing imports work."""

from bot.demo.smtp import *  # noqa: F403

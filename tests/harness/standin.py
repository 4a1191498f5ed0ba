"""Moved to `bot/demo/standin.py` (the demo runs it too); kept so existing imports work."""

from bot.demo.standin import *  # noqa: F403

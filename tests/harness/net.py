"""Moved to `bot/demo/net.py` (the demo runs it too); kept so existing imports work."""

from bot.demo.net import *  # noqa: F403

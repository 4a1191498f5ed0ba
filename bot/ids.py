"""Every Slack command, action, view and callback id the bot uses, in one place."""

from __future__ import annotations

from enum import StrEnum


class SlashCommand(StrEnum):
    """Slash commands the code handles; slack-manifest.yml must list exactly these."""

    DEALS = "/deals"


class ActionId(StrEnum):
    """block_actions action ids."""

    DEALS_PAGE = "deals_page"


class EventType(StrEnum):
    """Events API event types the bot subscribes to."""

    APP_HOME_OPENED = "app_home_opened"

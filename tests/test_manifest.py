"""slack-manifest.yml creates exactly the app the code serves."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import yaml

from bot.demo.slack_requests import SlackSender
from bot.ids import EventType, SlashCommand

MANIFEST = yaml.safe_load((Path(__file__).parents[1] / "slack-manifest.yml").read_text())


def test_the_manifest_lists_exactly_the_commands_and_events_the_code_handles() -> None:
    commands = {entry["command"] for entry in MANIFEST["features"]["slash_commands"]}
    assert commands == {command.value for command in SlashCommand}
    assert set(MANIFEST["settings"]["event_subscriptions"]["bot_events"]) == {
        e.value for e in EventType
    }


def test_every_url_points_at_the_one_signed_endpoint() -> None:
    settings = MANIFEST["settings"]
    urls = [entry["url"] for entry in MANIFEST["features"]["slash_commands"]]
    urls += [
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
    ]
    assert {urlparse(url).path for url in urls} == {"/slack/events"}
    assert settings["interactivity"]["is_enabled"] is True
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True


def test_the_bot_has_the_scopes_its_calls_need() -> None:
    scopes = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "im:write", "users:read", "users:read.email"} <= scopes
    # Crash recovery reads history where the bot posts; the training report uploads a file.
    assert {"im:history", "channels:history", "groups:history", "files:write"} <= scopes


async def test_every_manifest_command_reaches_a_listener(sender: SlackSender) -> None:
    for entry in MANIFEST["features"]["slash_commands"]:
        response = await sender.command(entry["command"], user="U0NORA")
        assert response.status_code == 200, entry["command"]

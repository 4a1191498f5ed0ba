"""Slack listeners: parse the payload, call a domain service, render the answer. No rules here."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.context import Services
from bot.handlers import (
    announcements,
    approvals,
    deals,
    errors,
    home,
    middleware,
    partner_deals,
    registration,
    training,
)


def register_all(app: AsyncApp, services: Services) -> None:
    """Attach every middleware and listener to the Bolt app."""
    middleware.register(app, services)
    errors.register(app, services)
    deals.register(app, services)
    home.register(app, services)
    registration.register(app, services)
    approvals.register(app, services)
    partner_deals.register(app, services)
    announcements.register(app, services)
    training.register(app, services)

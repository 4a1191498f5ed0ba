"""CRM write-back: one interface (crm.base.Crm) and its adapters, chosen by PARTNERBOT_CRM."""

from __future__ import annotations

from bot.errors import UserFacingError
from bot.settings import Settings
from crm.base import Crm
from crm.local import LocalCrm
from crm.ratelimit import RequestBudget
from store.db import Database


class CrmNotConfigured(UserFacingError):
    """The chosen CRM lacks the settings it needs."""


def build_crm(settings: Settings, db: Database) -> Crm:
    """The adapter PARTNERBOT_CRM names, with its request budget."""
    if settings.crm == "local":
        return LocalCrm(db)
    if missing := settings.missing_crm_settings():
        raise CrmNotConfigured(
            f"PARTNERBOT_CRM={settings.crm} needs {', '.join(missing)}"
            " (see the README's HubSpot section)."
        )
    if settings.crm == "hubspot":
        from crm.hubspot import HubSpotCrm

        assert settings.hubspot_token is not None
        return HubSpotCrm(
            token=settings.hubspot_token.get_secret_value(),
            host=settings.hubspot_api_url,
            budget=RequestBudget(settings.crm_rate_limit, 10.0),
        )
    raise CrmNotConfigured(
        "PARTNERBOT_CRM=salesforce: the Salesforce adapter is not built yet;"
        " use PARTNERBOT_CRM=hubspot or local."
    )

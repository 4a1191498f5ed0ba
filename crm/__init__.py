"""CRM write-back: one interface (crm.base.Crm) and its adapters, chosen by PARTNERBOT_CRM."""

from __future__ import annotations

from bot.errors import UserFacingError
from bot.settings import Settings
from crm.base import Crm
from crm.local import LocalCrm
from crm.ratelimit import RequestBudget
from store.db import Database

SECTION = {"hubspot": "HubSpot", "salesforce": "Salesforce"}


class CrmNotConfigured(UserFacingError):
    """The chosen CRM lacks the settings it needs."""


def build_crm(settings: Settings, db: Database) -> Crm:
    """The adapter PARTNERBOT_CRM names, with its request budget."""
    if settings.crm == "local":
        return LocalCrm(db)
    if missing := settings.missing_crm_settings():
        raise CrmNotConfigured(
            f"PARTNERBOT_CRM={settings.crm} needs {', '.join(missing)}"
            f" (see the README's {SECTION[settings.crm]} section)."
        )
    if settings.crm == "hubspot":
        from crm.hubspot import HubSpotCrm, HubSpotSetupError, hubspot_budgets
        from crm.links import Links

        assert settings.hubspot_token is not None
        budget, search_budget = hubspot_budgets(settings.database_url, settings.crm_rate_limit)
        hubspot = HubSpotCrm(
            token=settings.hubspot_token.get_secret_value(),
            host=settings.hubspot_api_url,
            budget=budget,
            search_budget=search_budget,
            links=Links(db, "hubspot"),
            pipeline=settings.hubspot_pipeline,
            deal_stage=settings.hubspot_deal_stage,
            currencies=settings.hubspot_currencies or None,
        )
        try:
            hubspot.check_setup()  # the pipeline, stage and currencies, before any work
        except HubSpotSetupError as exc:
            raise CrmNotConfigured(str(exc)) from None
        return hubspot
    from crm.links import Links
    from crm.salesforce import MY_DOMAIN_HINT, SalesforceCrm, login_url_problem, stored_deals

    assert settings.salesforce_login_url and settings.salesforce_client_id
    assert settings.salesforce_client_secret is not None
    if problem := login_url_problem(settings.salesforce_login_url):
        raise CrmNotConfigured(
            f"PARTNERBOT_SALESFORCE_LOGIN_URL={settings.salesforce_login_url} is not the"
            f" org's My Domain URL: {problem}; {MY_DOMAIN_HINT}."
        )
    return SalesforceCrm(
        login_url=settings.salesforce_login_url,
        client_id=settings.salesforce_client_id,
        client_secret=settings.salesforce_client_secret.get_secret_value(),
        api_version=settings.salesforce_api_version,
        new_stage=settings.salesforce_new_stage,
        ca_bundle=settings.salesforce_ca_bundle,
        budget=RequestBudget(settings.crm_rate_limit, 10.0),
        links=Links(db, "salesforce"),
        deals=stored_deals(db),
    )

"""CRM write-back: one interface (crm.base.Crm) and its adapters, chosen by PARTNERBOT_CRM."""

from __future__ import annotations

from bot.errors import UserFacingError
from bot.settings import Settings
from crm.base import Crm
from crm.local import LocalCrm
from store.db import Database


class CrmNotAvailable(UserFacingError):
    """The configured CRM has no adapter in this version."""


def build_crm(settings: Settings, db: Database) -> Crm:
    """The adapter PARTNERBOT_CRM names."""
    if settings.crm == "local":
        return LocalCrm(db)
    raise CrmNotAvailable(
        f"PARTNERBOT_CRM={settings.crm}: this version writes to the local CRM only; the"
        f" {settings.crm} adapter is not built yet. Unset PARTNERBOT_CRM to use the local CRM."
    )

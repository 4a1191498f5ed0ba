"""Configuration: `PARTNERBOT_` environment variables (and a `.env` file), validated at start-up."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "PARTNERBOT_"


class ConfigError(Exception):
    """The configuration is invalid; the message names each offending variable."""


class Settings(BaseSettings):
    """Every setting partnerbot reads. Build with `load_settings()` to get readable errors."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = "sqlite:///./partnerbot.db"

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    deal_desk_channel: str | None = None
    # Slack's workspace-wide cap on chat.postMessage (unpublished: "several hundred a minute").
    slack_messages_per_minute: int = Field(300, ge=1, le=100_000)
    slack_channel_post_seconds: float = Field(1.0, ge=0, le=60)  # Slack: 1 message/s/channel
    # The vendor's own workspace(s): managers and admins are recognised only there. Empty:
    # the bot token's workspace (auth.test).
    slack_team_ids: Annotated[list[str], NoDecode] = Field(default_factory=list)

    crm: Literal["local", "hubspot", "salesforce"] = "local"
    crm_rate_limit: int = Field(100, ge=1, le=100_000)  # requests per 10 s (HubSpot: 100/190)
    crm_sync_minutes: int = Field(15, ge=1, le=24 * 60)  # the account mirror's schedule
    hubspot_token: SecretStr | None = None
    hubspot_api_url: str = "https://api.hubapi.com"
    hubspot_pipeline: str | None = None  # deal pipeline of new deals (internal id or label)
    hubspot_deal_stage: str | None = None  # their stage (default: the pipeline's first)
    # The portal's currencies (ISO codes); empty: asked of HubSpot's currencies settings API.
    hubspot_currencies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    salesforce_login_url: str | None = None  # the org's My Domain, https://acme.my.salesforce.com
    salesforce_client_id: str | None = None  # the connected app's consumer key
    salesforce_client_secret: SecretStr | None = None
    salesforce_api_version: str = Field("59.0", pattern=r"^\d{2,3}\.0$")
    salesforce_new_stage: str = "Prospecting"  # StageName of an opportunity partnerbot creates
    salesforce_ca_bundle: str | None = None  # trust only this CA (a private proxy, the tests)

    imap_host: str | None = None
    imap_port: int = Field(993, ge=1, le=65535)
    imap_user: str | None = None
    imap_password: SecretStr | None = None
    imap_folder: str = "INBOX"
    smtp_host: str | None = None
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["auto", "starttls", "ssl", "plain"] = "auto"  # auto: STARTTLS if offered
    smtp_timeout: float = Field(30.0, gt=0, le=600)
    mail_from: str | None = None
    reply_domain: str | None = None
    secret_key: SecretStr | None = None
    reply_token_days: int = Field(60, ge=1, le=3650)  # how long a reply address works
    mail_max_bytes: int = Field(10 * 1024 * 1024, ge=1024)  # bigger mail is refused
    mail_processed_folder: str | None = None  # move handled mail here (else flag it \Seen)
    # RFC 8601 authserv-id of our receiving server: only its Authentication-Results is trusted
    mail_authserv_id: str | None = None
    imap_security: Literal["ssl", "starttls", "plain"] = "ssl"
    imap_poll_seconds: int = Field(60, ge=1, le=3600)  # without IDLE; IDLE is renewed as often
    templates_dir: str | None = None  # your own templates/email/*.j2, tried before ours

    protection_days: int = Field(90, ge=60, le=90)
    approval_sla_hours: int = Field(48, ge=1, le=24 * 14)
    expiry_reminder_days: int = Field(7, ge=1, le=60)
    inactivity_days: int = Field(30, ge=1, le=365)  # approved deals this quiet are flagged
    # Nudges to people wait for these local hours on a working day; `none` sends at once.
    quiet_hours: str = Field("09:00-18:00", pattern=r"^(none|\d{2}:\d{2}-\d{2}:\d{2})$")
    scheduler_seconds: int = Field(60, ge=5, le=3600)  # how often the jobs run
    # Announcement reminders before the deadline to those who have not acknowledged.
    ack_reminders: str = Field("3d,1d", pattern=r"^\s*(\d+[dh]\s*(,\s*\d+[dh]\s*)*)?$")
    require_rules_ack: bool = False  # partners acknowledge the current rules before registering
    quiz_retry_minutes: int = Field(10, ge=0, le=7 * 24 * 60)  # wait after a failed quiz
    report_channel: str | None = None  # where the weekly training report is posted
    products: Annotated[list[str], NoDecode] = Field(default_factory=list)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("products", "slack_team_ids", mode="before")
    @classmethod
    def _split_products(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("hubspot_currencies", mode="before")
    @classmethod
    def _currency_codes(cls, value: object) -> object:
        if isinstance(value, str):
            value = [item.strip() for item in value.split(",") if item.strip()]
        if isinstance(value, list):
            codes = [str(item).strip().upper() for item in value]
            if bad := [code for code in codes if len(code) != 3 or not code.isalpha()]:
                raise ValueError(f"not ISO currency codes: {', '.join(bad)} (e.g. USD,EUR)")
            return codes
        return value

    @field_validator("mail_authserv_id")
    @classmethod
    def _authserv_id(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if any(char.isspace() or char in ';()"' for char in value.strip()):
            raise ValueError("must be one word, as in Authentication-Results: mx.example.com; …")
        return value.strip()

    @field_validator("slack_api_url")
    @classmethod
    def _slack_api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @field_validator("hubspot_api_url", "salesforce_login_url")
    @classmethod
    def _crm_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    def ack_reminder_offsets(self) -> list[timedelta]:
        """PARTNERBOT_ACK_REMINDERS (`3d,1d`) as durations before the deadline."""
        offsets = []
        for item in self.ack_reminders.replace(" ", "").split(","):
            if item:
                amount, unit = int(item[:-1]), item[-1]
                offsets.append(timedelta(days=amount) if unit == "d" else timedelta(hours=amount))
        return offsets

    def missing_crm_settings(self) -> list[str]:
        """Name the variables the chosen CRM still needs."""
        needed: dict[str, object] = {}
        if self.crm == "hubspot":
            needed = {"HUBSPOT_TOKEN": self.hubspot_token}
        if self.crm == "salesforce":
            needed = {
                "SALESFORCE_LOGIN_URL": self.salesforce_login_url,
                "SALESFORCE_CLIENT_ID": self.salesforce_client_id,
                "SALESFORCE_CLIENT_SECRET": self.salesforce_client_secret,
            }
        return [ENV_PREFIX + name for name, value in needed.items() if not value]

    @property
    def slack_configured(self) -> bool:
        """True when the bot can talk to Slack (over HTTP or Socket Mode)."""
        return self.slack_bot_token is not None and (
            self.slack_signing_secret is not None or self.slack_app_token is not None
        )

    def missing_slack_settings(self) -> list[str]:
        """Name the variables that must still be set for Slack to work."""
        missing = []
        if self.slack_bot_token is None:
            missing.append(ENV_PREFIX + "SLACK_BOT_TOKEN")
        if self.slack_signing_secret is None and self.slack_app_token is None:
            missing.append(
                f"{ENV_PREFIX}SLACK_SIGNING_SECRET (HTTP) "
                f"or {ENV_PREFIX}SLACK_APP_TOKEN (Socket Mode)"
            )
        return missing


def load_settings(**overrides: object) -> Settings:
    """Read and validate the settings; raise ConfigError naming every bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            given = error.get("input")
            secret = any(word in field for word in ("password", "token", "secret"))
            shown = "" if secret or isinstance(given, dict) else f" (got {given!r})"
            lines.append(f"  {ENV_PREFIX}{field.upper()}: {error['msg']}{shown}")
        raise ConfigError("invalid configuration:\n" + "\n".join(lines)) from None

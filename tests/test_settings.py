"""Settings: PARTNERBOT_ variables and .env, validated with messages that name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import ConfigError, load_settings


def test_defaults_run_on_embedded_sqlite_and_the_local_crm(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.database_url == "sqlite:///./partnerbot.db"
    assert settings.crm == "local"
    assert (
        settings.protection_days,
        settings.approval_sla_hours,
        settings.expiry_reminder_days,
    ) == (90, 48, 7)
    assert not settings.slack_configured
    assert settings.missing_slack_settings()[0] == "PARTNERBOT_SLACK_BOT_TOKEN"


def test_environment_and_dotenv_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        "PARTNERBOT_PRODUCTS=Core, Analytics ,,Edge\nPARTNERBOT_SLACK_BOT_TOKEN=xoxb-1\n"
    )
    monkeypatch.setenv("PARTNERBOT_SLACK_SIGNING_SECRET", "s3cret")
    monkeypatch.setenv("PARTNERBOT_SLACK_API_URL", "http://127.0.0.1:9/api")
    settings = load_settings()
    assert settings.products == ["Core", "Analytics", "Edge"]
    assert settings.slack_configured
    assert settings.slack_api_url == "http://127.0.0.1:9/api/"
    assert "s3cret" not in repr(settings)


def test_every_bad_variable_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PARTNERBOT_PROTECTION_DAYS", "30")
    monkeypatch.setenv("PARTNERBOT_SMTP_PORT", "lots")
    monkeypatch.setenv("PARTNERBOT_SLACK_API_URL", "slack.com/api")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    for name in ("PARTNERBOT_PROTECTION_DAYS", "PARTNERBOT_SMTP_PORT", "PARTNERBOT_SLACK_API_URL"):
        assert name in message
    assert "greater than or equal to 60" in message

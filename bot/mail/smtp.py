"""Outbound email over SMTP (STARTTLS when the server offers it, AUTH when configured)."""

from __future__ import annotations

import logging
from email.message import EmailMessage

import aiosmtplib

from bot.errors import UserFacingError
from bot.settings import Settings

log = logging.getLogger(__name__)


# PARTNERBOT_SMTP_SECURITY -> aiosmtplib's start_tls (None: upgrade when the server offers it)
TLS_MODES: dict[str, bool | None] = {"auto": None, "starttls": True, "ssl": False, "plain": False}


class MailNotConfigured(UserFacingError):
    """SMTP settings are missing."""


class SmtpMailer:
    """Sends messages through the configured SMTP server."""

    def __init__(self, settings: Settings, *, timeout: float | None = None) -> None:
        if not settings.smtp_host or not settings.mail_from:
            raise MailNotConfigured(
                "email is not configured: set PARTNERBOT_SMTP_HOST and PARTNERBOT_MAIL_FROM"
            )
        self._settings = settings
        self._timeout = timeout or settings.smtp_timeout
        self.sender = settings.mail_from

    async def send(self, message: EmailMessage) -> None:
        """Send one message; From defaults to PARTNERBOT_MAIL_FROM. Raises aiosmtplib errors."""
        if "From" not in message:
            message["From"] = self.sender
        settings = self._settings
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_user,
            password=password,
            use_tls=settings.smtp_security == "ssl",
            start_tls=TLS_MODES[settings.smtp_security],
            timeout=self._timeout,
        )
        log.info("sent email %s", message.get("Message-ID", "(no Message-ID)"))

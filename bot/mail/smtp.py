"""Outbound email over SMTP (STARTTLS when the server offers it, AUTH when configured)."""

from __future__ import annotations

import logging
from email.message import EmailMessage

import aiosmtplib

from bot.errors import UserFacingError
from bot.settings import Settings

log = logging.getLogger(__name__)


class MailNotConfigured(UserFacingError):
    """SMTP settings are missing."""


class SmtpMailer:
    """Sends messages through the configured SMTP server."""

    def __init__(self, settings: Settings, *, timeout: float = 30) -> None:
        if not settings.smtp_host or not settings.mail_from:
            raise MailNotConfigured(
                "email is not configured: set PARTNERBOT_SMTP_HOST and PARTNERBOT_MAIL_FROM"
            )
        self._settings = settings
        self._timeout = timeout
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
            start_tls=None,  # upgrade when offered
            timeout=self._timeout,
        )
        log.info("sent email %s", message.get("Message-ID", "(no Message-ID)"))

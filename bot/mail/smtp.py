"""Outbound email over SMTP (STARTTLS when the server offers it, AUTH when configured)."""

from __future__ import annotations

import asyncio
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
    """Sends messages through the configured SMTP server, over one connection kept open
    between messages (a fan-out of thousands costs one TLS handshake and one login), and
    opened again when the server has closed it."""

    def __init__(self, settings: Settings, *, timeout: float | None = None) -> None:
        if not settings.smtp_host or not settings.mail_from:
            raise MailNotConfigured(
                "email is not configured: set PARTNERBOT_SMTP_HOST and PARTNERBOT_MAIL_FROM"
            )
        self._settings = settings
        self._timeout = timeout or settings.smtp_timeout
        self.sender = settings.mail_from
        self._client: aiosmtplib.SMTP | None = None
        self._lock = asyncio.Lock()

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
        settings = self._settings
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        client = aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            use_tls=settings.smtp_security == "ssl",
            start_tls=TLS_MODES[settings.smtp_security],
            timeout=self._timeout,
        )
        await client.connect()
        try:
            if settings.smtp_user and password is not None:
                await client.login(settings.smtp_user, password)
        except BaseException:
            client.close()
            raise
        self._client = client
        return client

    async def send(self, message: EmailMessage) -> None:
        """Send one message; From defaults to PARTNERBOT_MAIL_FROM. Raises aiosmtplib errors."""
        if "From" not in message:
            message["From"] = self.sender
        async with self._lock:
            for attempt in (1, 2):  # a kept connection the server dropped is opened again once
                client = await self._connected()
                try:
                    await client.send_message(message)
                    break
                except aiosmtplib.SMTPServerDisconnected:
                    self._client = None
                    if attempt == 2:
                        raise
                except (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPResponseException):
                    raise  # the connection is still good
                except BaseException:
                    await self.aclose()
                    raise
        log.info("sent email %s", message.get("Message-ID", "(no Message-ID)"))

    async def aclose(self) -> None:
        """Say QUIT and close the kept connection."""
        client, self._client = self._client, None
        if client is not None and client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()

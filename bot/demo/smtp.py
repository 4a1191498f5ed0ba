"""A real SMTP server (aiosmtpd) on loopback that requires AUTH and keeps what it receives."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from bot.demo.net import free_port

USER, PASSWORD = "bot@example.test", "smtp-secret"


@dataclass
class ReceivedMail:
    """One message as the server got it."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    at: float = field(default_factory=time.monotonic)  # when the server accepted it

    @property
    def message(self) -> Message:
        return message_from_bytes(self.data)


@dataclass
class _Handler:
    received: list[ReceivedMail] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    greetings: int = 0  # EHLO/HELO seen: one per connection a client opened

    async def handle_EHLO(
        self, server: Any, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        with self.lock:
            self.greetings += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        with self.lock:
            self.received.append(
                ReceivedMail(str(envelope.mail_from), list(envelope.rcpt_tos), content)
            )
        return "250 Message accepted for delivery"


def _authenticate(
    server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    ok = (
        isinstance(data, LoginPassword)
        and data.login.decode() == USER
        and data.password.decode() == PASSWORD
    )
    # handled=False on failure makes aiosmtpd answer 535 instead of leaving the client hanging.
    return AuthResult(success=True) if ok else AuthResult(success=False, handled=False)


class SmtpServer:
    """`start()`, send to host:port with user/password, read `received`."""

    def __init__(self) -> None:
        self.host, self.port = "127.0.0.1", free_port()
        self.user, self.password = USER, PASSWORD
        self._handler = _Handler()
        self._controller = Controller(
            self._handler,
            hostname=self.host,
            port=self.port,
            authenticator=_authenticate,
            auth_require_tls=False,
            auth_required=True,
        )

    @property
    def received(self) -> list[ReceivedMail]:
        with self._handler.lock:
            return list(self._handler.received)

    @property
    def connections(self) -> int:
        """How many connections clients opened (one EHLO each)."""
        with self._handler.lock:
            return self._handler.greetings

    def clear(self) -> None:
        with self._handler.lock:
            self._handler.received.clear()
            self._handler.greetings = 0

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

"""Signed reply addresses: `<local>+<token>@<PARTNERBOT_REPLY_DOMAIN>`.

A token names the recipient and what the mail is about, expires, and is signed with
PARTNERBOT_SECRET_KEY together with the recipient's own secret (`Person.mail_secret`), so
giving a person a new secret revokes every reply address they were sent. Tokens are
lowercase (some MTAs lowercase local parts) and short (a local part holds 64 characters):
`a1z.3f.k2n4.abcdefghijklmnop` — kind and person, subject, expiry day, signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import getaddresses
from enum import StrEnum

EPOCH = date(2020, 1, 1)
SIGNATURE_CHARS = 16  # 80 bits
MAX_ID = 2**31 - 1  # ids are the database's INTEGER: a larger one is no id of ours
TOKEN = re.compile(r"([adpt])([0-9a-z]{1,7})\.([0-9a-z]{1,7})\.([0-9a-z]{1,4})\.([a-z2-7]{16})")


class SubjectKind(StrEnum):
    """What a reply is about."""

    ANNOUNCEMENT = "announcement"
    DEAL = "deal"  # a partner's registration
    APPROVAL = "approval"  # a manager's approval request for a registration
    TRAINING = "training"  # a training module (quiz answers)


CODES = {
    SubjectKind.ANNOUNCEMENT: "a",
    SubjectKind.DEAL: "d",
    SubjectKind.APPROVAL: "p",
    SubjectKind.TRAINING: "t",
}
KINDS = {code: kind for kind, code in CODES.items()}


class TokenError(Exception):
    """A token that cannot be trusted; `reason` is forged_token or expired_token."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ReplyToken:
    """What a reply address says: who may reply, about what, until when."""

    person_id: int
    kind: SubjectKind
    subject_id: int
    expires: date


def new_person_secret() -> str:
    """A fresh per-person secret (store it on the person; replace it to revoke)."""
    return secrets.token_hex(16)


def _b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if number == 0:
            return out


def _signature(secret_key: str, person_secret: str, payload: str) -> str:
    digest = hmac.new(
        secret_key.encode(), f"{payload}|{person_secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b32encode(digest).decode().lower()[:SIGNATURE_CHARS]


def mint(token: ReplyToken, *, secret_key: str, person_secret: str) -> str:
    """The token text for a reply address."""
    days = (token.expires - EPOCH).days
    payload = f"{CODES[token.kind]}{_b36(token.person_id)}.{_b36(token.subject_id)}.{_b36(days)}"
    return f"{payload}.{_signature(secret_key, person_secret, payload)}"


def expiry(now: datetime, days: int) -> date:
    """The last day a token minted now stays valid."""
    return (now.astimezone(UTC) + timedelta(days=days)).date()


def _id(digits: str) -> int:
    number = int(digits, 36)
    if not 1 <= number <= MAX_ID:
        raise ValueError(f"id out of range: {digits}")
    return number


def read(text: str) -> ReplyToken:
    """What a token claims, unverified (verify with `check`): its ids are database ids
    (1 to 2**31-1) or it is forged. Raises TokenError."""
    match = TOKEN.fullmatch(text.lower())
    try:
        if match is None:
            raise ValueError("not a token")
        code, person, subject, days, _signature_part = match.groups()
        return ReplyToken(
            person_id=_id(person),
            kind=KINDS[code],
            subject_id=_id(subject),
            expires=EPOCH + timedelta(days=int(days, 36)),
        )
    except (ValueError, KeyError, OverflowError) as exc:
        raise TokenError("forged_token", "the reply address is not one partnerbot made") from exc


def check(text: str, *, secret_key: str, person_secret: str | None, today: date) -> ReplyToken:
    """Verify a token's signature and expiry for the person it names. Raises TokenError."""
    token = read(text)
    payload, _, signature = text.lower().rpartition(".")
    if person_secret is None or not hmac.compare_digest(
        signature, _signature(secret_key, person_secret, payload)
    ):
        raise TokenError("forged_token", "the reply address's signature does not match")
    if token.expires < today:
        raise TokenError("expired_token", f"the reply address expired on {token.expires}")
    return token


def reply_address(local: str, token: str, domain: str) -> str:
    """`local+token@domain`."""
    return f"{local}+{token}@{domain}"


def find(addresses: Iterable[str], *, domain: str) -> str | None:
    """The token in the first `…+token@domain` among header values (To, Cc, Delivered-To…)."""
    for _name, address in getaddresses(list(addresses)):
        local, at, host = address.strip().rpartition("@")
        if at and host.lower() == domain.lower() and "+" in local:
            return local.split("+", 1)[1].strip().lower() or None
    return None

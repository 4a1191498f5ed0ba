"""Reading a received message: parse it, tell what kind of mail it is, extract the reply.

Pure functions over bytes and text (no store, no network): mail-parser does the MIME and
charset work, `bot.mail.trimming` keeps what the person typed of a reply.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesHeaderParser
from typing import Any

import mailparser
from mailparser.utils import decode_header_part

from bot.mail.headers import Headers, sender
from bot.mail.html_text import html_to_text
from bot.mail.mime import deeper_than, message_ids, returned_message_ids
from bot.mail.outbound import sender_parts
from bot.mail.trimming import trim
from bot.settings import Settings

MAX_TEXT = 10_000  # characters of a reply kept and acted on
MAX_BODY = 500_000  # characters of a body read for its reply (a reply is never longer)
ISO_2022_CODECS = ("iso2022_jp_2", "iso2022_jp_ext", "iso2022_kr")


AUTO_SUBJECT = re.compile(
    r"^\s*(?:"
    r"out of (?:the )?office|automatic reply|auto(?:matic)?[- ]?(?:reply|response)|autoreply"
    r"|away from (?:the )?office|auto:"  # English, and Outlook's "Auto:"
    r"|abwesenheit|automatische antwort|nicht im b(?:ü|ue)ro"  # German
    r"|absent(?:e)? du bureau|absence du bureau|r(?:é|e)ponse automatique"  # French
    r"|respuesta autom(?:á|a)tica|fuera de (?:la )?oficina"  # Spanish
    r"|afwezig|automatisch antwoord|niet aanwezig|buiten kantoor|out of office"  # Dutch
    r")",
    re.IGNORECASE,
)
BOUNCE_SUBJECT = re.compile(
    r"undeliver|delivery status notification|returned mail|failure notice|mail delivery"
    r"|delivery has failed|unzustellbar|non remis|no se puede entregar",
    re.IGNORECASE,
)
BOUNCE_SENDERS = ("mailer-daemon@", "postmaster@")
RECIPIENT_HEADERS = ("to", "cc", "delivered-to", "x-original-to")
HEAD_BYTES = 64 * 1024  # what is read of a message over the size limit: its headers
MAX_MIME_DEPTH = 50  # parts nested deeper make a message unparseable (real mail nests < 10)


@dataclass(frozen=True)
class Oversize:
    """The head of a message too large to take in whole, and its full size in bytes."""

    head: bytes
    size: int


Received = bytes | Oversize  # what a source hands the pipeline


@dataclass
class Parsed:
    """What the pipeline needs from a message."""

    key: str  # Message-ID, or sha256 of the raw bytes
    sender: str  # the one From address, lowercase ("" when there is not exactly one)
    subject: str
    headers: Headers
    recipients: list[str]  # To, Cc, Delivered-To, X-Original-To values
    text: str
    html: str
    content_type: str
    raw: bytes = field(repr=False)  # all of it, or the head of a message over the size limit
    size: int = 0  # the whole message's, in bytes
    sender_problem: str | None = None  # why there is no one From address
    problem: str | None = None  # why it could not be parsed: it never will be
    originals: list[str] = field(default_factory=list)  # Message-IDs it answers or returns
    reply: str | None = None  # the extracted new text, when read ahead by `read_all`


class Unparseable(Exception):
    """A message whose text no retry will read."""


# --- parse ------------------------------------------------------------------------------


def _clean(value: Any) -> str:
    """Text the store takes: no NUL, no lone surrogate."""
    text = str(value or "").replace("\x00", "")
    return text if text.isascii() else text.encode("utf-8", "replace").decode("utf-8")


FOLD = re.compile(r"\r?\n[ \t]*")


def _header(value: Any) -> str:
    """A header value unfolded (RFC 5322 2.2.3): long headers arrive over several lines."""
    return FOLD.sub(" ", _clean(value)).strip()


def message_key(message_id: str, raw: bytes) -> str:
    """The deduplication key: the Message-ID, or a hash of the message when it has none."""
    message_id = message_id.strip()
    return message_id[:900] if message_id else "sha256:" + hashlib.sha256(raw).hexdigest()


def _envelope(message: Message, raw: bytes, size: int) -> Parsed:
    """The header-borne part of a Parsed: sender, subject, recipients, key."""
    headers = Headers.of((name, _header(value)) for name, value in message.items())
    who = sender(headers)
    references = headers.first("in-reply-to") + " " + headers.first("references")
    return Parsed(
        key=message_key(headers.first("message-id"), raw),
        sender=who.address,
        sender_problem=who.problem,
        subject=_clean(decode_header_part(headers.first("subject"))),
        headers=headers,
        recipients=[v for n, v in headers.fields if n in RECIPIENT_HEADERS and v],
        text="",
        html="",
        content_type=message.get_content_type(),
        raw=raw,
        size=size,
        originals=message_ids(references),
    )


def parse(raw: bytes) -> Parsed:
    """mail-parser does the MIME and charset work; NUL bytes and bad headers are tolerated."""
    mail = mailparser.parse_from_bytes(raw.replace(b"\x00", b""))
    message: Message = mail.message if mail.message is not None else Message()
    parsed = _envelope(message, raw, len(raw))
    parsed.text = "\n".join(_clean(t) for t in mail.text_plain)
    parsed.html = "\n".join(_clean(h) for h in mail.text_html)
    parsed.originals = returned_message_ids(message) + parsed.originals
    return parsed


def parse_envelope(head: bytes, size: int) -> Parsed:
    """Headers only (of mail too large to parse whole, or that could not be parsed)."""
    return _envelope(BytesHeaderParser().parsebytes(head[:HEAD_BYTES]), head, size)


def _unparseable(raw: bytes, size: int, problem: str) -> Parsed:
    """A message no parser will read, with what its headers say (if even they can be read)."""
    try:
        parsed = parse_envelope(raw, size)
    except Exception:  # headers the stdlib cannot read either: the bytes are all there is
        parsed = Parsed(message_key("", raw), "", "", Headers(), [], "", "", "", raw, size)
    parsed.problem = problem
    return parsed


def kept(received: Received, max_bytes: int) -> bytes:
    """The bytes of a received message that are held: all, or the head of an oversize one."""
    if isinstance(received, Oversize):
        return received.head[:HEAD_BYTES]
    return received if len(received) <= max_bytes else received[:HEAD_BYTES]


def read(received: Received, max_bytes: int) -> Parsed:
    """Parse a message whole; only its headers when it is over the size limit; and mark it
    unparseable when it cannot be parsed — whatever a parser raises on it, it will again."""
    size = received.size if isinstance(received, Oversize) else len(received)
    raw = kept(received, max_bytes)
    try:
        if size > max_bytes:
            return parse_envelope(raw, size)
        if deeper_than(raw, MAX_MIME_DEPTH):
            return _unparseable(raw, size, f"MIME parts nested over {MAX_MIME_DEPTH} deep")
        return parse(raw)
    except Exception as exc:  # parsers on hostile input: whatever they raise, they will again
        return _unparseable(raw, size, f"{type(exc).__name__}: {str(exc)[:200]}")


def read_all(received: list[Received], max_bytes: int) -> list[Parsed]:
    """Read messages and extract their replies ahead (in a worker process, see
    `inbound.ingest_many`); the raw bytes are left out of the answer — the caller has them."""
    mails = [read(one, max_bytes) for one in received]
    for mail in mails:
        if mail.problem is None and mail.size <= max_bytes:
            with contextlib.suppress(Exception):  # `reply_text` tries again, and tells why
                mail.reply = extract(mail)
        mail.raw = b""
    return mails


# --- classify ---------------------------------------------------------------------------


def is_bounce(mail: Parsed) -> bool:
    """A delivery report, or a mailer daemon's failure notice."""
    if mail.content_type == "multipart/report":
        return True
    sender_is_daemon = mail.sender.startswith(BOUNCE_SENDERS) or not mail.sender
    return sender_is_daemon and bool(BOUNCE_SUBJECT.search(mail.subject))


def is_auto_reply(mail: Parsed) -> bool:
    """Out-of-office and other automatic mail (RFC 3834 and the headers clients really send);
    any copy of a header saying so counts."""
    h = mail.headers
    if any(v.strip().lower() not in ("", "no") for v in h.all("auto-submitted")):
        return True
    bulk = ("bulk", "junk", "list", "auto_reply")
    if any(v.strip().lower() in bulk for v in h.all("precedence")):
        return True
    if any(n in h for n in ("x-autoreply", "x-autorespond", "x-autoresponse", "list-id")):
        return True
    return bool(
        AUTO_SUBJECT.match(
            re.sub(r"^(?:re|aw|fw|fwd|wg|tr|sv)\s*:\s*", "", mail.subject, flags=re.I)
        )
    )


# --- extract ----------------------------------------------------------------------------


def _undecoded_iso_2022(text: str) -> str:
    """A text part mail-parser left in ISO-2022's 7-bit escape sequences (it does not decode
    ISO-2022-JP), decoded; any other text as it is."""
    if "\x1b" not in text or not text.isascii():
        return text
    for codec in ISO_2022_CODECS:
        with contextlib.suppress(UnicodeError):
            return text.encode("ascii").decode(codec)
    return text


def extraction_input(mail: Parsed) -> str:
    """The body a reply is extracted from: the text part, else the HTML part as text."""
    if mail.text.strip():
        return _undecoded_iso_2022(mail.text[:MAX_BODY])
    return html_to_text(mail.html[: MAX_BODY * 4])


def extract(mail: Parsed) -> str:
    """The new text of a reply: what the person typed, without quotes, earlier messages,
    signatures after a delimiter and lines their mail client added."""
    return trim(extraction_input(mail))[:MAX_TEXT]


def reply_text(mail: Parsed) -> str:
    """The new text of a reply, read ahead or now. Raises Unparseable when the stripper
    breaks on it (it would again)."""
    if mail.reply is not None:
        return mail.reply
    try:
        return extract(mail)
    except Exception as exc:  # third-party text code on hostile input
        raise Unparseable(f"its text: {type(exc).__name__}") from exc


# --- our own mail --------------------------------------------------------------------


def _own_addresses(settings: Settings) -> tuple[str, str]:
    _name, address = sender_parts(settings)
    return address.lower(), (settings.reply_domain or "").lower()


def is_own_address(address: str, settings: Settings) -> bool:
    """Our own address, or one at our reply domain."""
    own, domain = _own_addresses(settings)
    address = address.lower()
    return bool(address) and (address == own or (bool(domain) and address.endswith("@" + domain)))


def is_own(mail: Parsed, settings: Settings) -> bool:
    """Mail from our own address (or our reply domain): a loop, never answered."""
    return is_own_address(mail.sender, settings)

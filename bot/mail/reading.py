"""Reading a received message: parse it, tell what kind of mail it is, extract the reply.

Pure functions over bytes and text (no store, no network): mail-parser does the MIME and
charset work, mail-parser-reply (plus a few client quirks) strips quotes and signatures.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesHeaderParser
from email.utils import parseaddr
from typing import Any

import html2text
import mailparser
from mailparser_reply import EmailReplyParser

from bot.mail.outbound import sender_parts
from bot.settings import Settings

MAX_TEXT = 10_000  # characters of a reply kept and acted on
REPLY_LANGUAGES = ["en", "de", "fr", "es", "nl"]
_replies = EmailReplyParser(languages=REPLY_LANGUAGES)


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
FINAL_RECIPIENT = re.compile(rb"(?im)^(?:final|original)-recipient:\s*rfc822;\s*<?([^\s>]+)>?")


@dataclass
class Parsed:
    """What the pipeline needs from a message."""

    key: str  # Message-ID, or sha256 of the raw bytes
    sender: str  # From address, lowercase
    subject: str
    headers: dict[str, str]  # lowercase names
    recipients: list[str]  # To, Cc, Delivered-To, X-Original-To values
    text: str
    html: str
    content_type: str
    raw: bytes = field(repr=False)
    reply: str | None = None  # the extracted new text, when read ahead by `read_all`


# --- parse ------------------------------------------------------------------------------


def _clean(value: Any) -> str:
    return str(value or "").replace("\x00", "")


FOLD = re.compile(r"\r?\n[ \t]*")


def _header(value: Any) -> str:
    """A header value unfolded (RFC 5322 2.2.3): long headers arrive over several lines."""
    return FOLD.sub(" ", _clean(value)).strip()


def message_key(message_id: str, raw: bytes) -> str:
    """The deduplication key: the Message-ID, or a hash of the message when it has none."""
    message_id = message_id.strip()
    return message_id[:900] if message_id else "sha256:" + hashlib.sha256(raw).hexdigest()


def parse(raw: bytes) -> Parsed:
    """mail-parser does the MIME and charset work; NUL bytes and bad headers are tolerated."""
    mail = mailparser.parse_from_bytes(raw.replace(b"\x00", b""))
    message: Message = mail.message
    items = [(name.lower(), _header(value)) for name, value in message.items()] if message else []
    headers = dict(items)
    sender = parseaddr(headers.get("from", ""))[1].lower()
    recipients = [v for n, v in items if n in ("to", "cc", "delivered-to", "x-original-to")]
    return Parsed(
        key=message_key(_header(mail.message_id), raw),
        sender=sender,
        subject=_header(mail.subject),
        headers=headers,
        recipients=[r for r in recipients if r],
        text="\n".join(_clean(t) for t in mail.text_plain),
        html="\n".join(_clean(h) for h in mail.text_html),
        content_type=message.get_content_type() if message is not None else "text/plain",
        raw=raw,
    )


def parse_envelope(raw: bytes) -> Parsed:
    """Headers only (for mail too large to parse whole)."""
    head = BytesHeaderParser().parsebytes(raw[:65536])
    headers = {k.lower(): _header(v) for k, v in head.items()}
    return Parsed(
        key=message_key(headers.get("message-id", ""), raw),
        sender=parseaddr(headers.get("from", ""))[1].lower(),
        subject=headers.get("subject", ""),
        headers=headers,
        recipients=[headers.get(n, "") for n in ("to", "cc", "delivered-to") if headers.get(n)],
        text="",
        html="",
        content_type=head.get_content_type(),
        raw=raw,
    )


def read(raw: bytes, max_bytes: int) -> Parsed:
    """Parse a message whole, or only its headers when it is over the size limit."""
    return parse_envelope(raw) if len(raw) > max_bytes else parse(raw)


def read_all(raws: list[bytes], max_bytes: int) -> list[Parsed]:
    """Read messages and extract their replies ahead (in a worker process, see
    `inbound.ingest_many`); the raw bytes are left out of the answer — the caller has them."""
    mails = [read(raw, max_bytes) for raw in raws]
    for mail in mails:
        if len(mail.raw) <= max_bytes:
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
    """Out-of-office and other automatic mail (RFC 3834 and the headers clients really send)."""
    h = mail.headers
    if h.get("auto-submitted", "no").strip().lower() not in ("", "no"):
        return True
    if h.get("precedence", "").strip().lower() in ("bulk", "junk", "list", "auto_reply"):
        return True
    if any(n in h for n in ("x-autoreply", "x-autorespond", "x-autoresponse", "list-id")):
        return True
    return bool(
        AUTO_SUBJECT.match(
            re.sub(r"^(?:re|aw|fw|fwd|wg|tr|sv)\s*:\s*", "", mail.subject, flags=re.I)
        )
    )


def bounced_addresses(mail: Parsed) -> list[str]:
    """The recipients a delivery report says failed."""
    return sorted({m.decode(errors="replace").lower() for m in FINAL_RECIPIENT.findall(mail.raw)})


# --- extract ----------------------------------------------------------------------------


def _html_to_text(html: str) -> str:
    converter = html2text.HTML2Text()
    converter.body_width = 0
    converter.ignore_images = True
    converter.ignore_links = True
    converter.unicode_snob = True
    return converter.handle(html)


def extract(mail: Parsed) -> str:
    """The new text of a reply: quotes, the quoted header and the signature removed."""
    body = mail.text if mail.text.strip() else _html_to_text(mail.html)
    body = body.replace("\r\n", "\n").replace("\x00", "")
    replies = _replies.read(text=body).replies
    text = replies[0].body if replies else body
    if not text.strip() and replies and replies[0].content:
        text = replies[0].content
    return _cut_quotes(text)[:MAX_TEXT]


QUOTE_START = re.compile(
    r"^\s*(?:-{2,}\s*(?:original message|forwarded message|weitergeleitete nachricht)"
    r"|begin forwarded message:|_{10,}$"
    r"|sent from (?:my |outlook|mail for)|von meinem .* gesendet|envoy(?:é|e) de mon"
    r"|enviado desde mi|verstuurd vanaf mijn|get outlook for (?:ios|android)"
    r"|(?:on|op|el|le|am)\b.*(?:wrote|schreef|escribi(?:ó|o)|a (?:é|e)crit|schrieb)\b.*:\s*$)",
    re.IGNORECASE,
)
SIGN_OFF = re.compile(
    r"^(?:--|(?:best |kind |warm )?regards|best|cheers|thanks(?: again)?|br|mit freundlichen"
    r" gr(?:ü|ue)(?:ß|ss)en|viele gr(?:ü|ue)(?:ß|ss)e|cordialement|bien (?:à|a) vous|saludos"
    r"|un saludo|met vriendelijke groet(?:en)?|groeten)[,!.]?$",
    re.IGNORECASE,
)


def _cut_quotes(text: str) -> str:
    """What the stripper left, cut at the first quote or attribution line a client added;
    an inline reply (starting with a quote) keeps only its own, unquoted lines."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    if lines and lines[0].startswith(">"):
        return "\n".join(line for line in lines if not line.startswith(">")).strip()
    kept: list[str] = []
    for line in lines:
        if line.startswith(">") or QUOTE_START.match(line):
            break
        kept.append(line)
    for index, line in enumerate(kept):  # a sign-off with a short signature under it
        if index and SIGN_OFF.match(line.strip()) and len(kept) - index <= 6:
            kept = kept[:index]
            break
    return "\n".join(kept).strip()


# --- our own mail --------------------------------------------------------------------


def _own_addresses(settings: Settings) -> tuple[str, str]:
    _name, address = sender_parts(settings)
    return address.lower(), (settings.reply_domain or "").lower()


def is_own(mail: Parsed, settings: Settings) -> bool:
    """Mail from our own address (or our reply domain): a loop, never answered."""
    address, domain = _own_addresses(settings)
    return bool(mail.sender) and (
        mail.sender == address or (bool(domain) and mail.sender.endswith("@" + domain))
    )

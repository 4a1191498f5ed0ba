"""A message's MIME structure: how deeply its parts nest (found without parsing it, since
parsers recurse once per level), and the Message-IDs of a message a delivery report returns.
"""

from __future__ import annotations

import re
from email.message import Message
from email.parser import BytesHeaderParser

# A Content-Type header opening a container (multipart/* or message/*), folded or not;
# line breaks as the stdlib parser sees them (CRLF, LF or a bare CR).
CONTAINER = re.compile(
    rb"(?i)(?:^|[\r\n])content-type:[ \t]*(?:(?:\r\n|\r|\n)[ \t]+)*(?:multipart|message)/"
)
NEWLINE = re.compile(rb"\r\n|\r|\n")
BOUNDARY = re.compile(rb'(?i);\s*boundary\s*=\s*(?:"([^"]*)"|([^\s;]+))')
CONTENT_TYPE = re.compile(rb"(?i)^content-type:\s*([a-z0-9!#$&.+^_-]+)/")
MSG_ID = re.compile(r"<[^<>\s]{1,250}>")


def deeper_than(raw: bytes, limit: int) -> bool:
    """Whether the message's parts nest more than `limit` levels deep. Each level needs a
    Content-Type header of its own, so counting those settles nearly every message; only one
    with more than `limit` of them is walked line by line."""
    for count, _ in enumerate(CONTAINER.finditer(raw), start=1):
        if count > limit:
            return _depth(raw, limit) > limit
    return False


def _container(header_lines: list[bytes]) -> tuple[bool, bytes | None] | None:
    """(is multipart, its boundary) when a part's headers make it a container; else None.
    A boundary this does not read (RFC 2231 `boundary*0=`) is b"": any `--` line is then
    taken for it, which may count too deep but never too shallow."""
    fields: list[list[bytes]] = []
    for line in header_lines:
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1].append(line)
        else:
            fields.append([line])
    for field in (b"".join(lines) for lines in fields):
        kind = CONTENT_TYPE.match(field)
        if kind is None:
            continue
        maintype = kind.group(1).lower()
        if maintype == b"message":
            return False, None
        if maintype != b"multipart":
            return None
        found = BOUNDARY.search(field)
        return True, (found.group(1) or found.group(2) or b"") if found else b""
    return None


def _delimiter(line: bytes, boundary: bytes) -> str | None:
    """Whether the line is this boundary's delimiter: "next" (a part follows), "close" or
    None."""
    if not boundary:  # one that could not be read: any delimiter may be its
        return "next"
    if not line.startswith(b"--" + boundary):
        return None
    rest = line[2 + len(boundary) :]
    if rest.startswith(b"--") and not rest[2:].strip(b" \t"):
        return "close"
    return None if rest.strip(b" \t") else "next"


def _depth(raw: bytes, limit: int) -> int:
    """How deeply parts nest, following boundaries and message/* bodies as a parser does
    (a delimiter of an outer multipart ends every part inside it); stops past `limit`."""
    stack: list[bytes | None] = []  # open containers: a multipart's boundary, None for message/*
    headers: list[bytes] | None = []  # the current part's header lines, while reading them
    deepest = 0
    for line in NEWLINE.split(raw):
        if headers is not None:
            if line:
                headers.append(line)
                continue
            found, headers = _container(headers), None
            if found is not None:
                stack.append(found[1] if found[0] else None)
                deepest = max(deepest, len(stack))
                if deepest > limit:
                    return deepest
                headers = None if found[0] else []  # message/*: its body starts with headers
            continue
        if not line.startswith(b"--"):
            continue
        for index in range(len(stack) - 1, -1, -1):
            boundary = stack[index]
            kind = _delimiter(line, boundary) if boundary is not None else None
            if kind is not None:
                del stack[index + (kind == "next") :]
                headers = [] if kind == "next" else None
                break
    return deepest


def returned_message_ids(message: Message) -> list[str]:
    """The Message-IDs of the message a delivery report returns: from its message/rfc822 or
    text/rfc822-headers part."""
    found: list[str] = []
    for part in message.walk():
        kind = part.get_content_type()
        if kind in ("message/rfc822", "message/global"):
            inner = part.get_payload()
            returned = inner[0] if isinstance(inner, list) and inner else None
            values = returned.get_all("message-id", []) if isinstance(returned, Message) else []
        elif kind == "text/rfc822-headers":
            body = part.get_payload(decode=True)
            head = BytesHeaderParser().parsebytes(body if isinstance(body, bytes) else b"")
            values = head.get_all("message-id", [])
        else:
            continue
        found += [i for value in values for i in MSG_ID.findall(str(value))]
    return found


def message_ids(value: str) -> list[str]:
    """The `<id>`s in an In-Reply-To or References header."""
    return MSG_ID.findall(value)

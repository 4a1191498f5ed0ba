"""A received message's header fields, every copy kept.

A name may occur more than once — a sender can add a second From, or an
Authentication-Results header of its own below the one our receiving server prepended —
so there is no "the value" of a header: each reader says which copy it wants (the topmost,
every one, or exactly one), and the sender is only ever one From with one address.
"""

from __future__ import annotations

import email.policy
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import getaddresses


@dataclass(frozen=True)
class Headers:
    """Header fields in message order, topmost first (servers on the way prepend theirs)."""

    fields: tuple[tuple[str, str], ...] = ()  # (lowercase name, unfolded value)

    @classmethod
    def of(cls, items: Iterable[tuple[str, str]]) -> Headers:
        """Headers from (name, value) pairs in message order."""
        return cls(tuple((name.lower(), value) for name, value in items))

    def all(self, name: str) -> list[str]:
        """Every value of a header, topmost first."""
        name = name.lower()
        return [value for field, value in self.fields if field == name]

    def first(self, name: str) -> str:
        """The topmost value of a header (the last one added on the way to us), or ""."""
        return next((value for field, value in self.fields if field == name.lower()), "")

    def count(self, name: str) -> int:
        """How many copies of a header the message has."""
        return len(self.all(name))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and any(field == name.lower() for field, _ in self.fields)


@dataclass(frozen=True)
class Sender:
    """Who a message says it is from: one address, or why there is no single one."""

    address: str  # lowercase; "" when `problem` is set
    problem: str | None = None


def sender(headers: Headers) -> Sender:
    """The message's one From address; a message with no From, several From headers, a From
    naming several addresses, several Sender headers or a Sender naming several addresses has
    none (whoever checked its authenticity may have read another one than we would)."""
    froms, senders = headers.all("from"), headers.all("sender")
    if len(froms) != 1:
        return Sender("", f"{len(froms)} From headers")
    if len(senders) > 1:
        return Sender("", f"{len(senders)} Sender headers")
    address = one_mailbox(froms[0])
    if address is None:
        return Sender("", "the From header does not name exactly one address")
    if senders and one_mailbox(senders[0]) is None:
        return Sender("", "the Sender header does not name exactly one address")
    return Sender(address)


MAX_ADDRESS_HEADER = 1000  # characters: a longer From or Sender is no one's single address


@functools.lru_cache(maxsize=1024)  # senders repeat; RFC 5322's parser costs ~0.3 ms a call
def one_mailbox(value: str) -> str | None:
    """The one address in an address header, lowercase — when Python's two address parsers
    (the lenient legacy one and RFC 5322's) agree there is exactly one and which it is; else
    None. A small defect both read past (a missing closing `>`) is tolerated."""
    if len(value) > MAX_ADDRESS_HEADER:
        return None
    legacy = getaddresses([value])
    try:
        modern = email.policy.default.header_factory("from", value)
        addresses = [address.addr_spec for address in modern.addresses]
    except Exception:  # the stdlib's header parser can raise on hostile input: no single address
        return None
    if len(legacy) != 1 or len(addresses) != 1:
        return None
    address = addresses[0].strip().lower()
    if not address or "@" not in address or legacy[0][1].strip().lower() != address:
        return None
    return address

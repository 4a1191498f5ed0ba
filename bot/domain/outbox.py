"""The durable outbox: external writes (the CRM) recorded in the business transaction.

A row is written in the same transaction as the change that caused it, so a crash loses
nothing and a retry never writes twice (the idempotency key is unique). The worker
delivers rows to the configured CRM adapter.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from store.models import OutboxItem


async def enqueue(
    session: AsyncSession,
    *,
    kind: str,
    record_key: str,
    idempotency_key: str,
    payload: dict[str, Any],
) -> OutboxItem:
    """Queue one CRM write (once per idempotency key) in the caller's transaction."""
    existing = (
        await session.exec(select(OutboxItem).where(OutboxItem.idempotency_key == idempotency_key))
    ).first()
    if existing is not None:
        return existing
    item = OutboxItem(
        target="crm",
        kind=kind,
        record_key=record_key,
        idempotency_key=idempotency_key,
        payload=payload,
    )
    session.add(item)
    await session.flush()
    return item

"""The store's memory of which CRM record is which of ours (`crm_link`), shared by every
worker: an adapter looks a record up here before searching the CRM, remembers the id the CRM
returned, and forgets it when the CRM says the record is gone."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from sqlalchemy import delete, tuple_
from sqlmodel import col, select

from store.db import Database
from store.models import CrmLink

Pair = tuple[str, str]  # (record type, our key)


class Links:
    """CRM ids of our records for one CRM, in the store."""

    def __init__(self, db: Database, crm: str) -> None:
        self.db, self.crm = db, crm

    async def get_many(self, pairs: Collection[Pair]) -> dict[Pair, str]:
        """The known CRM ids of these records."""
        if not pairs:
            return {}
        found: dict[Pair, str] = {}
        wanted = list(pairs)
        async with self.db.read() as session:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                rows = await session.exec(
                    select(CrmLink.record_type, CrmLink.key, CrmLink.crm_id).where(
                        CrmLink.crm == self.crm,
                        tuple_(col(CrmLink.record_type), col(CrmLink.key)).in_(chunk),
                    )
                )
                found |= {(kind, key): crm_id for kind, key, crm_id in rows.all()}
        return found

    async def put_many(self, ids: Mapping[Pair, str]) -> None:
        """Remember (or correct) the CRM ids of these records."""
        if not ids:
            return
        async with self.db.session() as session:
            stored = {
                (link.record_type, link.key): link
                for link in (
                    await session.exec(
                        select(CrmLink).where(
                            CrmLink.crm == self.crm,
                            tuple_(col(CrmLink.record_type), col(CrmLink.key)).in_(list(ids)),
                        )
                    )
                ).all()
            }
            for (kind, key), crm_id in ids.items():
                link = stored.get((kind, key))
                if link is None:
                    session.add(CrmLink(crm=self.crm, record_type=kind, key=key, crm_id=crm_id))
                elif link.crm_id != crm_id:
                    link.crm_id = crm_id
                    session.add(link)

    async def forget(self, pairs: Collection[Pair]) -> None:
        """The CRM deleted these records: forget their ids (the next write recreates them)."""
        if not pairs:
            return
        async with self.db.session() as session:
            await session.exec(
                delete(CrmLink).where(
                    col(CrmLink.crm) == self.crm,
                    tuple_(col(CrmLink.record_type), col(CrmLink.key)).in_(list(pairs)),
                )
            )

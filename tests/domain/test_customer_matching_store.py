"""Customer matching (issue #16) against the store, on SQLite and PostgreSQL: candidates by
index whatever the typo, word counts kept current, managers' pair verdicts, the migration."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text, update
from sqlmodel import select

from bot.clock import fixed_clock
from bot.domain.conflicts import Rule, Verdict
from bot.domain.mirror import sync_accounts
from bot.domain.registration import Registration, record_pair
from bot.errors import AccessDenied
from crm.base import AccountPage, AccountRecord
from store.db import Database
from store.migrate import upgrade
from store.models import (
    AuditEvent,
    CrmAccount,
    CustomerPair,
    DealRegistration,
    NameIndex,
    NameSlip,
    NameWord,
)
from tests.domain.test_decisions import person
from tests.domain.test_registration import FORM, NOW, register
from tests.harness.postgres import PostgresServer


async def claim(db: Database, email: str, company: str, domain: str) -> Registration:
    form = replace(FORM, customer_company=company, customer_domain=domain)
    return await register(db, email, form, key=f"{email}:{company}:{domain}")


async def withdraw(db: Database, deal_id: int) -> None:
    async with db.session() as session:
        await session.exec(
            update(DealRegistration)
            .where(DealRegistration.id == deal_id)  # type: ignore[arg-type]
            .values(status="withdrawn")
        )


async def counts(db: Database, *words: str) -> dict[str, int]:
    async with db.read() as session:
        rows = (await session.exec(select(NameWord.word, NameWord.names))).all()
    found = dict(rows)
    return {w: found.get(w, 0) for w in words}


async def test_a_typo_in_the_first_word_on_another_domain_is_found_by_index(
    program: Database,
) -> None:
    await claim(program, "nora@northwind.example", "Vellumcliff Pharma Ltd", "vellumcliff.co.nz")
    result = await claim(program, "sam@southpaw.example", "Vellumclfif Pharma", "vp-online.com")
    assert (result.deal.conflict_verdict, result.deal.conflict_rule) == (
        Verdict.CONFLICT,
        Rule.FIRST_REGISTRATION_WINS,
    )
    [match] = result.deal.conflict_details["matches"]
    assert match["kind"] == "registration" and "Northwind" in match["label"]
    assert match["reason"].startswith('name "Vellumclfif Pharma" ≈ "Vellumcliff Pharma Ltd"')


async def test_a_transliterated_name_on_another_domain_is_the_same_customer(
    program: Database,
) -> None:
    await claim(program, "nora@northwind.example", "Müller Maschinenbau GmbH", "müller-mb.de")
    result = await claim(program, "sam@southpaw.example", "Mueller Maschinenbau AG", "mmb.ch")
    assert result.deal.conflict_verdict == Verdict.CONFLICT


async def test_companies_sharing_only_common_words_are_clear(program: Database) -> None:
    await claim(program, "nora@northwind.example", "Summit Capital Partners", "summitcap.com")
    await claim(program, "nora@northwind.example", "First National Bank of Omaha", "fnbo.com")
    assert (await claim(program, "sam@southpaw.example", "Summit Healthcare", "sh.com")).clear
    assert (
        await claim(program, "sam@southpaw.example", "First National Bank of Texas", "fnbt.com")
    ).clear


@dataclass
class FakeCrm:
    """A CRM whose accounts the test edits; each sync reads them all."""

    name: str = "hubspot"
    accounts: dict[str, AccountRecord] = field(default_factory=dict)

    def put(self, crm_id: str, name: str, domain: str) -> None:
        self.accounts[crm_id] = AccountRecord(crm_id, domain, name, "direct", None, NOW)

    async def accounts_changed_since(self, cursor: str | None, *, limit: int) -> AccountPage:
        return AccountPage(list(self.accounts.values()), cursor="end", more=False)


async def test_word_counts_follow_registrations_and_the_mirror(program: Database) -> None:
    await claim(program, "nora@northwind.example", "Vornakel Analytics GmbH", "vornakel.de")
    await claim(program, "sam@southpaw.example", "Quillfeather Logistics", "quillfeather.com")
    assert await counts(program, "", "vornakel", "analytics", "gmbh") == {
        "": 2, "vornakel": 1, "analytics": 1, "gmbh": 0,
    }  # fmt: skip
    crm = FakeCrm()
    crm.put("A1", "Vornakel Inc.", "vornakel.com")
    crm.put("A2", "Brambleworth Foods", "brambleworth.com")
    await sync_accounts(program, crm, clock=fixed_clock(NOW))  # type: ignore[arg-type]
    assert await counts(program, "", "vornakel", "brambleworth") == {
        "": 4, "vornakel": 2, "brambleworth": 1,
    }  # fmt: skip
    crm.put("A1", "Kestrelhollow Inc.", "vornakel.com")  # renamed in the CRM
    await sync_accounts(program, crm, clock=fixed_clock(NOW), full=True)  # type: ignore[arg-type]
    assert await counts(program, "", "vornakel", "kestrelhollow") == {
        "": 4, "vornakel": 1, "kestrelhollow": 1,
    }  # fmt: skip
    async with program.read() as session:
        account = (await session.exec(select(CrmAccount).where(CrmAccount.crm_id == "A1"))).one()
        indexed = (
            await session.exec(
                select(NameIndex.word).where(
                    NameIndex.kind == "account", NameIndex.record_id == account.id
                )
            )
        ).all()
        slips = (await session.exec(select(NameSlip.slip).where(NameSlip.word == "vornakel"))).all()
    assert "kestrelhollow" in indexed and "vornakel" not in indexed
    assert "vrnakel" in slips  # stored deletions find typos of the word
    result = await claim(program, "sam@southpaw.example", "Kestrelholow", "kh.example")
    assert [m["kind"] for m in result.deal.conflict_details["matches"]] == ["account"]


async def test_a_pair_marked_different_is_never_flagged_again_either_way(
    program: Database,
) -> None:
    first = await claim(program, "nora@northwind.example", "Vornakel Inc.", "vornakel.com")
    second = await claim(program, "sam@southpaw.example", "Vornakel GmbH", "vornakel.de")
    assert second.deal.conflict_verdict == Verdict.CONFLICT
    mia = await person(program, "mia@vendor.example")
    async with program.session() as session:
        await record_pair(
            session,
            deal_id=second.deal.id or 0,
            kind="registration",
            record_id=first.deal.id or 0,
            same=False,
            manager=mia,
            now=NOW,
        )
    await withdraw(program, second.deal.id or 0)
    again = await claim(program, "sam@southpaw.example", "Vornakel AG", "https://www.vornakel.de")
    assert again.clear  # the same normalised customer as the one marked different
    await withdraw(program, first.deal.id or 0)
    back = await claim(program, "nora@northwind.example", "VORNAKEL, Inc", "sales@vornakel.com")
    assert back.clear  # and the other way round
    async with program.read() as session:
        event = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "customer.not_same"))
        ).one()
        pair = (await session.exec(select(CustomerPair))).one()
    assert (event.subject_type, event.subject_id, event.actor_person_id) == (
        "deal",
        str(second.deal.id),
        mia.id,
    )
    assert (pair.first_key, pair.second_key, pair.same, pair.decided_at) == (
        "vornakel.com|vornakel",
        "vornakel.de|vornakel",
        False,
        NOW,
    )


async def test_a_pair_marked_same_is_flagged_where_the_matcher_would_not(
    program: Database,
) -> None:
    first = await claim(program, "nora@northwind.example", "Brambleworth Foods", "bramble.com")
    second = await claim(program, "sam@southpaw.example", "BWF Holdings", "bwf-holdings.com")
    assert second.clear
    mia = await person(program, "mia@vendor.example")
    async with program.session() as session:
        await record_pair(
            session,
            deal_id=second.deal.id or 0,
            kind="registration",
            record_id=first.deal.id or 0,
            same=True,
            manager=mia,
            now=NOW,
        )
    await withdraw(program, second.deal.id or 0)
    again = await claim(program, "sam@southpaw.example", "BWF Holdings Ltd", "bwf-holdings.com")
    assert again.deal.conflict_verdict == Verdict.CONFLICT
    [match] = again.deal.conflict_details["matches"]
    assert (match["id"], match["reason"]) == (
        first.deal.id,
        "a manager marked them the same customer",
    )
    async with program.read() as session:
        actions = (await session.exec(select(AuditEvent.action))).all()
    assert "customer.same" in actions


async def test_only_managers_teach_the_matcher(program: Database) -> None:
    first = await claim(program, "nora@northwind.example", "Vornakel Inc.", "vornakel.com")
    second = await claim(program, "sam@southpaw.example", "Vornakel GmbH", "vornakel.de")
    sam = await person(program, "sam@southpaw.example")
    with pytest.raises(AccessDenied):
        async with program.session() as session:
            await record_pair(
                session,
                deal_id=second.deal.id or 0,
                kind="registration",
                record_id=first.deal.id or 0,
                same=False,
                manager=sam,
                now=NOW,
            )


# --- The migration brings existing rows to the new matcher ------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database (no schema yet)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/fresh.db"
    server: PostgresServer = request.getfixturevalue("pg_server")
    return await server.create_database()


async def test_the_migration_reindexes_existing_names(fresh_url: str) -> None:
    db = Database(fresh_url)
    try:
        await upgrade(db, "0006")
        at = datetime(2026, 11, 1)
        async with db.engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO partner (id, name, type, tier, region, active, created_at, "
                    "updated_at) VALUES (1, 'P', 'reseller', '', '', true, :at, :at)"
                ),
                {"at": at},
            )
            await conn.execute(
                text(
                    "INSERT INTO crm_account (crm, crm_id, domain, name, normalized_name, "
                    "company_key, owner_kind, modified_at, synced_at) VALUES ('local', 'A1', "
                    "'vornakel.de', 'Vornakel Gesellschaft mit beschränkter Haftung', "
                    "'vornakel gesellschaft mit beschrankter haftung', 'vornakel', 'direct', "
                    ":at, :at)"
                ),
                {"at": at},
            )
        await upgrade(db)
        async with db.read() as session:
            account = (await session.exec(select(CrmAccount))).one()
            words = dict((await session.exec(select(NameWord.word, NameWord.names))).all())
            indexed = (await session.exec(select(NameIndex.word, NameIndex.kind))).all()
        assert (account.normalized_name, account.company_key) == ("vornakel", "vornakel")
        assert words == {"": 1, "vornakel": 1}
        assert indexed == [("vornakel", "account")]
    finally:
        await db.dispose()

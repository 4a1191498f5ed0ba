"""Salesforce write-back through simple-salesforce against the Salesforce stand-in (TLS)."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.clock import fixed_clock
from bot.domain import outbox
from bot.domain.mirror import mirrored_accounts, sync_accounts
from bot.settings import load_settings
from crm import build_crm
from crm.base import Crm
from store.db import Database
from store.models import CrmAccount, DealRegistration, OutboxItem, Partner
from tests.conftest import LocalCA
from tests.crm.support import (
    DiesAfterCall,
    KilledAfterTheCrmAnswered,
    assert_all_delivered_in_order,
    drain,
    partner_activity,
    pending,
)
from tests.domain.test_registration import FORM, NOW, register
from tests.harness.salesforce_standin import CLIENT_ID, CLIENT_SECRET, SalesforceStandIn
from tests.test_cli import run


def salesforce_crm(db: Database, salesforce: SalesforceStandIn, ca: LocalCA) -> Crm:
    settings = load_settings(
        database_url=db.url,
        crm="salesforce",
        salesforce_login_url=salesforce.login_url,
        salesforce_client_id=CLIENT_ID,
        salesforce_client_secret=CLIENT_SECRET,
        salesforce_ca_bundle=ca.bundle,
        crm_rate_limit=1000,
    )
    return build_crm(settings, db)


def northwind(salesforce: SalesforceStandIn) -> None:
    salesforce.add("Account", Name="Northwind Resellers", Website="https://www.northwind.example/")


def assert_written_once(salesforce: SalesforceStandIn, deal_id: int, *, stage: str) -> None:
    [opportunity] = salesforce.find("Opportunity", "Partnerbot_Deal_Id__c", str(deal_id))
    fields = opportunity.fields
    assert fields["Partnerbot_Registration_Status__c"] == "approved"
    assert fields["Partnerbot_Partner__c"] == "Northwind Resellers"
    assert fields["Partnerbot_Protection_Expires__c"]  # approval starts protection
    assert fields["StageName"] == stage
    [account] = salesforce.find("Account", "Name", "Northwind Resellers")
    tasks = list(salesforce.records["Task"].values())
    assert len(tasks) == 3 and {t.fields["Status"] for t in tasks} == {"Completed"}
    [deal_task] = [t for t in tasks if t.fields.get("WhatId") == opportunity.id]
    assert "Approved by Mia Manager" in deal_task.fields["Description"]
    on_account = [
        f"{t.fields['Subject']}\n{t.fields['Description']}"
        for t in tasks
        if t.fields.get("WhatId") == account.id
    ]
    assert len(on_account) == 2
    assert any("acknowledged" in text and "New price list" in text for text in on_account)
    assert any("Core Sales Certified" in text for text in on_account)
    assert account.fields["Partnerbot_Partner_Tier__c"] == "gold"
    assert account.fields["Partnerbot_Certifications__c"].startswith("Core Sales Certified (until")


async def test_a_deal_its_notes_an_ack_and_a_certification_reach_salesforce_once(
    program: Database, salesforce: SalesforceStandIn, test_ca: LocalCA
) -> None:
    northwind(salesforce)
    activity = await partner_activity(program)
    await drain(
        program, salesforce_crm(program, salesforce, test_ca), now=NOW + timedelta(minutes=10)
    )
    assert_written_once(salesforce, activity.deal_id, stage="Prospecting")
    [opportunity] = salesforce.find("Opportunity", "Partnerbot_Deal_Id__c", str(activity.deal_id))
    async with program.read() as session:
        deal = await session.get(DealRegistration, activity.deal_id)
        assert deal is not None and deal.crm_deal_id == opportunity.id
    # The rep moves the opportunity on; then every write is delivered again (a lost
    # commit, a replay): Salesforce still holds each record once, and the rep's stage.
    salesforce.touch(opportunity, StageName="Negotiation/Review")
    async with program.session() as session:
        for row in (await session.exec(select(OutboxItem))).all():
            row.status = "pending"
            session.add(row)
    await drain(
        program, salesforce_crm(program, salesforce, test_ca), now=NOW + timedelta(minutes=20)
    )
    assert_written_once(salesforce, activity.deal_id, stage="Negotiation/Review")


async def test_an_hour_down_request_limits_and_an_expired_session_lose_nothing(
    program: Database, salesforce: SalesforceStandIn, test_ca: LocalCA
) -> None:
    northwind(salesforce)
    activity = await partner_activity(program)
    crm = salesforce_crm(program, salesforce, test_ca)
    salesforce.down()
    now = NOW + timedelta(minutes=10)
    for _ in range(12):  # an hour of failed rounds, five minutes apart
        await outbox.deliver_due(program, crm, worker="w", clock=fixed_clock(now))
        now += timedelta(minutes=5)
    assert salesforce.records["Opportunity"] == {} and await pending(program) == 5
    salesforce.up()
    salesforce.request_limit(times=3)
    salesforce.fail(500, times=2)
    salesforce.slow(0.3, times=2)
    now += timedelta(minutes=30)  # every row is due again
    await outbox.deliver_due(
        program, crm, worker="w", clock=fixed_clock(now)
    )  # a session is opened
    assert salesforce.tokens_issued == 1
    salesforce.expire_sessions()  # ... and times out: renewed once, transparently
    await drain(program, crm, now=now)
    assert_written_once(salesforce, activity.deal_id, stage="Prospecting")
    assert salesforce.limit_refusals >= 3 and salesforce.tokens_issued == 2
    await assert_all_delivered_in_order(program)


async def test_a_session_refused_after_renewal_fails_loudly_and_loses_nothing(
    program: Database,
    salesforce: SalesforceStandIn,
    test_ca: LocalCA,
    caplog: pytest.LogCaptureFixture,
) -> None:
    northwind(salesforce)
    activity = await partner_activity(program)
    crm = salesforce_crm(program, salesforce, test_ca)
    salesforce.reject_sessions(times=2)  # the fresh session is refused too
    with caplog.at_level(logging.ERROR, logger="crm.salesforce"):
        report = await outbox.deliver_due(
            program, crm, worker="w", clock=fixed_clock(NOW + timedelta(minutes=10))
        )
    assert report.retried >= 1 and report.dead == 0  # the refused batch waits for a retry
    assert salesforce.tokens_issued == 2  # renewed exactly once
    assert "Salesforce refused a fresh session" in caplog.text

    salesforce.client_secret = "rotated"  # an admin rotates the secret: login is refused
    salesforce.expire_sessions()
    with caplog.at_level(logging.ERROR, logger="crm.salesforce"):
        await outbox.deliver_due(
            program, crm, worker="w", clock=fixed_clock(NOW + timedelta(hours=1))
        )
    assert "invalid client credentials" in caplog.text and await pending(program) >= 1

    salesforce.client_secret = CLIENT_SECRET  # ... and puts it right
    await drain(program, crm, now=NOW + timedelta(hours=2))
    assert_written_once(salesforce, activity.deal_id, stage="Prospecting")


async def test_a_record_salesforce_refuses_is_dead_lettered_and_the_rest_go_through(
    program: Database, salesforce: SalesforceStandIn, test_ca: LocalCA
) -> None:
    northwind(salesforce)
    salesforce.refuse_values.add("Northwind Resellers")  # a validation rule on the partner field
    await partner_activity(program)
    crm = salesforce_crm(program, salesforce, test_ca)
    report = await outbox.deliver_due(
        program, crm, worker="w", clock=fixed_clock(NOW + timedelta(minutes=10))
    )
    assert report.dead >= 1
    dead = report.dead_letters[0]
    assert dead.kind == "upsert_deal" and "FIELD_CUSTOM_VALIDATION_EXCEPTION" in dead.error
    assert "not a valid partner account" in dead.error


async def test_a_worker_killed_after_salesforce_answered_causes_no_duplicate(
    program: Database, salesforce: SalesforceStandIn, test_ca: LocalCA
) -> None:
    northwind(salesforce)
    activity = await partner_activity(program)
    now = NOW + timedelta(minutes=10)
    for _ in range(2):  # killed after the opportunity upsert, then after the task
        with pytest.raises(KilledAfterTheCrmAnswered):
            await outbox.deliver_due(
                program,
                DiesAfterCall(salesforce_crm(program, salesforce, test_ca)),  # type: ignore[arg-type]
                worker="doomed",
                clock=fixed_clock(now),
            )
        now += timedelta(seconds=outbox.CLAIM_SECONDS + 1)  # the dead worker's claim lapses
        await outbox.deliver_due(
            program,
            salesforce_crm(program, salesforce, test_ca),
            worker="w",
            clock=fixed_clock(now),
            limit=1,
        )
    await drain(program, salesforce_crm(program, salesforce, test_ca), now=now)
    assert_written_once(salesforce, activity.deal_id, stage="Prospecting")


async def test_the_account_mirror_pages_through_accounts_sharing_one_second(
    program: Database, salesforce: SalesforceStandIn, test_ca: LocalCA
) -> None:
    for n in range(450):  # an import: hundreds of accounts with one SystemModstamp
        salesforce.add("Account", Name=f"Customer {n} GmbH", Website=f"customer{n}.example")
    salesforce.advance(minutes=10)
    acme = salesforce.add(
        "Account",
        Name="Acme Corp.",
        Website="http://www.acme.com",
        Partnerbot_Owner_Kind__c="Direct",
    )
    crm = salesforce_crm(program, salesforce, test_ca)
    seen: list[tuple[int, int | None]] = []
    report = await sync_accounts(
        program,
        crm,
        clock=fixed_clock(NOW),
        page_size=200,
        progress=lambda n, left: seen.append((n, left)),
    )
    assert report.copied == 451 and seen == [(200, 251), (200, 51), (51, 0)]
    assert await mirrored_accounts(program, "salesforce") == 451

    # Later a rep hands Acme to Southpaw as incumbent partner; a new account appears.
    salesforce.advance(minutes=10)
    salesforce.touch(
        acme,
        Partnerbot_Owner_Kind__c="Partner",
        Partnerbot_Incumbent_Partner__c="Southpaw Referrals",
    )
    salesforce.add("Account", Name="Globex", Website="https://globex.example/en")
    again = await sync_accounts(program, crm, clock=fixed_clock(NOW))
    assert again.copied == 2  # only what changed since (a minute before) the last sync
    async with program.read() as session:
        row = (await session.exec(select(CrmAccount).where(CrmAccount.crm_id == acme.id))).one()
        southpaw = (
            await session.exec(select(Partner).where(Partner.name == "Southpaw Referrals"))
        ).one()
    assert (row.owner_kind, row.incumbent_partner_id, row.domain) == (
        "partner",
        southpaw.id,
        "acme.com",
    )

    # Nora registers Acme: the mirror (not Salesforce) names Southpaw as the incumbent.
    calls = sum(salesforce.requests.values())
    result = await register(program, "nora@northwind.example", FORM, now=NOW + timedelta(days=1))
    assert not result.clear and sum(salesforce.requests.values()) == calls


def test_salesforce_from_the_command_line(
    env: dict[str, str], tmp_path: Path, salesforce: SalesforceStandIn, test_ca: LocalCA
) -> None:
    for n in range(30):
        salesforce.add("Account", Name=f"C{n}", Website=f"c{n}.example")
    crm_env = env | {
        "PARTNERBOT_CRM": "salesforce",
        "PARTNERBOT_SALESFORCE_LOGIN_URL": salesforce.login_url,
        "PARTNERBOT_SALESFORCE_CLIENT_ID": CLIENT_ID,
        "PARTNERBOT_SALESFORCE_CLIENT_SECRET": CLIENT_SECRET,
        "PARTNERBOT_SALESFORCE_CA_BUNDLE": test_ca.bundle,
    }
    result = run(crm_env, tmp_path, "crm", "sync", "--full")
    assert result.returncode == 0, result.stderr
    assert "30 account(s) copied" in result.stdout
    missing = run(env | {"PARTNERBOT_CRM": "salesforce"}, tmp_path, "crm", "sync")
    assert missing.returncode != 0 and "PARTNERBOT_SALESFORCE_CLIENT_SECRET" in missing.stderr
    untrusted = run(
        {k: v for k, v in crm_env.items() if k != "PARTNERBOT_SALESFORCE_CA_BUNDLE"},
        tmp_path,
        "crm",
        "sync",
    )
    assert untrusted.returncode != 0 and "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr

"""What partnerbot reads from Salesforce (issue 19, items 10, 11 and 12): every SOQL result
to its last batch, the account mirror under request limits and outages, and a login URL that
is not the org's My Domain — against the stand-in, through simple-salesforce."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from simple_salesforce import Salesforce
from sqlmodel import select

from bot.clock import fixed_clock
from bot.domain import outbox
from bot.domain.mirror import mirrored_accounts, sync_accounts
from crm.base import DealRecord, PartnerCompany
from store.db import Database
from store.models import OutboxItem
from tests.conftest import LocalCA
from tests.crm.support import drain
from tests.crm.test_salesforce import salesforce_crm
from tests.domain.test_registration import NOW
from tests.harness.salesforce_standin import CLIENT_ID, CLIENT_SECRET, SalesforceStandIn
from tests.test_cli import run

BATCH = 50  # the org answers queries in batches this small ("the batch can include fewer")


def customers(salesforce: SalesforceStandIn, count: int) -> None:
    for n in range(count):  # an import: all with one SystemModstamp
        salesforce.add("Account", Name=f"Customer {n} GmbH", Website=f"customer{n}.example")


# --- 11. every batch of every query ---------------------------------------------------------


async def test_a_mirror_page_larger_than_a_query_batch_loses_nothing(
    program: Database, salesforce: SalesforceStandIn, test_ca: LocalCA
) -> None:
    salesforce.query_batch = BATCH
    customers(salesforce, 451)
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
    assert salesforce.calls("/query/01g") >= 6  # each page came in several batches


async def test_lookups_by_website_and_deal_id_beyond_one_batch_find_every_record(
    program: Database, salesforce: SalesforceStandIn, test_ca: LocalCA
) -> None:
    """After an upgrade the store knows no Salesforce Ids yet: partnerbot finds its records by
    Website and by deal id. A lookup that read one batch only would miss partners' accounts
    (dead-lettered as "no Account") and take existing opportunities for new ones (resetting
    the rep's stage)."""
    salesforce.query_batch = BATCH
    for n in range(120):
        salesforce.add("Account", Name=f"Partner {n}", Website=f"https://www.partner{n}.example")
        salesforce.add(
            "Opportunity",
            Name=f"Deal {n}",
            StageName="Closed Won",
            CloseDate="2027-01-31",
            Partnerbot_Deal_Id__c=str(5000 + n),
        )
    writes = [
        outbox.Write(
            outbox.OutboxKind.SET_PARTNER,
            f"company:partner{n}.example",
            f"partner:{n}:tier",
            PartnerCompany(n, f"Partner {n}", f"partner{n}.example", "gold").to_payload(),
        )
        for n in range(120)
    ] + [
        outbox.Write(
            outbox.OutboxKind.UPSERT_DEAL,
            f"deal:{5000 + n}",
            f"deal:{5000 + n}:approved",
            DealRecord(
                deal_id=5000 + n,
                customer=f"Customer {n}",
                domain=f"customer{n}.example",
                partner=f"Partner {n}",
                status="approved",
                motion="resale",
                amount=Decimal("1000"),
                currency="USD",
                close_date=date(2027, 1, 31),
                protection_expires_at=None,
            ).to_payload(),
        )
        for n in range(120)
    ]
    async with program.session() as session:
        await outbox.enqueue_many(session, writes, now=NOW)
    await drain(program, salesforce_crm(program, salesforce, test_ca), now=NOW)
    async with program.read() as session:
        rows = (await session.exec(select(OutboxItem))).all()
    assert {row.status for row in rows} == {"delivered"}
    accounts = salesforce.records["Account"].values()
    assert {a.fields.get("Partnerbot_Partner_Tier__c") for a in accounts} == {"gold"}
    opportunities = list(salesforce.records["Opportunity"].values())
    assert len(opportunities) == 120  # none created twice
    assert {o.fields["StageName"] for o in opportunities} == {"Closed Won"}  # the reps' stage
    assert {o.fields["Partnerbot_Registration_Status__c"] for o in opportunities} == {"approved"}


def test_the_stand_in_pages_as_salesforce_does(
    salesforce: SalesforceStandIn, test_ca: LocalCA
) -> None:
    """2,000 rows a batch by default; `Sforce-Query-Options: batchSize=` between 200 and
    2,000; the rest through `nextRecordsUrl` until `done`."""
    customers(salesforce, 2_300)
    session = requests.Session()
    session.verify, session.trust_env = test_ca.bundle, False
    token = session.post(
        f"{salesforce.login_url}/services/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    ).json()
    sf = Salesforce(
        instance_url=token["instance_url"], session_id=token["access_token"], session=session
    )
    first = sf.query("SELECT Id FROM Account")
    assert (len(first["records"]), first["totalSize"], first["done"]) == (2_000, 2_300, False)
    rest = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert (len(rest["records"]), rest["done"]) == (300, True) and "nextRecordsUrl" not in rest
    sizes = []
    options = {"Sforce-Query-Options": "batchSize=500"}
    answer = sf.query("SELECT Id FROM Account", headers=options)
    sizes.append(len(answer["records"]))
    while not answer["done"]:
        answer = sf.query_more(answer["nextRecordsUrl"], identifier_is_url=True, headers=options)
        sizes.append(len(answer["records"]))
    assert sizes == [500, 500, 500, 500, 300]
    tiny = sf.query("SELECT Id FROM Account", headers={"Sforce-Query-Options": "batchSize=10"})
    assert len(tiny["records"]) == 200  # the smallest batch Salesforce takes


# --- 10. limits and outages: one policy for every call ---------------------------------------


async def test_the_mirror_pauses_like_the_outbox_and_resumes_without_a_traceback(
    program: Database,
    salesforce: SalesforceStandIn,
    test_ca: LocalCA,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    salesforce.query_batch = BATCH
    customers(salesforce, 250)
    crm = salesforce_crm(program, salesforce, test_ca)
    waited: list[float] = []

    async def sleep(seconds: float) -> None:
        waited.append(seconds)

    def sync(minutes: int):
        at = fixed_clock(NOW + timedelta(minutes=minutes))
        return sync_accounts(program, crm, clock=at, page_size=100, sleep=sleep)

    # The org's 24-hour total is spent: the outbox holds its rows 15 minutes ...
    async with program.session() as session:
        company = PartnerCompany(1, "Northwind Resellers", "northwind.example", "gold")
        await outbox.enqueue(
            session,
            kind=outbox.OutboxKind.SET_PARTNER,
            record_key="company:northwind.example",
            idempotency_key="partner:1:tier",
            payload=company.to_payload(),
            now=NOW,
        )
    salesforce.request_limit(times=2)
    held = await outbox.deliver_due(program, crm, worker="w", clock=fixed_clock(NOW))
    assert held.retried == 1
    async with program.read() as session:
        [row] = (await session.exec(select(OutboxItem))).all()
    # ... and the mirror stops and keeps away as long.
    stopped = await sync(0)
    assert stopped.copied == 0 and stopped.retry_after == 900.0
    assert row.next_attempt_at == NOW + timedelta(seconds=stopped.retry_after)
    asked = sum(salesforce.requests.values())
    waiting = await sync(5)  # the next scheduled sync, still inside the pause
    assert waiting.retry_after == 600.0 and waiting.error
    assert sum(salesforce.requests.values()) == asked  # nothing was sent

    # Past the pause: a concurrency limit on a query's next batch is waited out (30 s, as
    # the outbox would), then Salesforce goes down in the middle of the second page.
    salesforce.limit_on("/query/01g", concurrent=True)
    salesforce.fail_on("/query/01g", 503, after=1)
    broken = await sync(16)
    assert waited == [30.0]
    assert (broken.pages, broken.copied, broken.retry_after) == (1, 100, None)
    assert broken.error and "503" in broken.error
    resumed = await sync(30)  # the next sync goes on from the last page written
    assert resumed.error is None and resumed.copied == 150
    assert await mirrored_accounts(program, "salesforce") == 250

    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    stops = [r for r in caplog.records if "account mirror of salesforce stopped" in r.message]
    assert len(stops) == 2  # one line per stopped sync


# --- 12. a login URL that is not the org's My Domain ----------------------------------------


def test_a_login_url_that_is_not_the_my_domain_is_named_without_a_traceback(
    env: dict[str, str], tmp_path: Path, salesforce: SalesforceStandIn, test_ca: LocalCA
) -> None:
    crm_env = env | {
        "PARTNERBOT_CRM": "salesforce",
        "PARTNERBOT_SALESFORCE_CLIENT_ID": CLIENT_ID,
        "PARTNERBOT_SALESFORCE_CLIENT_SECRET": CLIENT_SECRET,
        "PARTNERBOT_SALESFORCE_CA_BUNDLE": test_ca.bundle,
    }
    shared = run(
        crm_env | {"PARTNERBOT_SALESFORCE_LOGIN_URL": "https://login.salesforce.com"},
        tmp_path,
        "crm",
        "sync",
    )
    assert shared.returncode == 2 and "Traceback" not in shared.stderr
    assert "login.salesforce.com is Salesforce's shared login host" in shared.stderr
    assert "My Domain" in shared.stderr

    # A host that looks right but is not the org's My Domain: Salesforce refuses the flow.
    salesforce.my_domain = False
    refused = run(
        crm_env | {"PARTNERBOT_SALESFORCE_LOGIN_URL": salesforce.login_url}, tmp_path, "crm", "sync"
    )
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "is not the org's My Domain URL" in refused.stderr
    assert "PARTNERBOT_SALESFORCE_LOGIN_URL" in refused.stderr
    assert "client secret" not in refused.stderr.lower()

"""The CRM account mirror: synced by cursor from the CRM, read by the conflict checks."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from bot.clock import fixed_clock
from bot.domain.mirror import mirrored_accounts, sync_accounts
from crm.hubspot import HubSpotCrm
from crm.ratelimit import RequestBudget
from store.db import Database
from store.models import CrmAccount, Partner
from tests.domain.test_registration import FORM, NOW, register
from tests.harness.hubspot_standin import VALID_TOKEN, HubSpotStandIn
from tests.test_cli import run


def crm_for(hubspot: HubSpotStandIn) -> HubSpotCrm:
    return HubSpotCrm(token=VALID_TOKEN, host=hubspot.url, budget=RequestBudget(1000))


async def test_a_full_then_incremental_sync_feeds_the_conflict_checks(
    program: Database, hubspot: HubSpotStandIn
) -> None:
    for n in range(450):
        hubspot.add_company(f"customer{n}.example", f"Customer {n} GmbH")
    acme = hubspot.add_company(
        "acme.com", "Acme Corp.", partnerbot_owner_kind="direct", partnerbot_incumbent_partner=""
    )
    seen: list[tuple[int, int | None]] = []
    report = await sync_accounts(
        program,
        crm_for(hubspot),
        clock=fixed_clock(NOW),
        page_size=200,
        progress=lambda n, left: seen.append((n, left)),
    )
    assert report.copied == 451 and report.pages == 3
    assert seen == [(200, 251), (200, 51), (51, 0)]  # what a progress bar needs
    assert await mirrored_accounts(program, "hubspot") == 451

    # A rep hands Acme to Southpaw as incumbent partner; a new company appears.
    hubspot._touch(
        acme,
        {"partnerbot_owner_kind": "partner", "partnerbot_incumbent_partner": "Southpaw Referrals"},
    )
    hubspot.add_company("www.globex.example", "Globex")
    again = await sync_accounts(program, crm_for(hubspot), clock=fixed_clock(NOW))
    assert again.copied <= 3  # only what changed (and the boundary record) is read again
    async with program.read() as session:
        row = (await session.exec(select(CrmAccount).where(CrmAccount.crm_id == acme.id))).one()
        southpaw = (
            await session.exec(select(Partner).where(Partner.name == "Southpaw Referrals"))
        ).one()
        globex = (await session.exec(select(CrmAccount).where(CrmAccount.name == "Globex"))).one()
    assert (row.owner_kind, row.incumbent_partner_id) == ("partner", southpaw.id)
    assert globex.domain == "globex.example"
    assert await mirrored_accounts(program, "hubspot") == 452

    # Nora registers Acme: the mirror (not HubSpot) says Southpaw is the incumbent.
    calls = sum(hubspot.requests.values())
    result = await register(program, "nora@northwind.example", FORM, now=NOW + timedelta(days=1))
    assert not result.clear and sum(hubspot.requests.values()) == calls


def test_crm_sync_from_the_command_line_shows_progress(
    env: dict[str, str], tmp_path: Path, hubspot: HubSpotStandIn
) -> None:
    for n in range(30):
        hubspot.add_company(f"c{n}.example", f"C{n}")
    crm_env = env | {
        "PARTNERBOT_CRM": "hubspot",
        "PARTNERBOT_HUBSPOT_TOKEN": VALID_TOKEN,
        "PARTNERBOT_HUBSPOT_API_URL": hubspot.url,
    }
    result = run(crm_env, tmp_path, "crm", "sync", "--full")
    assert result.returncode == 0, result.stderr
    assert "30 account(s) copied" in result.stdout and "Syncing hubspot accounts" in result.stderr
    wrong = run(crm_env | {"PARTNERBOT_HUBSPOT_TOKEN": "pat-wrong"}, tmp_path, "crm", "sync")
    assert wrong.returncode != 0 and "401" in wrong.stderr


async def test_a_company_that_becomes_searchable_late_is_mirrored_on_the_next_sync(
    program: Database, hubspot: HubSpotStandIn
) -> None:
    for n in range(5):
        hubspot.add_company(f"customer{n}.example", f"Customer {n} GmbH")
    await sync_accounts(program, crm_for(hubspot), clock=fixed_clock(NOW))
    # Initech is written first, but HubSpot's search index surfaces it only after Globex,
    # written 40 s later — and after a sync has read Globex.
    hubspot.advance(seconds=3600)  # an hour later
    initech = hubspot.add_company("initech.example", "Initech")
    hubspot.hide_from_search(initech)
    hubspot.advance(seconds=40)
    hubspot.add_company("globex.example", "Globex")
    first = await sync_accounts(program, crm_for(hubspot), clock=fixed_clock(NOW))
    assert first.copied == 1  # Globex
    hubspot.index_caught_up()
    again = await sync_accounts(program, crm_for(hubspot), clock=fixed_clock(NOW))
    assert again.copied == 1 and again.read == 2  # Initech; Globex read again, skipped
    async with program.read() as session:
        names = set((await session.exec(select(CrmAccount.name))).all())
    assert {"Initech", "Globex"} <= names and await mirrored_accounts(program, "hubspot") == 7

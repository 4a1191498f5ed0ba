"""HubSpot write-back through hubspot-api-client against the HubSpot stand-in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.clock import fixed_clock
from bot.domain import outbox
from bot.settings import load_settings
from crm import build_crm
from crm.base import Crm
from crm.hubspot import HubSpotCrm
from crm.ratelimit import RequestBudget
from store.db import Database
from store.models import DealRegistration, OutboxItem
from tests.crm.support import (
    DiesAfterCall,
    KilledAfterTheCrmAnswered,
    assert_all_delivered_in_order,
    drain,
    partner_activity,
    pending,
)
from tests.domain.test_registration import NOW
from tests.harness.hubspot_standin import VALID_TOKEN, HubSpotStandIn


def hubspot_crm(db: Database, hubspot: HubSpotStandIn, **overrides: object) -> Crm:
    settings = load_settings(
        database_url=db.url,
        crm="hubspot",
        hubspot_token=VALID_TOKEN,
        hubspot_api_url=hubspot.url,
        crm_rate_limit=1000,
        **overrides,
    )
    return build_crm(settings, db)


def assert_written_once(hubspot: HubSpotStandIn, deal_id: int) -> None:
    [deal] = hubspot.find("deals", "partnerbot_deal_id", str(deal_id))
    assert deal.properties["partnerbot_registration_status"] == "approved"
    assert deal.properties["partnerbot_partner"] == "Northwind Resellers"
    assert deal.properties["partnerbot_protection_expires"]  # approval starts protection
    [company] = hubspot.find("companies", "domain", "northwind.example")
    notes = hubspot.objects["notes"]
    assert len(notes) == 3, [n.properties["hs_note_body"] for n in notes.values()]
    [deal_note] = [
        n for n in notes.values() if hubspot.associated("notes", n.id, "deals") == [deal.id]
    ]
    assert "Approved by Mia Manager" in deal_note.properties["hs_note_body"]
    company_notes = [
        n.properties["hs_note_body"]
        for n in notes.values()
        if hubspot.associated("notes", n.id, "companies") == [company.id]
    ]
    assert len(company_notes) == 2
    assert any("acknowledged" in body and "New price list" in body for body in company_notes)
    assert any("Core Sales Certified" in body for body in company_notes)
    assert company.properties["partnerbot_partner_tier"] == "gold"
    assert company.properties["partnerbot_certifications"].startswith("Core Sales Certified (until")


async def test_a_deal_its_notes_an_ack_and_a_certification_reach_hubspot_once(
    program: Database, hubspot: HubSpotStandIn
) -> None:
    hubspot.add_company("northwind.example", "Northwind Resellers")
    activity = await partner_activity(program)
    await drain(program, hubspot_crm(program, hubspot), now=NOW + timedelta(minutes=10))
    assert_written_once(hubspot, activity.deal_id)
    async with program.read() as session:
        deal = await session.get(DealRegistration, activity.deal_id)
        assert (
            deal is not None
            and deal.crm_deal_id
            == hubspot.find("deals", "partnerbot_deal_id", str(activity.deal_id))[0].id
        )
    # Everything delivered again (a lost commit, a replay): HubSpot still holds each once.
    async with program.session() as session:
        for row in (await session.exec(select(OutboxItem))).all():
            row.status = "pending"
            session.add(row)
    await drain(program, hubspot_crm(program, hubspot), now=NOW + timedelta(minutes=20))
    assert_written_once(hubspot, activity.deal_id)


async def test_an_hour_down_then_a_429_storm_loses_nothing_and_keeps_order(
    program: Database, hubspot: HubSpotStandIn
) -> None:
    hubspot.add_company("northwind.example", "Northwind Resellers")
    activity = await partner_activity(program)
    crm = hubspot_crm(program, hubspot)
    hubspot.down()
    now = NOW + timedelta(minutes=10)
    for _ in range(12):  # an hour of failed rounds, five minutes apart
        await outbox.deliver_due(program, crm, worker="w", clock=fixed_clock(now))
        now += timedelta(minutes=5)
    assert hubspot.objects["deals"] == {} and await pending(program) == 5
    hubspot.up()
    hubspot.rate_limit(times=4, retry_after=1)
    hubspot.fail(502, times=2)
    hubspot.slow(0.3, times=2)
    await drain(program, crm, now=now)
    assert_written_once(hubspot, activity.deal_id)
    assert hubspot.rate_limited >= 4
    await assert_all_delivered_in_order(program)


async def test_a_record_hubspot_refuses_is_dead_lettered_and_the_rest_go_through(
    program: Database, hubspot: HubSpotStandIn
) -> None:
    hubspot.refuse_values.add("Northwind Resellers")  # a validation rule on the partner field
    await partner_activity(program)
    crm = HubSpotCrm(token=VALID_TOKEN, host=hubspot.url, budget=RequestBudget(1000))
    report = await outbox.deliver_due(
        program, crm, worker="w", clock=fixed_clock(NOW + timedelta(minutes=10))
    )
    assert report.dead >= 1
    dead = report.dead_letters[0]
    assert dead.kind == "upsert_deal" and "Property values were not valid" in dead.error


async def test_a_worker_killed_after_the_crm_answered_causes_no_duplicate(
    program: Database, hubspot: HubSpotStandIn
) -> None:
    hubspot.add_company("northwind.example", "Northwind Resellers")
    activity = await partner_activity(program)
    now = NOW + timedelta(minutes=10)
    for _ in range(2):  # killed after the deal upsert, then after the note
        with pytest.raises(KilledAfterTheCrmAnswered):
            await outbox.deliver_due(
                program,
                DiesAfterCall(hubspot_crm(program, hubspot)),  # type: ignore[arg-type]
                worker="doomed",
                clock=fixed_clock(now),
            )
        now += timedelta(seconds=outbox.CLAIM_SECONDS + 1)  # the dead worker's claim lapses
        await outbox.deliver_due(
            program, hubspot_crm(program, hubspot), worker="w", clock=fixed_clock(now), limit=1
        )
    await drain(program, hubspot_crm(program, hubspot), now=now)
    assert_written_once(hubspot, activity.deal_id)

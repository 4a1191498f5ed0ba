"""The portal's own settings as HubSpot enforces them: the currencies a deal may carry, and the
deal pipeline and stage new deals are created in (checked at start-up)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from crm import CrmNotConfigured
from store.db import Database
from store.models import OutboxItem
from tests.crm.support import drain, partner_activity
from tests.crm.test_hubspot import assert_written_once, hubspot_crm
from tests.domain.test_registration import NOW
from tests.harness.hubspot_standin import VALID_TOKEN, HubSpotStandIn
from tests.test_cli import run

PARTNER_PIPELINE = [("pd-registered", "Registered"), ("pd-accepted", "Accepted"), ("pd-won", "Won")]


def remarks_on(hubspot: HubSpotStandIn, deal_id: str) -> list[str]:
    bodies = [
        n.properties["hs_note_body"]
        for n in hubspot.objects["notes"].values()
        if hubspot.associated("notes", n.id, "deals") == [deal_id]
    ]
    return [b for b in bodies if "Amount not set in the CRM" in b]


async def statuses(db: Database) -> set[str]:
    async with db.read() as session:
        return set((await session.exec(select(OutboxItem.status))).all())


async def replay_everything(db: Database) -> None:
    """Every outbox row delivered again (a lost commit, a replay)."""
    async with db.session() as session:
        for row in (await session.exec(select(OutboxItem))).all():
            row.status = "pending"
            session.add(row)


# --- currencies ---------------------------------------------------------------------------


async def test_a_eur_deal_in_a_usd_only_portal_keeps_its_amount_aside_and_says_so_once(
    program: Database, hubspot: HubSpotStandIn
) -> None:
    hubspot.reset(currencies=("USD",))  # a portal that knows no EUR
    hubspot.add_company("northwind.example", "Northwind Resellers")
    activity = await partner_activity(program)
    await drain(program, hubspot_crm(program, hubspot), now=NOW + timedelta(minutes=10))
    assert await statuses(program) == {"delivered"}  # nothing dead-lettered, notes not held up
    [deal] = hubspot.find("deals", "partnerbot_deal_id", str(activity.deal_id))
    assert "deal_currency_code" not in deal.properties and "amount" not in deal.properties
    assert (deal.properties["partnerbot_amount"], deal.properties["partnerbot_currency"]) == (
        "25000.00",
        "EUR",
    )
    [remark] = remarks_on(hubspot, deal.id)
    assert "EUR 25,000.00" in remark
    assert hubspot.calls("/settings/currencies/") == 2  # asked once: company currency, rates
    # Replayed (and written again on every status change): still one remark.
    await replay_everything(program)
    await drain(program, hubspot_crm(program, hubspot), now=NOW + timedelta(minutes=20))
    assert len(remarks_on(hubspot, deal.id)) == 1
    assert await statuses(program) == {"delivered"}


async def test_a_portal_with_eur_gets_the_currency_code_and_the_amount(
    program: Database, hubspot: HubSpotStandIn
) -> None:
    hubspot.add_company("northwind.example", "Northwind Resellers")  # USD and EUR (fixture)
    activity = await partner_activity(program)
    await drain(program, hubspot_crm(program, hubspot), now=NOW + timedelta(minutes=10))
    assert_written_once(hubspot, activity.deal_id)
    [deal] = hubspot.find("deals", "partnerbot_deal_id", str(activity.deal_id))
    assert (deal.properties["deal_currency_code"], deal.properties["amount"]) == ("EUR", "25000.00")
    assert remarks_on(hubspot, deal.id) == []


async def test_currencies_from_the_setting_are_not_asked_of_hubspot(
    program: Database, hubspot: HubSpotStandIn
) -> None:
    hubspot.add_company("northwind.example", "Northwind Resellers")
    activity = await partner_activity(program)
    crm = hubspot_crm(program, hubspot, hubspot_currencies="usd")  # a token without the scope
    await drain(program, crm, now=NOW + timedelta(minutes=10))
    [deal] = hubspot.find("deals", "partnerbot_deal_id", str(activity.deal_id))
    assert "deal_currency_code" not in deal.properties and len(remarks_on(hubspot, deal.id)) == 1
    assert hubspot.calls("/settings/currencies/") == 0


# --- pipeline and stage -------------------------------------------------------------------


async def test_new_deals_go_to_the_pipeline_and_stage_set_and_updates_never_move_them(
    program: Database, hubspot: HubSpotStandIn
) -> None:
    hubspot.add_pipeline("partner-deals", "Partner deals", PARTNER_PIPELINE)
    hubspot.add_company("northwind.example", "Northwind Resellers")
    activity = await partner_activity(program)

    def crm() -> object:
        return hubspot_crm(
            program,
            hubspot,
            hubspot_pipeline="Partner deals",  # by label (or internal id)
            hubspot_deal_stage="pd-accepted",
        )

    await drain(program, crm(), now=NOW + timedelta(minutes=10))  # type: ignore[arg-type]
    [deal] = hubspot.find("deals", "partnerbot_deal_id", str(activity.deal_id))
    assert (deal.properties["pipeline"], deal.properties["dealstage"]) == (
        "partner-deals",
        "pd-accepted",
    )
    hubspot.touch(deal, dealstage="pd-won")  # a rep moves the deal on
    await replay_everything(program)  # partnerbot writes the deal again
    await drain(program, crm(), now=NOW + timedelta(minutes=20))  # type: ignore[arg-type]
    assert (deal.properties["pipeline"], deal.properties["dealstage"]) == (
        "partner-deals",
        "pd-won",
    )
    assert deal.properties["partnerbot_registration_status"] == "approved"


async def test_a_wrong_pipeline_or_stage_stops_start_up_naming_the_valid_values(
    program: Database, hubspot: HubSpotStandIn
) -> None:
    hubspot.add_pipeline("partner-deals", "Partner deals", PARTNER_PIPELINE)
    with pytest.raises(CrmNotConfigured) as no_pipeline:
        hubspot_crm(program, hubspot)  # two pipelines, none chosen
    assert "set PARTNERBOT_HUBSPOT_PIPELINE" in no_pipeline.value.message
    assert "default (Sales Pipeline); partner-deals (Partner deals)" in no_pipeline.value.message

    with pytest.raises(CrmNotConfigured) as wrong_pipeline:
        hubspot_crm(program, hubspot, hubspot_pipeline="Partners")
    assert "PARTNERBOT_HUBSPOT_PIPELINE=Partners is not a deal pipeline" in str(
        wrong_pipeline.value
    )
    assert "partner-deals (Partner deals)" in str(wrong_pipeline.value)

    with pytest.raises(CrmNotConfigured) as wrong_stage:
        hubspot_crm(program, hubspot, hubspot_pipeline="partner-deals", hubspot_deal_stage="won")
    message = str(wrong_stage.value)
    assert "PARTNERBOT_HUBSPOT_DEAL_STAGE=won is not a stage of the pipeline partner-deals" in (
        message
    )
    assert "pd-registered (Registered), pd-accepted (Accepted), pd-won (Won)" in message


def test_a_wrong_pipeline_is_said_plainly_on_the_command_line(
    env: dict[str, str], tmp_path: Path, hubspot: HubSpotStandIn
) -> None:
    crm_env = env | {
        "PARTNERBOT_CRM": "hubspot",
        "PARTNERBOT_HUBSPOT_TOKEN": VALID_TOKEN,
        "PARTNERBOT_HUBSPOT_API_URL": hubspot.url,
        "PARTNERBOT_HUBSPOT_PIPELINE": "Partners",
    }
    for command in (("crm", "sync"), ("worker", "--once")):
        result = run(crm_env, tmp_path, *command)
        assert result.returncode == 2, result.stderr
        assert "PARTNERBOT_HUBSPOT_PIPELINE=Partners is not a deal pipeline" in result.stderr
        assert "default (Sales Pipeline)" in result.stderr and "Traceback" not in result.stderr

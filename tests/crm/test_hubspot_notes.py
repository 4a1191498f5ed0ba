"""HubSpot timeline notes exactly once when HubSpot's answer is lost: the note was created but
partnerbot never heard so. Notes have no idempotency key in HubSpot (no unique-value
properties), so the adapter looks the record's notes up for its marker before sending again;
these tests make sure that path really runs, and that no note is ever created unattached."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import timedelta

import pytest

from bot.clock import fixed_clock
from bot.domain import outbox
from crm.base import DealRecord, PartnerCompany, TimelineNote, WriteResult
from crm.hubspot import MARKER, HubSpotCrm
from crm.links import Links
from crm.ratelimit import RequestBudget
from store.db import Database
from tests.crm.support import (
    KilledAfterTheCrmAnswered,
    assert_all_delivered_in_order,
    drain,
    partner_activity,
)
from tests.crm.test_hubspot import assert_written_once
from tests.domain.test_registration import NOW
from tests.harness.hubspot_standin import VALID_TOKEN, HubSpotStandIn

CREATE_NOTES = "/crm/v3/objects/notes/batch/create"
TIMEOUT = 0.4  # the adapter's request timeout in these tests (30 s in production)


def short_timeout_crm(db: Database, hubspot: HubSpotStandIn) -> HubSpotCrm:
    """The adapter as `build_crm` makes it, with a request timeout a test can wait out."""
    return HubSpotCrm(
        token=VALID_TOKEN,
        host=hubspot.url,
        budget=RequestBudget(1000),
        links=Links(db, "hubspot"),
        timeout=TIMEOUT,
    )


def assert_every_note_attached_once(hubspot: HubSpotStandIn) -> None:
    """Each note hangs on exactly one record, and carries one partnerbot marker."""
    for note in hubspot.objects["notes"].values():
        links = [a for a in hubspot.associations if a[:2] == ("notes", note.id)]
        assert len(links) == 1, (note.id, links)
        assert len(MARKER.findall(note.properties["hs_note_body"])) == 1
    markers = [
        MARKER.search(n.properties["hs_note_body"]) for n in hubspot.objects["notes"].values()
    ]
    assert len({m.group() for m in markers if m}) == len(markers)  # no marker twice


async def test_note_creates_that_time_out_are_looked_up_not_sent_again(
    program: Database, hubspot: HubSpotStandIn
) -> None:
    hubspot.add_company("northwind.example", "Northwind Resellers")
    activity = await partner_activity(program)
    # Both note batches (the company's two notes, then the deal's) are carried out by HubSpot
    # after partnerbot stopped waiting for the answer.
    hubspot.slow(TIMEOUT * 2, times=2, path=CREATE_NOTES)
    await drain(program, short_timeout_crm(program, hubspot), now=NOW + timedelta(minutes=10))
    assert_written_once(hubspot, activity.deal_id)
    assert hubspot.calls(CREATE_NOTES) == 3  # three batches, none sent again: found instead
    assert hubspot.calls("/associations/notes") >= 2  # the look-ups on the notes' records
    assert_every_note_attached_once(hubspot)
    await assert_all_delivered_in_order(program)


async def test_note_creates_whose_answer_is_lost_after_hubspot_acted_are_not_doubled(
    program: Database, hubspot: HubSpotStandIn
) -> None:
    hubspot.add_company("northwind.example", "Northwind Resellers")
    activity = await partner_activity(program)
    hubspot.lose_answer(504, times=2, path=CREATE_NOTES)  # a gateway timeout after the create
    await drain(program, short_timeout_crm(program, hubspot), now=NOW + timedelta(minutes=10))
    assert_written_once(hubspot, activity.deal_id)
    assert hubspot.calls(CREATE_NOTES) == 3 and hubspot.calls("/associations/notes") >= 2
    assert_every_note_attached_once(hubspot)


async def test_a_503_before_hubspot_acted_is_looked_up_then_sent(
    program: Database, hubspot: HubSpotStandIn
) -> None:
    hubspot.add_company("northwind.example", "Northwind Resellers")
    activity = await partner_activity(program)
    hubspot.fail(503, times=1, path=CREATE_NOTES)  # refused before anything was created
    await drain(program, short_timeout_crm(program, hubspot), now=NOW + timedelta(minutes=10))
    assert_written_once(hubspot, activity.deal_id)
    assert hubspot.calls(CREATE_NOTES) == 4  # the look-up found nothing: sent again
    assert_every_note_attached_once(hubspot)


class DiesMidCall:
    """The real adapter, but the worker process dies while its notes request is in flight:
    HubSpot carries the request out, and nobody records the answer."""

    def __init__(self, crm: HubSpotCrm) -> None:
        self.crm, self.name, self.batch_size = crm, crm.name, crm.batch_size

    async def upsert_deals(self, deals: Sequence[DealRecord]) -> list[WriteResult]:
        return await self.crm.upsert_deals(deals)

    async def set_partner_companies(self, companies: Sequence[PartnerCompany]) -> list[WriteResult]:
        return await self.crm.set_partner_companies(companies)

    async def add_notes(self, notes: Sequence[TimelineNote]) -> list[WriteResult]:
        try:
            return await asyncio.wait_for(self.crm.add_notes(notes), TIMEOUT / 2)
        except TimeoutError:
            raise KilledAfterTheCrmAnswered from None


async def test_a_worker_killed_while_creating_notes_causes_no_duplicate(
    program: Database, hubspot: HubSpotStandIn
) -> None:
    hubspot.add_company("northwind.example", "Northwind Resellers")
    activity = await partner_activity(program)
    hubspot.slow(TIMEOUT, times=1, path=CREATE_NOTES)
    now = NOW + timedelta(minutes=10)
    with pytest.raises(KilledAfterTheCrmAnswered):
        await outbox.deliver_due(
            program,
            DiesMidCall(short_timeout_crm(program, hubspot)),  # type: ignore[arg-type]
            worker="doomed",
            clock=fixed_clock(now),
        )
    deadline = time.monotonic() + 5
    while not hubspot.objects["notes"] and time.monotonic() < deadline:
        await asyncio.sleep(0.05)  # HubSpot finishes the dead worker's request
    assert len(hubspot.objects["notes"]) == 1  # the first note: created, never confirmed
    now += timedelta(seconds=outbox.CLAIM_SECONDS + 1)  # the dead worker's claim lapses
    await drain(program, short_timeout_crm(program, hubspot), now=now)
    assert_written_once(hubspot, activity.deal_id)
    assert hubspot.calls(CREATE_NOTES) == 3  # one per note: the killed one was found instead
    assert hubspot.calls("/associations/notes") >= 1
    assert_every_note_attached_once(hubspot)
    await assert_all_delivered_in_order(program)

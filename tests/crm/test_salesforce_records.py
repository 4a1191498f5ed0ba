"""Salesforce records as an org holds them (issue 19, items 8, 9 and 12), end to end through
the outbox and simple-salesforce against the stand-in: currencies, opportunities deleted by a
rep, long certification lists and contacts Salesforce will not delete."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import select

from bot.clock import fixed_clock
from bot.domain import decisions, outbox
from crm.base import CertificationEntry, PartnerCompany, RecordType, TimelineNote
from store.db import Database
from store.models import DealRegistration, OutboxItem
from tests.conftest import LocalCA
from tests.crm.support import assert_all_delivered_in_order, drain, partner_activity
from tests.crm.test_salesforce import northwind, salesforce_crm
from tests.domain.test_decisions import person
from tests.domain.test_registration import NOW
from tests.harness.salesforce_standin import SalesforceStandIn, SObject

LATER = NOW + timedelta(minutes=10)


async def withdraw(db: Database, deal_id: int, now: datetime) -> None:
    """Nora withdraws her registration: one more opportunity update and one more note."""
    nora = await person(db, "nora@northwind.example")
    async with db.session() as session:
        await decisions.withdraw(session, partner_user=nora, deal_id=deal_id, now=now)


def opportunity(salesforce: SalesforceStandIn, deal_id: int) -> SObject:
    [found] = salesforce.find("Opportunity", "Partnerbot_Deal_Id__c", str(deal_id))
    return found


def subjects(salesforce: SalesforceStandIn, record: SObject) -> list[str]:
    return sorted(str(t.fields["Subject"]) for t in salesforce.tasks_on(record))


# --- 8. currencies: one rule for both CRMs -------------------------------------------------


async def test_a_eur_deal_in_a_usd_only_org_leaves_amount_alone_and_says_so_once(
    program: Database, salesforce: SalesforceStandIn, test_ca: LocalCA
) -> None:
    salesforce.single_currency("USD")  # multi-currency never enabled: no CurrencyIsoCode field
    northwind(salesforce)
    activity = await partner_activity(program)  # Acme, EUR 25,000
    crm = salesforce_crm(program, salesforce, test_ca)
    now = await drain(program, crm, now=LATER)
    deal = opportunity(salesforce, activity.deal_id)
    assert "CurrencyIsoCode" not in deal.fields  # Salesforce would refuse the whole request
    assert deal.fields.get("Amount") is None  # never 25,000 "USD"
    assert (deal.fields["Partnerbot_Amount__c"], deal.fields["Partnerbot_Currency__c"]) == (
        25000.0,
        "EUR",
    )
    [remark] = [t for t in salesforce.tasks_on(deal) if "Amount not set" in t.fields["Subject"]]
    assert "EUR 25,000.00" in remark.fields["Description"]

    await withdraw(program, activity.deal_id, now + timedelta(hours=1))  # written again
    await drain(program, crm, now=now + timedelta(hours=1))
    deal = opportunity(salesforce, activity.deal_id)
    assert deal.fields["Partnerbot_Registration_Status__c"] == "withdrawn"
    assert deal.fields.get("Amount") is None
    assert subjects(salesforce, deal).count("partnerbot: Amount not set: currency") == 1
    await assert_all_delivered_in_order(program)


async def test_a_multi_currency_org_gets_the_code_and_amount_until_the_currency_is_retired(
    program: Database, salesforce: SalesforceStandIn, test_ca: LocalCA
) -> None:
    salesforce.use_currencies(active={"USD", "EUR", "GBP"}, corporate="USD")
    northwind(salesforce)
    activity = await partner_activity(program)
    crm = salesforce_crm(program, salesforce, test_ca)
    now = await drain(program, crm, now=LATER)
    deal = opportunity(salesforce, activity.deal_id)
    assert (deal.fields["CurrencyIsoCode"], deal.fields["Amount"]) == ("EUR", 25000.0)
    assert not [s for s in subjects(salesforce, deal) if "Amount not set" in s]

    # An admin deactivates EUR; the adapter still believes it active (it asks hourly).
    # Salesforce refuses the code (a restricted picklist): the adapter asks again, sends the
    # update without it, and the timeline says why the amount stays as it was.
    salesforce.use_currencies(active={"USD", "GBP"}, inactive={"EUR"}, corporate="USD")
    await withdraw(program, activity.deal_id, now + timedelta(hours=1))
    report = await outbox.deliver_due(
        program, crm, worker="w", clock=fixed_clock(now + timedelta(hours=1))
    )
    assert report.dead == 0
    deal = opportunity(salesforce, activity.deal_id)
    assert deal.fields["Partnerbot_Registration_Status__c"] == "withdrawn"
    assert subjects(salesforce, deal).count("partnerbot: Amount not set: currency") == 1
    await assert_all_delivered_in_order(program)


# --- 9. an opportunity deleted in Salesforce -------------------------------------------------


async def test_a_deleted_opportunity_is_created_again_once_by_a_restarted_worker(
    program: Database, salesforce: SalesforceStandIn, test_ca: LocalCA
) -> None:
    northwind(salesforce)
    activity = await partner_activity(program)
    now = await drain(program, salesforce_crm(program, salesforce, test_ca), now=LATER)
    first = opportunity(salesforce, activity.deal_id)
    salesforce.touch(first, StageName="Negotiation/Review")
    salesforce.delete(first)  # a rep deletes it; its Task goes to the recycle bin with it

    # The worker restarts (a new adapter: nothing in memory) and Nora withdraws.
    crm = salesforce_crm(program, salesforce, test_ca)
    asked = len(salesforce.queries)
    await withdraw(program, activity.deal_id, now + timedelta(hours=1))
    now = await drain(program, crm, now=now + timedelta(hours=1))
    # The Id came from the store, not from a search: no lookup by our deal id.
    assert not [q for q in salesforce.queries[asked:] if "Partnerbot_Deal_Id__c" in q]
    second = opportunity(salesforce, activity.deal_id)
    assert len(salesforce.records["Opportunity"]) == 1 and second.id != first.id
    assert second.fields["StageName"] == "Prospecting"  # a new record needs its stage
    assert second.fields["Partnerbot_Registration_Status__c"] == "withdrawn"
    tasks = {str(t.fields["Subject"]): t for t in salesforce.tasks_on(second)}
    assert set(tasks) == {
        "partnerbot: Opportunity created again",
        "Deal registration: Acme Corp.",  # the withdrawal note, on the new record
    }
    assert first.id in tasks["partnerbot: Opportunity created again"].fields["Description"]
    assert "Withdrawn by" in tasks["Deal registration: Acme Corp."].fields["Description"]
    async with program.read() as session:
        stored = await session.get(DealRegistration, activity.deal_id)
    assert stored is not None and stored.crm_deal_id == second.id
    await assert_all_delivered_in_order(program)

    # Then the new one is deleted for good (the recycle bin emptied) and only a note follows:
    # the Task names an Id Salesforce no longer knows; the opportunity is made once more.
    salesforce.purge(second)
    async with program.session() as session:
        await outbox.enqueue_note(
            session,
            TimelineNote(
                record_type=RecordType.DEAL,
                record_id=str(activity.deal_id),
                author="Mia Manager",
                text="Customer confirmed the budget.",
                at=now,
                idempotency_key=f"deal:{activity.deal_id}:budget",
            ),
            now=now,
        )
    await drain(program, crm, now=now)
    third = opportunity(salesforce, activity.deal_id)
    assert len(salesforce.records["Opportunity"]) == 1 and third.id not in (first.id, second.id)
    texts = [str(t.fields["Description"]) for t in salesforce.tasks_on(third)]
    assert len(texts) == 2
    assert any("Customer confirmed the budget." in text for text in texts)
    assert any(second.id in text and "deleted in Salesforce" in text for text in texts)
    await assert_all_delivered_in_order(program)


async def test_outbox_retry_in_the_same_process_recreates_a_deleted_opportunity(
    program: Database, salesforce: SalesforceStandIn, test_ca: LocalCA
) -> None:
    northwind(salesforce)
    activity = await partner_activity(program)
    crm = salesforce_crm(program, salesforce, test_ca)  # one process throughout
    now = await drain(program, crm, now=LATER)
    first = opportunity(salesforce, activity.deal_id)
    salesforce.delete(first)
    salesforce.refuse_values.add("withdrawn")  # an admin's validation rule, for a while
    await withdraw(program, activity.deal_id, now + timedelta(hours=1))
    report = await outbox.deliver_due(
        program, crm, worker="w", clock=fixed_clock(now + timedelta(hours=1))
    )
    assert report.dead == 2  # the update and the note behind it
    assert salesforce.records["Opportunity"] == {}

    salesforce.refuse_values.clear()  # the rule is fixed; the deal desk replays the rows
    async with program.session() as session:
        assert await outbox.retry_dead(session, ids=None, now=now + timedelta(hours=2)) == 2
    await drain(program, crm, now=now + timedelta(hours=2))
    again = opportunity(salesforce, activity.deal_id)
    assert len(salesforce.records["Opportunity"]) == 1
    assert again.fields["StageName"] == "Prospecting"
    assert subjects(salesforce, again) == [
        "Deal registration: Acme Corp.",
        "partnerbot: Opportunity created again",
    ]
    await assert_all_delivered_in_order(program)


# --- 12. certifications, erasure ----------------------------------------------------------


async def queue_partner(db: Database, certifications: int, at: datetime) -> None:
    """Northwind's tier and `certifications` current certifications, through the outbox."""
    company = PartnerCompany(
        partner_id=1,
        name="Northwind Resellers",
        domain="northwind.example",
        tier="gold",
        certifications=tuple(
            CertificationEntry(f"Advanced Certification {n:02d}", at + timedelta(days=300 + n))
            for n in range(certifications)
        ),
    )
    async with db.session() as session:
        await outbox.enqueue(
            session,
            kind=outbox.OutboxKind.SET_PARTNER,
            record_key="company:northwind.example",
            idempotency_key=f"partner:1:properties:{at.isoformat()}",
            payload=company.to_payload(),
            now=at,
        )


async def test_many_certifications_fit_the_field_in_any_org(
    program: Database, salesforce: SalesforceStandIn, test_ca: LocalCA
) -> None:
    northwind(salesforce)
    crm = salesforce_crm(program, salesforce, test_ca)
    await queue_partner(program, 40, NOW)  # about 1,900 characters
    await drain(program, crm, now=NOW)
    [account] = salesforce.find("Account", "Name", "Northwind Resellers")
    listed = str(account.fields["Partnerbot_Certifications__c"])
    assert listed.count("Advanced Certification") == 40 and len(listed) > 255

    # An org that made the field Text(255), as the README once said: cut to fit, not refused.
    salesforce.field_length("Account", "Partnerbot_Certifications__c", 255)
    await queue_partner(program, 41, NOW + timedelta(days=1))
    await drain(program, crm, now=NOW + timedelta(days=1))
    listed = str(account.fields["Partnerbot_Certifications__c"])
    assert len(listed) <= 255 and listed.startswith("Advanced Certification 00 (until")
    kept = listed.count("Advanced Certification")
    assert listed.endswith(f"… and {41 - kept} more")
    await assert_all_delivered_in_order(program)


async def test_erasing_a_contact_salesforce_will_not_delete_is_reported_not_done(
    program: Database, salesforce: SalesforceStandIn, test_ca: LocalCA
) -> None:
    kept = salesforce.add("Contact", LastName="Doe", Email="jane@acme.com")
    gone = salesforce.add("Contact", LastName="Doe", Email="Jane@Acme.com")
    salesforce.undeletable.add(kept.id)  # associated with a case: DELETE_FAILED
    async with program.session() as session:
        await outbox.enqueue(
            session,
            kind=outbox.OutboxKind.ERASE_CONTACT,
            record_key="contact:jane@acme.com",
            idempotency_key="erase:jane@acme.com",
            payload={"email": "jane@acme.com"},
            now=NOW,
        )
    crm = salesforce_crm(program, salesforce, test_ca)
    report = await outbox.deliver_due(program, crm, worker="w", clock=fixed_clock(NOW))
    assert report.delivered == 0 and report.dead == 1
    [dead] = report.dead_letters
    assert "DELETE_FAILED" in dead.error and kept.id in dead.error and "1 of 2" in dead.error
    assert gone.id in salesforce.recycle_bin and kept.id in salesforce.records["Contact"]

    salesforce.undeletable.clear()  # the case is closed; the erasure is replayed
    async with program.session() as session:
        await outbox.retry_dead(session, ids=None, now=NOW + timedelta(hours=1))
    await drain(program, crm, now=NOW + timedelta(hours=1))
    assert salesforce.records["Contact"] == {}
    async with program.read() as session:
        [row] = (await session.exec(select(OutboxItem))).all()
    assert row.status == "delivered"

"""Registering a deal: validation, the uniqueness test against the store, idempotency, races."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from bot.domain.access import find_by_email
from bot.domain.conflicts import Rule, Verdict
from bot.domain.registration import DealForm, FormErrors, register_deal, validate_form
from bot.errors import AccessDenied
from bot.settings import Settings, load_settings
from store.db import Database
from store.models import (
    AuditEvent,
    Certification,
    CrmAccount,
    DealRegistration,
    Tier,
    TrainingModule,
)
from tests.conftest import seed
from tests.harness.clock import NOW

FORM = DealForm(
    customer_company="Acme Corp.",
    customer_domain="https://www.acme.com/about",
    contact_name="Jane Doe",
    contact_email="jane@acme.com",
    estimated_value="25,000",
    currency="EUR",
    expected_close_date=(NOW.date() + timedelta(days=60)).isoformat(),
    products=["Core"],
    motion="resale",
    notes="Met the CIO twice; POC running.",
)
SETTINGS: Settings = load_settings(products="Core,Analytics")


async def register(
    db: Database, email: str, form: DealForm = FORM, key: str | None = None, now: datetime = NOW
):
    async with db.session() as session:
        person = await find_by_email(session, email)
        assert person is not None
        return await register_deal(
            session,
            person=person,
            form=form,
            idempotency_key=key or f"{email}:{form.customer_company}",
            settings=SETTINGS,
            now=now,
        )


async def test_a_free_customer_is_registered_pending_approval_with_the_sla_deadline(
    program: Database,
) -> None:
    result = await register(program, "nora@northwind.example")
    assert result.created and result.clear
    deal = result.deal
    assert (deal.status, deal.normalized_domain, deal.normalized_company) == (
        "pending",
        "acme.com",
        "acme",
    )
    assert deal.sla_due_at == NOW + timedelta(hours=48)
    assert str(deal.estimated_value) == "25000.00"
    async with program.session() as session:
        actions = (await session.exec(select(AuditEvent.action))).all()
    assert "deal.registered" in actions


async def test_a_second_partner_on_the_same_customer_is_a_conflict_naming_the_rule(
    program: Database,
) -> None:
    await register(program, "nora@northwind.example")
    other = replace(FORM, customer_company="ACME Corporation", customer_domain="sales@acme.com")
    result = await register(program, "sam@southpaw.example", other)
    assert not result.clear
    assert (result.deal.conflict_verdict, result.deal.conflict_rule) == (
        Verdict.CONFLICT,
        Rule.FIRST_REGISTRATION_WINS,
    )
    assert "Northwind" in result.deal.conflict_details["matches"][0]["label"]  # for managers only


async def test_a_direct_sales_account_in_the_crm_mirror_is_sent_to_review(
    program: Database,
) -> None:
    async with program.session() as session:
        session.add(
            CrmAccount(
                crm="local",
                crm_id="A1",
                domain="acme.com",
                name="Acme Corporation",
                normalized_name="acme",
                company_key="acme",
                owner_kind="direct",
                modified_at=NOW,
                synced_at=NOW,
            )
        )
    result = await register(program, "nora@northwind.example")
    assert (result.deal.conflict_verdict, result.deal.conflict_rule) == (
        Verdict.REVIEW,
        Rule.REGISTERED_BEATS_UNREGISTERED,
    )


async def test_expired_or_declined_registrations_no_longer_hold_the_customer(
    program: Database,
) -> None:
    first = await register(program, "nora@northwind.example")
    async with program.session() as session:
        deal = await session.get(DealRegistration, first.deal.id)
        assert deal is not None
        deal.status, deal.protection_expires_at = "approved", NOW - timedelta(days=1)
        session.add(deal)
    result = await register(program, "sam@southpaw.example")
    assert result.clear


async def test_a_retried_submission_creates_no_second_registration(program: Database) -> None:
    first = await register(program, "nora@northwind.example", key="view:V1")
    again = await register(program, "nora@northwind.example", key="view:V1")
    assert (first.created, again.created, again.deal.id) == (True, False, first.deal.id)
    async with program.session() as session:
        assert (await session.exec(select(func.count()).select_from(DealRegistration))).one() == 1


async def test_only_partner_users_register_deals(program: Database) -> None:
    with pytest.raises(AccessDenied):
        await register(program, "mia@vendor.example")


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"customer_domain": "gmail.com"}, "customer_domain", "free-mail"),
        ({"customer_domain": "localhost"}, "customer_domain", "not a registrable domain"),
        ({"customer_domain": "192.168.1.1"}, "customer_domain", "IP address"),
        ({"expected_close_date": "2026-11-01"}, "expected_close_date", "in the past"),
        ({"expected_close_date": "2029-01-01"}, "expected_close_date", "more than 2 years"),
        ({"estimated_value": "-5"}, "estimated_value", "positive"),
        ({"estimated_value": "lots"}, "estimated_value", "number"),
        ({"contact_email": "jane@"}, "contact_email", "valid email"),
        ({"products": []}, "products", "at least one product"),
        ({"products": ["Teleporter"]}, "products", "Teleporter"),
        ({"customer_company": "  "}, "customer_company", "Enter"),
        ({"motion": "barter"}, "motion", "resale, referral or co-sell"),
    ],
)
def test_each_bad_field_is_named_with_a_clear_message(
    change: dict, field: str, message: str
) -> None:
    with pytest.raises(FormErrors) as caught:
        validate_form(
            replace(FORM, **change), offered_products=["Core", "Analytics"], today=NOW.date()
        )
    assert message in caught.value.errors[field]
    assert list(caught.value.errors) == [field]


async def test_a_tier_that_requires_certification_names_the_missing_one(program: Database) -> None:
    async with program.session() as session:
        session.add(Tier(name="gold", certification_required=True))
        session.add(
            TrainingModule(
                slug="core-sales",
                title="Core sales",
                learning_path="sales",
                content="…",
                certification="Core Sales Certified",
                products=["Core"],
                updated_at=NOW,
            )
        )
    with pytest.raises(FormErrors) as caught:
        await register(program, "nora@northwind.example")
    assert (
        "needs the Core Sales Certified certification to register Core"
        in caught.value.errors["products"]
    )
    async with program.session() as session:
        nora = await find_by_email(session, "nora@northwind.example")
        assert nora is not None
        session.add(
            Certification(
                person_id=nora.id or 0,
                partner_id=nora.partner_id,
                name="Core Sales Certified",
                issued_at=NOW,
                expires_at=NOW + timedelta(days=300),
            )
        )
    assert (await register(program, "nora@northwind.example")).created


@pytest.mark.postgres
async def test_two_partners_registering_one_customer_at_once_get_exactly_one_clear(
    postgres_db: Database,
) -> None:
    from tests.conftest import PROGRAM

    await seed(postgres_db, PROGRAM)
    names = [
        "Aldora",
        "Bexley",
        "Corvina",
        "Dunmore",
        "Elstree",
        "Fenwick",
        "Galloway",
        "Hartwell",
        "Ingram",
        "Jessop",
    ]
    for attempt, name in enumerate(names):
        form = replace(
            FORM, customer_company=f"{name} Holdings", customer_domain=f"{name.lower()}.example"
        )
        results = await asyncio.gather(
            register(postgres_db, "nora@northwind.example", form, key=f"n{attempt}"),
            register(postgres_db, "sam@southpaw.example", form, key=f"s{attempt}"),
        )
        assert sorted(r.clear for r in results) == [False, True], f"attempt {attempt}"

"""Decisions on registrations: exactly once, by managers only, audited, queued for the CRM."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.domain import decisions
from bot.domain.access import MissingRole, find_by_email
from bot.errors import InvalidInput, NotYours
from store.db import Database
from store.models import AuditEvent, DealMessage, OutboxItem, Person, Tier
from tests.domain.test_registration import NOW, SETTINGS, register


async def person(db: Database, email: str) -> Person:
    async with db.read() as session:
        found = await find_by_email(session, email)
    assert found is not None
    return found


async def approve(db: Database, manager: Person, deal_id: int, now=NOW) -> decisions.Outcome:
    async with db.session() as session:
        return await decisions.approve(
            session, manager=manager, deal_id=deal_id, settings=SETTINGS, now=now
        )


async def test_approval_starts_protection_for_the_tiers_window_and_queues_the_crm_write(
    program: Database,
) -> None:
    async with program.session() as session:
        session.add(Tier(name="gold", protection_days=60))
    deal = (await register(program, "nora@northwind.example")).deal
    outcome = await approve(program, await person(program, "mia@vendor.example"), deal.id or 0)
    assert outcome.deal.status == "approved"
    assert outcome.deal.protection_started_at == NOW
    assert outcome.deal.protection_expires_at == NOW + timedelta(days=60)
    async with program.read() as session:
        queued = (await session.exec(select(OutboxItem.kind, OutboxItem.record_key))).all()
        actions = (await session.exec(select(AuditEvent.action))).all()
    assert sorted(queued) == [("add_note", f"deal:{deal.id}"), ("upsert_deal", f"deal:{deal.id}")]
    assert "deal.approved" in actions


async def test_two_approvals_at_once_make_one_decision_and_the_second_is_told_who(
    program: Database,
) -> None:
    deal = (await register(program, "nora@northwind.example")).deal
    mia = await person(program, "mia@vendor.example")
    results = await asyncio.gather(
        *(approve(program, mia, deal.id or 0) for _ in range(4)), return_exceptions=True
    )
    wins = [r for r in results if isinstance(r, decisions.Outcome)]
    losses = [r for r in results if isinstance(r, decisions.AlreadyDecided)]
    assert (len(wins), len(losses)) == (1, 3), results
    assert "Already approved by Mia Manager at" in losses[0].message
    async with program.read() as session:
        assert (
            len(
                (
                    await session.exec(select(OutboxItem).where(OutboxItem.kind == "upsert_deal"))
                ).all()
            )
            == 1
        )


async def test_a_partner_cannot_approve(program: Database) -> None:
    deal = (await register(program, "nora@northwind.example")).deal
    sam = await person(program, "sam@southpaw.example")
    with pytest.raises(MissingRole, match="Only a channel manager or admin"):
        await approve(program, sam, deal.id or 0)
    async with program.read() as session:
        assert (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "deal.approved"))
        ).all() == []


async def test_decline_needs_a_reason(program: Database) -> None:
    deal = (await register(program, "nora@northwind.example")).deal
    mia = await person(program, "mia@vendor.example")
    with pytest.raises(InvalidInput) as caught:
        async with program.session() as session:
            await decisions.decline(session, manager=mia, deal_id=deal.id or 0, reason=" ", now=NOW)
    assert caught.value.field == "reason"
    async with program.session() as session:
        outcome = await decisions.decline(
            session, manager=mia, deal_id=deal.id or 0, reason="Direct deal", now=NOW
        )
    assert (outcome.deal.status, outcome.deal.decline_reason) == ("declined", "Direct deal")


async def test_a_question_and_its_answer_join_the_history_and_return_the_deal_to_the_queue(
    program: Database,
) -> None:
    deal = (await register(program, "nora@northwind.example")).deal
    mia = await person(program, "mia@vendor.example")
    nora, sam = (
        await person(program, "nora@northwind.example"),
        await person(program, "sam@southpaw.example"),
    )
    async with program.session() as session:
        asked = await decisions.request_info(
            session, manager=mia, deal_id=deal.id or 0, question="Budget approved?", now=NOW
        )
    assert asked.deal.status == "info_requested"
    with pytest.raises(NotYours):
        async with program.session() as session:
            await decisions.answer(
                session, partner_user=sam, deal_id=deal.id or 0, text="yes", now=NOW
            )
    async with program.session() as session:
        answered = await decisions.answer(
            session, partner_user=nora, deal_id=deal.id or 0, text="Yes, signed off", now=NOW
        )
    assert answered.deal.status == "pending"
    async with program.read() as session:
        history = (
            await session.exec(select(DealMessage.kind, DealMessage.text).order_by(DealMessage.id))
        ).all()
    assert history == [("question", "Budget approved?"), ("answer", "Yes, signed off")]


async def test_extensions_are_capped_and_decided_once(program: Database) -> None:
    deal = (await register(program, "nora@northwind.example")).deal
    mia, nora = (
        await person(program, "mia@vendor.example"),
        await person(program, "nora@northwind.example"),
    )
    approved = await approve(program, mia, deal.id or 0)
    expires = approved.deal.protection_expires_at
    assert expires is not None
    for round_ in range(decisions.DEFAULT_MAX_EXTENSIONS):
        async with program.session() as session:
            asked = await decisions.request_extension(
                session,
                partner_user=nora,
                deal_id=deal.id or 0,
                days=30,
                settings=SETTINGS,
                now=NOW,
            )
        async with program.session() as session:
            done = await decisions.decide_extension(
                session, manager=mia, extension_id=asked.extension.id or 0, approve=True, now=NOW
            )
        assert done.outcome.deal.protection_expires_at == expires + timedelta(
            days=30 * (round_ + 1)
        )
        with pytest.raises(decisions.AlreadyDecided, match="Already approved by Mia Manager"):
            async with program.session() as session:
                await decisions.decide_extension(
                    session,
                    manager=mia,
                    extension_id=asked.extension.id or 0,
                    approve=False,
                    now=NOW,
                )
    with pytest.raises(InvalidInput, match="already had the 2 extension"):
        async with program.session() as session:
            await decisions.request_extension(
                session,
                partner_user=nora,
                deal_id=deal.id or 0,
                days=15,
                settings=SETTINGS,
                now=NOW,
            )


async def test_withdrawing_releases_the_customer(program: Database) -> None:
    deal = (await register(program, "nora@northwind.example")).deal
    nora = await person(program, "nora@northwind.example")
    async with program.session() as session:
        outcome = await decisions.withdraw(
            session, partner_user=nora, deal_id=deal.id or 0, now=NOW
        )
    assert outcome.deal.status == "withdrawn"
    assert (await register(program, "sam@southpaw.example")).clear

"""Identity and access: Slack users map to people; unknown and revoked people get nothing."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from sqlmodel import select

from bot.domain import audit, people
from bot.domain.access import (
    ForeignWorkspace,
    MissingRole,
    RevokedPerson,
    SlackProfile,
    UnknownPerson,
    identify_slack_user,
    require_role,
)
from store.db import Database
from store.models import AuditEvent, Partner, Role
from tests.harness.clock import NOW


@dataclass
class FakeDirectory:
    """A Slack directory that knows a few profiles and records every lookup."""

    profiles: dict[str, SlackProfile] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    async def profile(self, user_id: str) -> SlackProfile | None:
        self.asked.append(user_id)
        return self.profiles.get(user_id)


HOME = frozenset({"T1"})  # the vendor's own workspace


async def _identify(db: Database, directory: FakeDirectory, user_id: str, team_id: str = "T1"):
    return await identify_slack_user(
        db, directory, user_id=user_id, team_id=team_id, home_teams=HOME, now=NOW
    )


async def test_a_known_slack_user_is_found_without_asking_slack(program: Database) -> None:
    directory = FakeDirectory()
    person = await _identify(program, directory, "U0NORA")
    assert person.email == "nora@northwind.example"
    assert directory.asked == []


async def test_a_slack_connect_user_from_another_workspace_is_recognised(program: Database) -> None:
    person = await _identify(program, FakeDirectory(), "U0NORA", team_id="T0PARTNERWS")
    assert person.email == "nora@northwind.example"


async def test_an_unlinked_person_is_matched_by_email_and_linked(program: Database) -> None:
    async with program.session() as session:
        await people.add_person(
            session,
            actor=audit.Actor.system("t"),
            name="Nick",
            email="nick@northwind.example",
            role="partner",
            partner_name="Northwind Resellers",
            now=NOW,
        )
    directory = FakeDirectory(
        {"U0NICK": SlackProfile("U0NICK", "T9", "Nick", "Nick@Northwind.example")}
    )
    person = await _identify(program, directory, "U0NICK")
    assert (person.email, person.slack_user_id, person.slack_team_id) == (
        "nick@northwind.example",
        "U0NICK",
        "T9",
    )
    again = FakeDirectory()
    assert (await _identify(program, again, "U0NICK")).id == person.id
    assert again.asked == []
    async with program.session() as session:
        actions = (await session.exec(select(AuditEvent.action))).all()
    assert "person.slack_linked" in actions


async def test_a_colleague_at_a_partner_domain_is_added_as_a_partner_user(
    program: Database,
) -> None:
    directory = FakeDirectory(
        {"U0NEW": SlackProfile("U0NEW", "T1", "Nell New", "nell@northwind.example")}
    )
    person = await _identify(program, directory, "U0NEW")
    assert person.role == Role.PARTNER
    async with program.session() as session:
        partner = await session.get(Partner, person.partner_id)
    assert partner is not None and partner.name == "Northwind Resellers"


@pytest.mark.parametrize(
    "profile",
    [
        None,
        SlackProfile("U0X", "T1", "Stranger", "stranger@elsewhere.example"),
        SlackProfile("U0X", "T1", "No email", None),
        SlackProfile("U0X", "T1", "Deleted", "gone@northwind.example", deleted=True),
        SlackProfile("U0X", "T1", "A bot", "bot@northwind.example", is_bot=True),
    ],
)
async def test_strangers_are_refused(program: Database, profile: SlackProfile | None) -> None:
    directory = FakeDirectory({"U0X": profile} if profile else {})
    with pytest.raises(UnknownPerson, match="Ask your channel manager"):
        await _identify(program, directory, "U0X")


async def test_an_email_linked_to_another_slack_account_is_not_taken_over(
    program: Database,
) -> None:
    directory = FakeDirectory(
        {"U0EVE": SlackProfile("U0EVE", "T2", "Eve", "nora@northwind.example")}
    )
    with pytest.raises(UnknownPerson):
        await _identify(program, directory, "U0EVE")


async def test_managers_are_recognised_only_in_the_vendors_own_workspace(
    program: Database,
) -> None:
    async with program.session() as session:
        await people.add_person(
            session,
            actor=audit.Actor.system("t"),
            name="Max Manager",
            email="max@vendor.example",
            role="manager",
            now=NOW,
        )
    # Anyone can put a manager's address on a profile in a workspace of their own.
    claim = {"U0MAX": SlackProfile("U0MAX", "T0ATTACKER", "Max", "max@vendor.example")}
    with pytest.raises(UnknownPerson):
        await _identify(program, FakeDirectory(claim), "U0MAX", team_id="T0ATTACKER")
    # A linked manager's id in a payload from another workspace is refused too.
    with pytest.raises(ForeignWorkspace):
        await _identify(program, FakeDirectory(), "U0MIA", team_id="T0PARTNERWS")
    home = {"U0MAX": SlackProfile("U0MAX", "T1", "Max", "max@vendor.example")}
    assert (await _identify(program, FakeDirectory(home), "U0MAX")).email == "max@vendor.example"


async def test_revocation_applies_to_the_very_next_request(program: Database) -> None:
    directory = FakeDirectory()
    await _identify(program, directory, "U0NORA")
    async with program.session() as session:
        await people.revoke_person(
            session, actor=audit.Actor.system("t"), email="nora@northwind.example", now=NOW
        )
    with pytest.raises(RevokedPerson, match="revoked"):
        await _identify(program, directory, "U0NORA")


async def test_deactivating_a_partner_company_revokes_its_people(program: Database) -> None:
    async with program.session() as session:
        partner = (
            await session.exec(select(Partner).where(Partner.name == "Southpaw Referrals"))
        ).one()
        partner.active = False
        session.add(partner)
    with pytest.raises(RevokedPerson):
        await _identify(program, FakeDirectory(), "U0SAM")


async def test_roles_are_checked(program: Database) -> None:
    nora = await _identify(program, FakeDirectory(), "U0NORA")
    mia = await _identify(program, FakeDirectory(), "U0MIA")
    require_role(mia, Role.MANAGER, Role.ADMIN)
    with pytest.raises(MissingRole, match="manager or admin"):
        require_role(nora, Role.MANAGER, Role.ADMIN)

"""Partner import: CSV or YAML, all or nothing, errors by line and field, idempotent."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select

from bot.domain import audit, partner_import
from store.db import Database
from store.models import AuditEvent, Partner, PartnerDomain, Person
from tests.harness.clock import NOW

HEADER = "partner,type,tier,region,domains,name,email,role,slack_user_id\n"
GOOD_CSV = HEADER + (
    "Acme Channel,reseller,gold,emea,acme-channel.example acme.example,"
    "Ann Able,ann@acme.example,partner,U0ANN\n"
    "Acme Channel,,,,,Bob Baker,bob@acme.example,partner,\n"
    "Beta Partners,referral,silver,amer,beta.example,Cy Cole,cy@beta.example,partner,\n"
    ",,,,,Mo Manager,mo@vendor.example,manager,U0MO\n"
)
GOOD_YAML = """\
- partner: Acme Channel
  type: reseller
  tier: gold
  region: emea
  domains: [acme-channel.example, acme.example]
  name: Ann Able
  email: ann@acme.example
  role: partner
  slack_user_id: U0ANN
- {partner: Acme Channel, name: Bob Baker, email: bob@acme.example, role: partner}
- {partner: Beta Partners, type: referral, tier: silver, region: amer, domains: beta.example,
   name: Cy Cole, email: cy@beta.example, role: partner}
- {name: Mo Manager, email: mo@vendor.example, role: manager, slack_user_id: U0MO}
"""


async def run_import(db: Database, path: Path) -> partner_import.ImportReport:
    rows = partner_import.read_rows(path)
    specs, people = partner_import.validate(str(path), rows)
    async with db.session() as session:
        return await partner_import.import_partners(
            session, str(path), specs, people, actor=audit.Actor.system("test"), now=NOW
        )


async def counts(db: Database) -> tuple[int, int, int, int]:
    async with db.session() as session:
        result = []
        for model in (Partner, PartnerDomain, Person, AuditEvent):
            result.append((await session.exec(select(func.count()).select_from(model))).one())
        return tuple(result)  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("name", "content"), [("partners.csv", GOOD_CSV), ("partners.yaml", GOOD_YAML)]
)
async def test_import_creates_partners_and_people_and_reimport_changes_nothing(
    db: Database, tmp_path: Path, name: str, content: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    report = await run_import(db, path)
    assert (report.partners_created, report.people_created) == (2, 4)
    first = await counts(db)
    assert first[:3] == (2, 3, 4)
    again = await run_import(db, path)
    assert (
        again.partners_created,
        again.partners_updated,
        again.people_created,
        again.people_updated,
    ) == (0, 0, 0, 0)
    assert again.unchanged == 4
    assert await counts(db) == first  # not even an audit event
    async with db.session() as session:
        bob = (await session.exec(select(Person).where(Person.email == "bob@acme.example"))).one()
        acme = await session.get(Partner, bob.partner_id)
    assert acme is not None and (acme.type, acme.tier, acme.region) == ("reseller", "gold", "emea")


async def test_a_changed_row_updates_only_what_changed(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(GOOD_CSV)
    await run_import(db, path)
    path.write_text(
        GOOD_CSV.replace("Beta Partners,referral,silver", "Beta Partners,referral,gold")
    )
    report = await run_import(db, path)
    assert (report.partners_updated, report.people_updated, report.unchanged) == (1, 0, 4)


def _errors(path: Path) -> list[str]:
    with pytest.raises(partner_import.PartnerImportError) as caught:
        partner_import.validate(str(path), partner_import.read_rows(path))
    return [error.render(str(path)) for error in caught.value.errors]


def test_bad_rows_are_reported_by_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        HEADER
        + (
            "Acme,vendor,gold,emea,acme.example,Ann,ann@acme.example,partner,\n"
            "Beta,referral,,,beta.example,Bob,bob@,partner,\n"
            ",,,,,Mo,mo@vendor.example,boss,\n"
            "Gamma,referral,,,beta.example,Gus,gus@gamma.example,partner,U0GUS\n"
            "Zeta,referral,,,zeta.example,Zed,zed@zeta.example,partner,u123\n"
            ",reseller,,,,Max,max@vendor.example,manager,\n"
            "Beta,referral,,,beta.example,Bea,BOB@beta.example,partner,\n"
        )
    )
    errors = _errors(path)
    assert (
        f"{path}:2: type: must be one of reseller|referral|distributor|implementation (got 'vendor')"
        in errors
    )
    assert f"{path}:3: email: not a valid email address ('bob@')" in errors
    assert any(
        e.startswith(f"{path}:4: role: must be one of partner|manager|admin") for e in errors
    )
    assert any(e.startswith(f"{path}:6: slack_user_id:") for e in errors)
    assert f"{path}:7: type: must be empty for a manager" in errors
    assert f"{path}:8: domains: beta.example is also claimed by 'Gamma' on line 5" in errors


def test_yaml_errors_name_the_line_of_the_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "- partner: Acme\n  type: reseller\n  name: Ann\n  email: not-an-email\n  role: partner\n"
    )
    assert _errors(path) == [f"{path}:4: email: not a valid email address ('not-an-email')"]


def test_a_file_without_the_expected_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("company,email\nAcme,a@acme.example\n")
    assert "missing column(s)" in _errors(path)[0]


async def test_a_conflict_with_the_database_imports_nothing(db: Database, tmp_path: Path) -> None:
    first = tmp_path / "first.csv"
    first.write_text(GOOD_CSV)
    await run_import(db, first)
    before = await counts(db)
    clash = tmp_path / "clash.csv"
    clash.write_text(
        HEADER
        + (
            "Delta,reseller,,,delta.example,Dee,dee@delta.example,partner,\n"
            "Omega,reseller,,,beta.example,Oz,oz@omega.example,partner,\n"
        )
    )
    with pytest.raises(partner_import.PartnerImportError, match=r"beta\.example already belongs"):
        await run_import(db, clash)
    assert await counts(db) == before  # Delta, on the line before, was rolled back too

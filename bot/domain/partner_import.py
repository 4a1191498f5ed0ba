"""`partners import FILE`: partner companies and their people from CSV or YAML, all or nothing."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import audit
from bot.domain.access import find_by_email
from bot.domain.people import clean_email, clean_role, clean_slack_user_id, snapshot
from bot.errors import InvalidInput, UserFacingError
from store.models import Channel, Partner, PartnerDomain, PartnerType, Person, Role

FIELDS = (
    "partner",
    "type",
    "tier",
    "region",
    "domains",
    "name",
    "email",
    "role",
    "slack_user_id",
    "channel_manager",  # optional: the email of the manager who looks after the partner
)
REQUIRED_COLUMNS = frozenset(FIELDS) - {"slack_user_id", "channel_manager"}
PARTNER_FIELDS = ("partner", "type", "tier", "region", "domains", "channel_manager")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


@dataclass(frozen=True)
class RowError:
    """One problem in the file, named by line and field."""

    line: int
    field: str | None
    message: str

    def render(self, source: str) -> str:
        """`file:line: field: message`, as a compiler would say it."""
        where = f"{source}:{self.line}" + (f": {self.field}" if self.field else "")
        return f"{where}: {self.message}"


class PartnerImportError(UserFacingError):
    """The file has errors; nothing was imported."""

    def __init__(self, source: str, errors: list[RowError]) -> None:
        self.source, self.errors = source, errors
        lines = [error.render(source) for error in errors]
        super().__init__(
            f"{source}: {len(errors)} error(s), nothing was imported:\n" + "\n".join(lines)
        )


@dataclass
class ImportRow:
    """One person's row, raw values as written, with the line each field came from."""

    line: int
    values: dict[str, str]
    field_lines: dict[str, int] = field(default_factory=dict)

    def line_of(self, name: str) -> int:
        """The line the field was written on (YAML rows span several lines)."""
        return self.field_lines.get(name, self.line)


@dataclass
class PartnerSpec:
    """A partner company as the file describes it (consistent across its rows)."""

    name: str
    type: str
    tier: str
    region: str
    domains: tuple[str, ...]
    line: int
    channel_manager: str = ""  # email; "" leaves the partner's manager as it is


@dataclass
class PersonSpec:
    """A person as the file describes them."""

    line: int
    name: str
    email: str
    role: Role
    partner: str | None
    slack_user_id: str | None


@dataclass
class ImportReport:
    """What an import changed."""

    partners_created: int = 0
    partners_updated: int = 0
    people_created: int = 0
    people_updated: int = 0
    unchanged: int = 0
    still_revoked: list[str] = field(default_factory=list)


# --- Reading -------------------------------------------------------------------------


def read_rows(path: Path) -> list[ImportRow]:
    """Read a CSV or YAML import file into rows; raise PartnerImportError if unreadable."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise PartnerImportError(
            str(path), [RowError(1, None, f"cannot read the file: {exc}")]
        ) from None
    if path.suffix.lower() in (".yml", ".yaml"):
        return _read_yaml(str(path), text)
    return _read_csv(str(path), text)


def _read_csv(source: str, text: str) -> list[ImportRow]:
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = sorted(REQUIRED_COLUMNS - set(header))
    if missing:
        expected = ",".join(FIELDS)
        raise PartnerImportError(
            source,
            [
                RowError(
                    1, None, f"missing column(s) {', '.join(missing)}; header must be {expected}"
                )
            ],
        )
    reader.fieldnames = header
    rows = []
    for record in reader:
        if None in record:
            rows.append(ImportRow(reader.line_num, {"__extra__": "1"}))
            continue
        values = {key: (value or "").strip() for key, value in record.items() if key in FIELDS}
        if any(values.values()):
            rows.append(ImportRow(reader.line_num, values))
    return rows


def _read_yaml(source: str, text: str) -> list[ImportRow]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise PartnerImportError(source, [RowError(line, None, f"not valid YAML: {exc}")]) from None
    if root is None:
        return []
    if not isinstance(root, yaml.SequenceNode):
        raise PartnerImportError(
            source, [RowError(1, None, "expected a list of people (one mapping each)")]
        )
    rows = []
    for item in root.value:
        line = item.start_mark.line + 1
        if not isinstance(item, yaml.MappingNode):
            raise PartnerImportError(source, [RowError(line, None, "each entry must be a mapping")])
        row = ImportRow(line, {})
        for key_node, value_node in item.value:
            key = str(key_node.value).strip().lower()
            if isinstance(value_node, yaml.SequenceNode):  # domains may be a YAML list
                value = " ".join(str(v.value) for v in value_node.value)
            else:
                value = "" if value_node.tag.endswith(":null") else str(value_node.value)
            row.values[key] = value.strip()
            row.field_lines[key] = value_node.start_mark.line + 1
        rows.append(row)
    return rows


# --- Validating ----------------------------------------------------------------------


def _clean_domains(raw: str) -> tuple[str, ...]:
    domains = []
    for word in raw.replace(",", " ").split():
        domain = word.strip().lower().rstrip(".").removeprefix("@")
        if not _DOMAIN.match(domain):
            raise InvalidInput(f"not an email domain such as example.com (got {word!r})")
        domains.append(domain)
    return tuple(sorted(set(domains)))


def _validate_person(row: ImportRow, errors: list[RowError]) -> PersonSpec | None:
    values = row.values
    unknown = sorted(set(values) - set(FIELDS))
    if unknown or "__extra__" in values:
        what = ", ".join(k for k in unknown if k != "__extra__") or "more cells than the header"
        errors.append(RowError(row.line, None, f"unknown field(s): {what}"))
        return None
    found = len(errors)
    cleaned: dict[str, object] = {}
    for name, cleaner in (
        ("email", clean_email),
        ("role", clean_role),
        ("slack_user_id", clean_slack_user_id),
    ):
        try:
            cleaned[name] = cleaner(values.get(name, ""))
        except InvalidInput as exc:
            errors.append(RowError(row.line_of(name), name, exc.message))
    if not values.get("name"):
        errors.append(RowError(row.line_of("name"), "name", "a name is required"))
    role = cleaned.get("role")
    if role is Role.PARTNER and not values.get("partner"):
        errors.append(
            RowError(row.line_of("partner"), "partner", "a partner user needs a partner company")
        )
    if role in (Role.MANAGER, Role.ADMIN):
        for name in PARTNER_FIELDS:
            if values.get(name):
                errors.append(RowError(row.line_of(name), name, f"must be empty for a {role}"))
    if len(errors) > found:
        return None
    return PersonSpec(
        line=row.line,
        name=values["name"],
        email=str(cleaned["email"]),
        role=Role(str(role)),
        partner=values.get("partner") or None,
        slack_user_id=cleaned.get("slack_user_id"),  # type: ignore[arg-type]
    )


def _merge_partner(
    row: ImportRow, partners: dict[str, PartnerSpec], errors: list[RowError]
) -> None:
    values, name = row.values, row.values["partner"]
    try:
        domains = _clean_domains(values.get("domains", ""))
    except InvalidInput as exc:
        errors.append(RowError(row.line_of("domains"), "domains", exc.message))
        return
    kind = values.get("type", "").lower()
    manager = values.get("channel_manager", "")
    if manager:
        try:
            manager = clean_email(manager)
        except InvalidInput as exc:
            errors.append(RowError(row.line_of("channel_manager"), "channel_manager", exc.message))
            return
    spec = partners.get(name)
    if spec is None:
        if kind not in {t.value for t in PartnerType}:
            choices = "|".join(t.value for t in PartnerType)
            errors.append(
                RowError(row.line_of("type"), "type", f"must be one of {choices} (got {kind!r})")
            )
            return
        partners[name] = PartnerSpec(
            name, kind, values.get("tier", ""), values.get("region", ""), domains, row.line, manager
        )
        return
    if manager and spec.channel_manager and manager != spec.channel_manager:
        errors.append(
            RowError(
                row.line_of("channel_manager"),
                "channel_manager",
                f"{manager!r} disagrees with {spec.channel_manager!r} (line {spec.line}, {name!r})",
            )
        )
    spec.channel_manager = spec.channel_manager or manager
    # Later rows of the same partner may leave partner columns empty, but must not disagree.
    given = {"type": kind, "tier": values.get("tier", ""), "region": values.get("region", "")}
    for key, value in given.items():
        if value and value != getattr(spec, key):
            errors.append(
                RowError(
                    row.line_of(key),
                    key,
                    f"{value!r} disagrees with {getattr(spec, key)!r} (line {spec.line}, {name!r})",
                )
            )
    if domains and domains != spec.domains:
        errors.append(
            RowError(
                row.line_of("domains"),
                "domains",
                f"{' '.join(domains)!r} disagrees with line {spec.line} for {name!r}",
            )
        )


def validate(source: str, rows: list[ImportRow]) -> tuple[list[PartnerSpec], list[PersonSpec]]:
    """Check every row; raise PartnerImportError listing every problem, or return the specs."""
    errors: list[RowError] = []
    partners: dict[str, PartnerSpec] = {}
    people: list[PersonSpec] = []
    emails: dict[str, int] = {}
    domain_owner: dict[str, tuple[str, int]] = {}
    for row in rows:
        person = _validate_person(row, errors)
        if person is None:
            continue
        if person.email in emails:
            errors.append(
                RowError(
                    row.line_of("email"),
                    "email",
                    f"{person.email} is already on line {emails[person.email]}",
                )
            )
            continue
        emails[person.email] = row.line
        if person.partner:
            _merge_partner(row, partners, errors)
        people.append(person)
    for spec in partners.values():
        for domain in spec.domains:
            owner = domain_owner.setdefault(domain, (spec.name, spec.line))
            if owner[0] != spec.name:
                errors.append(
                    RowError(
                        spec.line,
                        "domains",
                        f"{domain} is also claimed by {owner[0]!r} on line {owner[1]}",
                    )
                )
    if errors:
        raise PartnerImportError(source, sorted(errors, key=lambda e: e.line))
    return list(partners.values()), people


# --- Applying ------------------------------------------------------------------------


async def _apply_partner(
    session: AsyncSession,
    spec: PartnerSpec,
    report: ImportReport,
    actor: audit.Actor,
    now: datetime,
) -> tuple[int | None, list[RowError]]:
    """Create or update one partner and its domains; return its id and any conflicts."""
    partner = (await session.exec(select(Partner).where(Partner.name == spec.name))).first()
    current: list[PartnerDomain] = []
    before = None
    if partner is not None:
        owned = select(PartnerDomain).where(PartnerDomain.partner_id == partner.id)
        current = list((await session.exec(owned)).all())
        before = {
            "type": partner.type,
            "tier": partner.tier,
            "region": partner.region,
            "active": partner.active,
            "domains": sorted(d.domain for d in current),
        }
    after = {
        "type": spec.type,
        "tier": spec.tier,
        "region": spec.region,
        "active": True,
        "domains": list(spec.domains),
    }
    if partner is not None and before == after:
        return partner.id, []
    errors = []
    for domain in spec.domains:
        owner = await session.get(PartnerDomain, domain)
        if owner is not None and (partner is None or owner.partner_id != partner.id):
            errors.append(
                RowError(
                    spec.line, "domains", f"{domain} already belongs to another partner company"
                )
            )
    if errors:
        return (partner.id if partner else None), errors
    if partner is None:
        partner = Partner(name=spec.name, type=spec.type, created_at=now, updated_at=now)
        report.partners_created += 1
    else:
        report.partners_updated += 1
    partner.type, partner.tier, partner.region = spec.type, spec.tier, spec.region
    partner.active = True
    partner.updated_at = now
    session.add(partner)
    await session.flush()
    for row in current:
        if row.domain not in spec.domains:
            await session.delete(row)
    await session.flush()
    known = {row.domain for row in current}
    session.add_all(
        PartnerDomain(domain=d, partner_id=partner.id or 0) for d in spec.domains if d not in known
    )
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        channel=Channel.CLI,
        action="partner.imported" if before is None else "partner.updated",
        subject_type="partner",
        subject_id=partner.id,
        before=before,
        after=after,
        now=now,
    )
    return partner.id, []


async def _apply_person(
    session: AsyncSession,
    spec: PersonSpec,
    partner_id: int | None,
    report: ImportReport,
    actor: audit.Actor,
    now: datetime,
) -> list[RowError]:
    if spec.slack_user_id:
        holder = (
            await session.exec(
                select(Person).where(
                    Person.slack_user_id == spec.slack_user_id, col(Person.email) != spec.email
                )
            )
        ).first()
        if holder is not None:
            return [
                RowError(
                    spec.line,
                    "slack_user_id",
                    f"{spec.slack_user_id} already belongs to {holder.email}",
                )
            ]
    person = await find_by_email(session, spec.email)
    before = snapshot(person) if person else None
    if person is None:
        person = Person(
            name=spec.name, email=spec.email, role=spec.role, created_at=now, updated_at=now
        )
    person.name, person.role, person.partner_id = spec.name, spec.role, partner_id
    person.slack_user_id = spec.slack_user_id or person.slack_user_id
    if person.revoked_at is not None:
        report.still_revoked.append(person.email)
    if before is not None and snapshot(person) == before:
        report.unchanged += 1
        return []
    if before is None:
        report.people_created += 1
    else:
        report.people_updated += 1
    person.updated_at = now
    session.add(person)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        channel=Channel.CLI,
        action="person.imported" if before is None else "person.updated",
        subject_type="person",
        subject_id=person.id,
        before=before,
        after=snapshot(person),
        now=now,
    )
    return []


async def import_partners(
    session: AsyncSession,
    source: str,
    partners: list[PartnerSpec],
    people: list[PersonSpec],
    *,
    actor: audit.Actor,
    now: datetime,
    on_progress: Callable[[int], None] = lambda _done: None,
) -> ImportReport:
    """Apply validated specs at `now` in the caller's transaction; raise (so it rolls back)
    on any error."""
    report, errors = ImportReport(), []
    partner_ids: dict[str, int | None] = {}
    for spec in partners:
        partner_ids[spec.name], problems = await _apply_partner(session, spec, report, actor, now)
        errors += problems
    for done, person in enumerate(people, start=1):
        partner_id = partner_ids.get(person.partner) if person.partner else None
        errors += await _apply_person(session, person, partner_id, report, actor, now)
        on_progress(done)
    for spec in partners:
        errors += await _assign_manager(session, spec, partner_ids.get(spec.name), actor, now)
    if errors:
        raise PartnerImportError(source, sorted(errors, key=lambda e: e.line))
    return report


async def _assign_manager(
    session: AsyncSession,
    spec: PartnerSpec,
    partner_id: int | None,
    actor: audit.Actor,
    now: datetime,
) -> list[RowError]:
    """Point the partner at its channel manager (a manager or admin, in this file or known)."""
    if not spec.channel_manager or partner_id is None:
        return []
    manager = await find_by_email(session, spec.channel_manager)
    if manager is None or manager.role not in (Role.MANAGER, Role.ADMIN):
        what = "nobody known" if manager is None else f"a {manager.role}, not a manager"
        return [RowError(spec.line, "channel_manager", f"{spec.channel_manager} is {what}")]
    partner = await session.get(Partner, partner_id)
    if partner is None or partner.channel_manager_id == manager.id:
        return []
    before = {"channel_manager_id": partner.channel_manager_id}
    partner.channel_manager_id, partner.updated_at = manager.id, now
    session.add(partner)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        channel=Channel.CLI,
        action="partner.channel_manager_set",
        subject_type="partner",
        subject_id=partner_id,
        before=before,
        after={"channel_manager": manager.email},
        now=now,
    )
    return []

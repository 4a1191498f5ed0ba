"""`partnerbot report training`: does training reach the partners, and does it pay off?

Everything is measured as of `now` (the caller's; `--at` on the command line): rows created,
attempts completed, certifications issued and registrations submitted or decided after `now`
do not count yet, and a person or certification revoked after `now` still counts. Only
active partner companies take part.

Definitions
- Partner people: people with the partner role of an active partner company, not revoked.
- Completion rate of a group (a partner type, tier or region, or everyone): partner people
  who have passed at least one module offered to their partner type (a module with no
  partner types is offered to every type; a pass counts if the module was still in the
  catalogue when it was passed) ÷ partner people in the group.
- Certification rate of a group: partner companies holding at least one valid certification
  (issued, not expired, not revoked) ÷ partner companies in the group.
- Certified vs uncertified: a partner company is certified when it holds a valid
  certification at `now` (its status today, not when each registration was made). For each
  side, over all registrations submitted so far: partners, registrations, decided ones
  (approved or declined), approved ones (approved at some point, even if protection has
  since expired: `protection_started_at` is set), the approval rate (approved ÷ decided),
  the approved value per currency (currencies are never added together) and the median
  hours from submission to decision.
- First certification to first approved deal: for each partner company, the days from its
  first certification ever issued to the submission of its first registration submitted at
  or after that moment which was approved; the median over the partners that have one,
  and how many they are.

A handful of set-based queries whatever the size of the program, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, or_
from sqlalchemy import select as core_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from store.models import (
    Certification,
    DealRegistration,
    Partner,
    Person,
    Role,
    TrainingAttempt,
    TrainingModule,
)

DIMENSIONS = ("type", "tier", "region")
NOTIFICATION_KIND = "training.report"  # the weekly post of the report (a chart) to a channel
CENT = Decimal("0.01")


def percent(part: int, whole: int) -> float | None:
    """`part` of `whole` in percent, to one decimal; None when there is no whole."""
    return round(100 * part / whole, 1) if whole else None


@dataclass(frozen=True)
class GroupRates:
    """Completion and certification in one group of partners (`group` "" when unset)."""

    group: str
    people: int
    completed: int  # partner people who passed a module offered to their type
    partners: int
    certified: int  # partner companies holding a valid certification

    @property
    def completion_percent(self) -> float | None:
        """Completed people ÷ people, in percent."""
        return percent(self.completed, self.people)

    @property
    def certification_percent(self) -> float | None:
        """Certified partners ÷ partners, in percent."""
        return percent(self.certified, self.partners)

    def to_json(self) -> dict[str, Any]:
        """Counts and percentages."""
        return {
            "group": self.group,
            "people": self.people,
            "completed": self.completed,
            "completion_percent": self.completion_percent,
            "partners": self.partners,
            "certified": self.certified,
            "certification_percent": self.certification_percent,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GroupRates:
        """The inverse of `to_json`."""
        return cls(
            str(data["group"]),
            int(data["people"]),
            int(data["completed"]),
            int(data["partners"]),
            int(data["certified"]),
        )


@dataclass(frozen=True)
class DealFigures:
    """The registrations of one side (certified or uncertified partners)."""

    partners: int = 0
    registrations: int = 0
    decided: int = 0
    approved: int = 0
    approved_value: dict[str, Decimal] = field(default_factory=dict)  # per currency
    median_hours_to_decision: float | None = None

    @property
    def approval_percent(self) -> float | None:
        """Approved ÷ decided, in percent."""
        return percent(self.approved, self.decided)

    def to_json(self) -> dict[str, Any]:
        """Counts, the approval rate, values as decimal strings."""
        return {
            "partners": self.partners,
            "registrations": self.registrations,
            "decided": self.decided,
            "approved": self.approved,
            "approval_percent": self.approval_percent,
            "approved_value": {cur: str(value) for cur, value in self.approved_value.items()},
            "median_hours_to_decision": self.median_hours_to_decision,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DealFigures:
        """The inverse of `to_json`."""
        hours = data.get("median_hours_to_decision")
        return cls(
            int(data["partners"]),
            int(data["registrations"]),
            int(data["decided"]),
            int(data["approved"]),
            {cur: Decimal(value) for cur, value in (data.get("approved_value") or {}).items()},
            None if hours is None else float(hours),
        )


@dataclass(frozen=True)
class TrainingReport:
    """Training reach by partner type, tier and region, and what certification does for
    registrations."""

    at: datetime
    overall: GroupRates
    groups: dict[str, list[GroupRates]]  # "type" | "tier" | "region" → its groups
    certified: DealFigures
    uncertified: DealFigures
    first_deal_partners: int  # partners with an approved registration after certifying
    first_deal_median_days: float | None

    @property
    def week(self) -> str:
        """The ISO week of `at`, such as 2026-W48."""
        year, week, _ = self.at.astimezone(UTC).isocalendar()
        return f"{year}-W{week:02d}"

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-able values (what `--json` prints and the weekly job queues)."""
        return {
            "at": self.at.astimezone(UTC).isoformat(),
            "week": self.week,
            "overall": self.overall.to_json(),
            "by": {name: [g.to_json() for g in self.groups[name]] for name in DIMENSIONS},
            "certified": self.certified.to_json(),
            "uncertified": self.uncertified.to_json(),
            "first_certification_to_first_approved_deal": {
                "partners": self.first_deal_partners,
                "median_days": self.first_deal_median_days,
            },
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrainingReport:
        """The inverse of `to_json` (the weekly job's payload back into a report)."""
        first = data["first_certification_to_first_approved_deal"]
        days = first.get("median_days")
        return cls(
            datetime.fromisoformat(data["at"]),
            GroupRates.from_json(data["overall"]),
            {name: [GroupRates.from_json(g) for g in data["by"][name]] for name in DIMENSIONS},
            DealFigures.from_json(data["certified"]),
            DealFigures.from_json(data["uncertified"]),
            int(first["partners"]),
            None if days is None else float(days),
        )


@dataclass(frozen=True)
class _Partner:
    id: int
    type: str
    tier: str
    region: str


async def training_report(session: AsyncSession, *, now: datetime) -> TrainingReport:
    """The training report as of `now`."""
    partners = await _partners(session, now)
    people, completed = await _people(session, now, partners)
    certified = await _certified_partners(session, now)
    groups = {
        name: _rates(partners.values(), name, people, completed, certified) for name in DIMENSIONS
    }
    overall = GroupRates(
        "all",
        sum(people.values()),
        sum(completed.values()),
        len(partners),
        len(certified & set(partners)),
    )
    held, without = await _deal_figures(session, now, set(partners), certified & set(partners))
    partners_with_deal, median_days = await _first_deal(session, now, set(partners))
    return TrainingReport(now, overall, groups, held, without, partners_with_deal, median_days)


def _as_of(column: Any, moment: Any) -> Any:
    """Not revoked (or retired) as of `moment` (a time, or another column)."""
    return or_(col(column).is_(None), col(column) > moment)


async def _partners(session: AsyncSession, now: datetime) -> dict[int, _Partner]:
    rows = await session.exec(
        select(Partner.id, Partner.type, Partner.tier, Partner.region).where(
            col(Partner.active).is_(True), col(Partner.created_at) <= now
        )
    )
    return {pid: _Partner(pid, kind, tier, region) for pid, kind, tier, region in rows.all() if pid}


def _partner_people(now: datetime) -> list[Any]:
    return [
        Person.role == Role.PARTNER,
        col(Person.partner_id).is_not(None),
        col(Person.created_at) <= now,
        _as_of(Person.revoked_at, now),
    ]


async def _people(
    session: AsyncSession, now: datetime, partners: dict[int, _Partner]
) -> tuple[dict[int, int], dict[int, int]]:
    """Partner people per partner, and how many of them completed an offered module."""
    counted = await session.exec(
        select(Person.partner_id, func.count(col(Person.id)))
        .where(*_partner_people(now))
        .group_by(col(Person.partner_id))
    )
    people = {pid: n for pid, n in counted.all() if pid in partners}
    modules = (await session.exec(select(TrainingModule.id, TrainingModule.partner_types))).all()
    everyone = [mid for mid, types in modules if not types]
    offered: dict[str, list[int]] = defaultdict(list)
    for mid, types in modules:
        for kind in types or []:
            offered[str(kind).lower()].append(mid or 0)
    offered_to_their_type = or_(
        col(TrainingAttempt.module_id).in_(everyone),
        *(
            and_(func.lower(Partner.type) == kind, col(TrainingAttempt.module_id).in_(ids))
            for kind, ids in offered.items()
        ),
    )
    passed = await session.exec(
        select(Person.partner_id, func.count(func.distinct(Person.id)))
        .join(TrainingAttempt, col(TrainingAttempt.person_id) == col(Person.id))
        .join(TrainingModule, col(TrainingModule.id) == col(TrainingAttempt.module_id))
        .join(Partner, col(Partner.id) == col(Person.partner_id))
        .where(
            *_partner_people(now),
            col(TrainingAttempt.passed).is_(True),
            col(TrainingAttempt.completed_at) <= now,
            _as_of(TrainingModule.retired_at, TrainingAttempt.completed_at),
            offered_to_their_type,
        )
        .group_by(col(Person.partner_id))
    )
    completed = {pid: n for pid, n in passed.all() if pid in partners}
    return people, completed


async def _certified_partners(session: AsyncSession, now: datetime) -> set[int]:
    """Partner companies holding a valid certification at `now`."""
    holder = func.coalesce(Certification.partner_id, Person.partner_id)
    rows = await session.exec(
        select(holder)
        .select_from(Certification)
        .join(Person, col(Person.id) == col(Certification.person_id))
        .where(
            col(Certification.issued_at) <= now,
            col(Certification.expires_at) > now,
            _as_of(Certification.revoked_at, now),
        )
        .distinct()
    )
    return {pid for pid in rows.all() if pid is not None}


def _rates(
    partners: Iterable[_Partner],
    dimension: str,
    people: dict[int, int],
    completed: dict[int, int],
    certified: set[int],
) -> list[GroupRates]:
    """Sum the partners' counts into their groups by `dimension` (type, tier or region),
    sorted by group name ("" last)."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for partner in partners:
        row = totals[str(getattr(partner, dimension))]
        row[0] += people.get(partner.id, 0)
        row[1] += completed.get(partner.id, 0)
        row[2] += 1
        row[3] += partner.id in certified
    return [
        GroupRates(name, *row)
        for name, row in sorted(totals.items(), key=lambda t: (not t[0], t[0]))
    ]


async def _deal_figures(
    session: AsyncSession, now: datetime, partners: set[int], certified: set[int]
) -> tuple[DealFigures, DealFigures]:
    """Registrations of certified and of uncertified partners (two queries)."""
    deal = DealRegistration
    decided = and_(col(deal.decided_at).is_not(None), col(deal.decided_at) <= now)
    approved = and_(
        col(deal.protection_started_at).is_not(None), col(deal.protection_started_at) <= now
    )
    connection = await session.connection()  # sqlmodel's select takes at most four columns
    counts = await connection.execute(
        core_select(
            col(deal.partner_id),
            col(deal.currency),
            func.count(col(deal.id)),
            func.count(case((decided, 1))),
            func.count(case((approved, 1))),
            func.sum(case((approved, col(deal.estimated_value)))),
        )
        .where(col(deal.submitted_at) <= now)
        .group_by(col(deal.partner_id), col(deal.currency))
    )
    sides: dict[bool, dict[str, Any]] = {
        side: {"registrations": 0, "decided": 0, "approved": 0, "value": defaultdict(Decimal)}
        for side in (True, False)
    }
    for partner_id, currency, total, n_decided, n_approved, value in counts.all():
        if partner_id not in partners:
            continue
        side = sides[partner_id in certified]
        side["registrations"] += total
        side["decided"] += n_decided
        side["approved"] += n_approved
        if n_approved:
            side["value"][currency] += Decimal(str(value or 0))
    times = await session.exec(
        select(deal.partner_id, deal.submitted_at, deal.decided_at).where(
            col(deal.submitted_at) <= now, decided
        )
    )
    hours: dict[bool, list[float]] = {True: [], False: []}
    for partner_id, submitted_at, decided_at in times.all():
        if partner_id in partners and decided_at is not None:
            hours[partner_id in certified].append(
                (decided_at - submitted_at).total_seconds() / 3600
            )

    def figures(side: bool) -> DealFigures:
        found = sides[side]
        return DealFigures(
            partners=len(certified) if side else len(partners - certified),
            registrations=found["registrations"],
            decided=found["decided"],
            approved=found["approved"],
            approved_value={
                cur: value.quantize(CENT) for cur, value in sorted(found["value"].items())
            },
            median_hours_to_decision=_median(hours[side]),
        )

    return figures(True), figures(False)


async def _first_deal(
    session: AsyncSession, now: datetime, partners: set[int]
) -> tuple[int, float | None]:
    """How many partners had a registration approved after first certifying, and the median
    days from that first certification to the first such registration's submission."""
    holder = func.coalesce(Certification.partner_id, Person.partner_id)
    first = (
        select(holder.label("partner_id"), func.min(Certification.issued_at).label("certified_at"))
        .select_from(Certification)
        .join(Person, col(Person.id) == col(Certification.person_id))
        .where(col(Certification.issued_at) <= now)
        .group_by(holder)
        .subquery()
    )
    deal = DealRegistration
    rows = await session.exec(
        select(first.c.partner_id, first.c.certified_at, func.min(deal.submitted_at))
        .join(
            deal,
            and_(
                col(deal.partner_id) == first.c.partner_id,
                col(deal.submitted_at) >= first.c.certified_at,
            ),
        )
        .where(
            col(deal.submitted_at) <= now,
            col(deal.protection_started_at).is_not(None),
            col(deal.protection_started_at) <= now,
        )
        .group_by(first.c.partner_id, first.c.certified_at)
    )
    days = [
        (submitted - certified_at).total_seconds() / 86400
        for partner_id, certified_at, submitted in rows.all()
        if partner_id in partners
    ]
    return len(days), _median(days)


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None

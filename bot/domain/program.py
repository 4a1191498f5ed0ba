"""The program file (`program load FILE`): each tier's protection window, extension cap and
whether registering a gated product needs a certification. All or nothing, and idempotent.

```yaml
tiers:
  - name: gold
    protection_days: 90            # 60-90; default PARTNERBOT_PROTECTION_DAYS
    max_extensions: 3              # default 2
    certification_required: true
```
A tier the file does not name keeps its settings; a changed value takes effect from the next
approval (a protection window already running is not shortened).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import audit
from bot.domain.decisions import DEFAULT_MAX_EXTENSIONS
from bot.domain.sourcefile import Checker, FileProblems, Mapping, Problem, Sequence, load
from store.models import Channel, Partner, Tier

TIER_KEYS = ("name", "protection_days", "max_extensions", "certification_required")
MAX_EXTENSIONS = 10


@dataclass(frozen=True)
class TierSpec:
    """A tier as the file sets it (None: the program default)."""

    name: str
    protection_days: int | None
    max_extensions: int | None
    certification_required: bool

    def values(self) -> dict[str, Any]:
        """The settings, as stored and audited."""
        return {
            "protection_days": self.protection_days,
            "max_extensions": self.max_extensions,
            "certification_required": self.certification_required,
        }


def parse(source: str, text: str) -> list[TierSpec]:
    """The tiers a program file sets; FileProblems naming every problem."""
    root = load(source, text)
    check = Checker(source)
    if root is None:
        return []
    if not isinstance(root, Mapping):
        raise FileProblems([Problem(source, 1, None, "expected a mapping with `tiers:`")])
    check.unknown_keys(root, ("name", "tiers"))
    tiers = root.get("tiers")
    specs: list[TierSpec] = []
    if tiers is None:
        tiers = Sequence()
    if not isinstance(tiers, Sequence):
        check.fail(root.line_of("tiers"), "tiers", "must be a list of tiers")
        tiers = Sequence()
    seen: dict[str, int] = {}
    for item, line in zip(tiers, tiers.lines, strict=True):
        if not isinstance(item, Mapping):
            check.fail(line, "tiers", "each tier must be a mapping with a name")
            continue
        check.unknown_keys(item, TIER_KEYS)
        name = check.text(item, "name", limit=50)
        days = check.number(item, "protection_days", low=60, high=90, default=0)
        extensions = check.number(item, "max_extensions", low=0, high=MAX_EXTENSIONS, default=-1)
        required = check.flag(item, "certification_required", default=False)
        if name is not None and name.lower() in seen:
            first = seen[name.lower()]
            check.fail(line, "name", f"tier {name!r} is set twice (first on line {first})")
            continue
        if name is not None:
            seen[name.lower()] = line
        if name is None or days is None or extensions is None or required is None:
            continue
        specs.append(TierSpec(name, days or None, None if extensions < 0 else extensions, required))
    if check.problems:
        raise FileProblems(check.problems)
    return specs


@dataclass
class LoadReport:
    """What `program load` changed."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    untouched: list[str] = field(default_factory=list)  # tiers the file does not name


async def apply(
    session: AsyncSession, specs: list[TierSpec], *, actor: audit.Actor, now: datetime
) -> LoadReport:
    """Set each tier in the caller's transaction, auditing each change."""
    report = LoadReport()
    stored = {tier.name: tier for tier in (await session.exec(select(Tier))).all()}
    for spec in specs:
        tier = stored.pop(spec.name, None)
        before = None
        if tier is not None:
            before = {
                "protection_days": tier.protection_days,
                "max_extensions": tier.max_extensions,
                "certification_required": tier.certification_required,
            }
            if before == spec.values():
                report.unchanged.append(spec.name)
                continue
        else:
            tier = Tier(name=spec.name)
        tier.protection_days = spec.protection_days
        tier.max_extensions = spec.max_extensions
        tier.certification_required = spec.certification_required
        session.add(tier)
        (report.updated if before is not None else report.created).append(spec.name)
        await audit.record(
            session,
            actor=actor,
            channel=Channel.CLI,
            action="program.tier_set",
            subject_type="tier",
            subject_id=spec.name,
            before=before,
            after=spec.values(),
            now=now,
        )
    report.untouched = sorted(stored)
    return report


@dataclass(frozen=True)
class TierView:
    """A tier's settings in effect (the program default where the tier sets none)."""

    name: str
    protection_days: int
    protection_days_set: bool
    max_extensions: int
    max_extensions_set: bool
    certification_required: bool
    partners: int


async def show(session: AsyncSession, *, default_protection_days: int) -> list[TierView]:
    """Every tier that is configured or that a partner has, with what applies to it."""
    tiers = {tier.name: tier for tier in (await session.exec(select(Tier))).all()}
    counts = await session.exec(
        select(Partner.tier, func.count())
        .where(col(Partner.active), col(Partner.tier) != "")
        .group_by(col(Partner.tier))
    )
    partners = {name: count for name, count in counts.all()}
    views = []
    for name in sorted(set(tiers) | set(partners)):
        tier = tiers.get(name)
        days = tier.protection_days if tier else None
        extensions = tier.max_extensions if tier else None
        views.append(
            TierView(
                name=name,
                protection_days=days or default_protection_days,
                protection_days_set=days is not None,
                max_extensions=extensions if extensions is not None else DEFAULT_MAX_EXTENSIONS,
                max_extensions_set=extensions is not None,
                certification_required=bool(tier and tier.certification_required),
                partners=partners.get(name, 0),
            )
        )
    return views

"""The training catalogue as files (`training load DIR`): every `*.yaml` in DIR is one module.

```yaml
id: deal-registration-101          # letters, digits and '-'; stable across reloads
title: Deal registration 101
path: sales                        # sales | technical | support
partner_types: [reseller, referral] # absent: every partner type
content: |
  Markdown shown before the quiz.
pass_mark: 80                      # percent of questions answered right; default 80
questions:
  - question: How long is a deal protected after approval?
    choices: [30 days, 90 days, Until it closes]
    answer: 2                      # 1-based number of the right choice
certification:                     # optional: passing the module grants it
  name: Certified Seller
  valid_days: 365
  products: [Enterprise]           # products it lets a partner register
```
A bad file is refused with its name, line and problem, and nothing is loaded. Reloading an
edited catalogue updates modules in place (attempts and certifications stay); a module whose
file is gone is retired — no longer offered, its history kept — and comes back if the file
does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import audit
from bot.domain.sourcefile import Checker, FileProblems, Mapping, Problem, Sequence, load
from store.models import Channel, PartnerType, TrainingModule

PATHS = ("sales", "technical", "support")
MODULE_KEYS = (
    "id",
    "title",
    "path",
    "partner_types",
    "content",
    "pass_mark",
    "questions",
    "certification",
)
QUESTION_KEYS = ("question", "choices", "answer")
CERTIFICATION_KEYS = ("name", "valid_days", "products")
SLUG = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,98}[A-Za-z0-9])?$")
# Slack's limits decide some of these: a radio group holds 10 options of 75 characters, an
# input's label 2,000 (https://api.slack.com/reference/block-kit/composition-objects#option).
MAX_CONTENT = 40_000  # characters; Slack shows it over several pages
MAX_QUESTIONS = 20
MAX_QUESTION = 2000
MAX_CHOICES = 10
MAX_CHOICE = 75
LETTERS = "abcdefghij"


@dataclass(frozen=True)
class ModuleSpec:
    """A module as its file describes it."""

    slug: str
    title: str
    learning_path: str
    partner_types: list[str]
    content: str
    pass_mark: float  # 0-1
    quiz: list[dict[str, Any]]
    certification: str | None
    certification_valid_days: int
    products: list[str]
    source: str

    def values(self) -> dict[str, Any]:
        """The module's stored fields."""
        return {
            "title": self.title,
            "learning_path": self.learning_path,
            "partner_types": self.partner_types,
            "content": self.content,
            "pass_mark": self.pass_mark,
            "quiz": self.quiz,
            "certification": self.certification,
            "certification_valid_days": self.certification_valid_days,
            "products": self.products,
        }


def _questions(check: Checker, module: Mapping) -> list[dict[str, Any]]:
    raw = module.get("questions")
    if not isinstance(raw, Sequence) or not raw:
        check.fail(module.line_of("questions"), "questions", "needs at least one question")
        return []
    if len(raw) > MAX_QUESTIONS:
        check.fail(raw.line, "questions", f"has {len(raw)} questions; at most {MAX_QUESTIONS}")
    quiz = []
    for number, (item, line) in enumerate(zip(raw, raw.lines, strict=True), start=1):
        where = f"questions[{number}]."
        if not isinstance(item, Mapping):
            check.fail(line, f"questions[{number}]", "must be a mapping: question, choices, answer")
            continue
        check.unknown_keys(item, QUESTION_KEYS, where)
        question = check.text(item, "question", limit=MAX_QUESTION, where=where)
        choices = item.get("choices")
        if not isinstance(choices, Sequence) or not 2 <= len(choices) <= MAX_CHOICES:
            check.fail(
                item.line_of("choices"), where + "choices", f"needs 2 to {MAX_CHOICES} choices"
            )
            continue
        texts = []
        for choice, choice_line in zip(choices, choices.lines, strict=True):
            if isinstance(choice, (Mapping, Sequence)):
                check.fail(
                    choice_line,
                    where + "choices",
                    "each choice must be text (put quotes around a choice with “: ” in it)",
                )
                continue
            text = " ".join(("" if choice is None else str(choice)).split())
            if not text or len(text) > MAX_CHOICE:
                check.fail(
                    choice_line,
                    where + "choices",
                    f"each choice must be 1 to {MAX_CHOICE} "
                    f"characters (Slack shows no more){': ' + repr(text[:40]) if text else ''}",
                )
            texts.append(text)
        if len({t.lower() for t in texts}) < len(texts):
            check.fail(item.line_of("choices"), where + "choices", "two choices are the same")
        answer = check.number(item, "answer", low=1, high=len(texts), default=None, where=where)
        if question and answer is not None:
            quiz.append({"question": question, "choices": texts, "answer": answer})
    return quiz


def _certification(
    check: Checker, module: Mapping, products: list[str]
) -> tuple[str | None, int, list[str]]:
    raw = module.get("certification")
    if raw is None:
        return None, 365, []
    if not isinstance(raw, Mapping):
        check.fail(
            module.line_of("certification"),
            "certification",
            "must be a mapping: name, valid_days, products",
        )
        return None, 365, []
    where = "certification."
    check.unknown_keys(raw, CERTIFICATION_KEYS, where)
    name = check.text(raw, "name", limit=100, where=where)
    days = check.number(raw, "valid_days", low=1, high=3650, default=365, where=where) or 365
    unlocked = check.texts(raw, "products", limit=100, where=where) or []
    known = {p.lower(): p for p in products}
    if known:
        for product in unlocked:
            if product.lower() not in known:
                check.fail(
                    raw.line_of("products"),
                    where + "products",
                    f"{product!r} is not a product (PARTNERBOT_PRODUCTS: {', '.join(products)})",
                )
    return name, days, [known.get(p.lower(), p) for p in unlocked]


def parse_module(source: str, text: str, products: list[str]) -> ModuleSpec:
    """One module file; FileProblems naming each problem in it."""
    root = load(source, text)
    check = Checker(source)
    if not isinstance(root, Mapping):
        raise FileProblems([Problem(source, 1, None, "expected a module (a mapping with id:)")])
    check.unknown_keys(root, MODULE_KEYS)
    slug = check.text(root, "id", limit=100)
    if slug is not None and not SLUG.match(slug):
        check.fail(root.line_of("id"), "id", "use letters, digits and '-' only")
    title = check.text(root, "title", limit=150)
    path = check.text(root, "path", limit=20)
    if path is not None and path.lower() not in PATHS:
        check.fail(root.line_of("path"), "path", "must be one of " + ", ".join(PATHS))
    types = check.texts(root, "partner_types", limit=30) or []
    for kind in types:
        if kind.lower() not in {t.value for t in PartnerType}:
            check.fail(
                root.line_of("partner_types"),
                "partner_types",
                f"{kind!r} is not a partner type (" + ", ".join(t.value for t in PartnerType) + ")",
            )
    content = check.text(root, "content", limit=MAX_CONTENT)
    pass_mark = check.number(root, "pass_mark", low=1, high=100, default=80)
    quiz = _questions(check, root)
    name, days, unlocked = _certification(check, root, products)
    if check.problems:
        raise FileProblems(check.problems)
    assert slug and title and path and content and pass_mark
    return ModuleSpec(
        slug=slug.lower(),
        title=title,
        learning_path=path.lower(),
        partner_types=sorted({kind.lower() for kind in types}),
        content=str(root["content"]).strip("\n"),  # as written: Markdown minds its spacing
        pass_mark=pass_mark / 100,
        quiz=quiz,
        certification=name,
        certification_valid_days=days,
        products=unlocked,
        source=source,
    )


def read_catalogue(directory: Path, products: list[str]) -> list[ModuleSpec]:
    """Every module in DIR, checked together (ids must be unique); FileProblems for all the
    problems in all the files."""
    if not directory.is_dir():
        raise FileProblems([Problem(str(directory), 1, None, "not a directory")])
    files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    if not files:
        raise FileProblems([Problem(str(directory), 1, None, "holds no *.yaml module files")])
    problems: list[Problem] = []
    specs: list[ModuleSpec] = []
    first: dict[str, str] = {}
    for path in files:
        try:
            spec = parse_module(str(path), path.read_text(encoding="utf-8"), products)
        except FileProblems as exc:
            problems += exc.problems
            continue
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(str(path), 1, None, f"cannot be read: {exc}"))
            continue
        if spec.slug in first:
            problems.append(
                Problem(str(path), 1, "id", f"{spec.slug!r} is also the id in {first[spec.slug]}")
            )
            continue
        first[spec.slug] = str(path)
        specs.append(spec)
    if problems:
        raise FileProblems(problems)
    return specs


@dataclass
class LoadReport:
    """What `training load` changed."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)


def _stored(module: TrainingModule) -> dict[str, Any]:
    return {
        "title": module.title,
        "learning_path": module.learning_path,
        "partner_types": list(module.partner_types),
        "content": module.content,
        "pass_mark": module.pass_mark,
        "quiz": list(module.quiz),
        "certification": module.certification,
        "certification_valid_days": module.certification_valid_days,
        "products": list(module.products),
    }


def _summary(values: dict[str, Any]) -> dict[str, Any]:
    """What the audit log keeps of a module (not its whole text)."""
    return {
        "title": values["title"],
        "path": values["learning_path"],
        "partner_types": values["partner_types"],
        "questions": len(values["quiz"]),
        "pass_mark": values["pass_mark"],
        "certification": values["certification"],
        "valid_days": values["certification_valid_days"],
        "products": values["products"],
    }


async def apply(
    session: AsyncSession, specs: list[ModuleSpec], *, actor: audit.Actor, now: datetime
) -> LoadReport:
    """Bring the stored catalogue to `specs` in the caller's transaction, auditing each
    change; attempts and certifications are never touched."""
    report = LoadReport()
    stored = {m.slug: m for m in (await session.exec(select(TrainingModule))).all()}
    entries = []
    for spec in specs:
        module = stored.pop(spec.slug, None)
        values = spec.values()
        if module is None:
            module = TrainingModule(slug=spec.slug, updated_at=now, **values)
            session.add(module)
            await session.flush()
            report.created.append(spec.slug)
            action, before = "training.module_created", None
        else:
            restored = module.retired_at is not None
            changed = _stored(module) != values
            if not changed and not restored:
                report.unchanged.append(spec.slug)
                continue
            before = _summary(_stored(module))
            for name, value in values.items():
                setattr(module, name, value)
            module.retired_at = None
            if changed:  # the version an open quiz is checked against
                module.updated_at = now
            session.add(module)
            (report.restored if restored else report.updated).append(spec.slug)
            action = "training.module_restored" if restored else "training.module_updated"
        entries.append(
            audit.Entry(
                actor, Channel.CLI, action, "training_module", module.id, before, _summary(values)
            )
        )
    for module in stored.values():
        if module.retired_at is None:
            module.retired_at = now
            session.add(module)
            report.retired.append(module.slug)
            entries.append(
                audit.Entry(
                    actor,
                    Channel.CLI,
                    "training.module_retired",
                    "training_module",
                    module.id,
                    _summary(_stored(module)),
                    None,
                )
            )
    await session.flush()
    await audit.record_many(session, entries, now=now)
    return report


async def modules(session: AsyncSession, *, include_retired: bool = False) -> list[TrainingModule]:
    """The catalogue, by path and title."""
    query = select(TrainingModule)
    rows = [m for m in (await session.exec(query)).all() if include_retired or not m.retired_at]
    order = {path: n for n, path in enumerate(PATHS)}
    return sorted(rows, key=lambda m: (order.get(m.learning_path, 9), m.title.lower()))


async def find(session: AsyncSession, slug: str) -> TrainingModule | None:
    """A module by its id (as written in its file, any case)."""
    query = select(TrainingModule).where(TrainingModule.slug == slug.strip().lower())
    return (await session.exec(query)).first()

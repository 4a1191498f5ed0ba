"""Customer-uniqueness checks at scale, and registration over HTTP on that data.

Seeds N registrations and N mirrored CRM accounts (default 1,000,000 each) into SQLite and
PostgreSQL, with their name index, word counts and stored deletions (issue #16; distinctive
words of four syllables, `--syllables 3` for the denser data used before), then times 10,000
uniqueness checks through the real `check_customer` (exact hits, a typo in a later word, a
typo in the first word with another domain, misses) against a naive scan-and-fuzzy-match of
the same data, and finally times view submissions over HTTP to `partnerbot serve` from 20
concurrent partners.

    .venv/bin/python bench/conflict_check.py [--rows 1000000] [--checks 10000] [--syllables 4]

Targets (issues #3 and #16): check p99 <= 10 ms on SQLite and <= 20 ms on PostgreSQL; view
submission p99 <= 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import asyncpg
from rapidfuzz import fuzz, process
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.demo.net import free_port  # noqa: E402
from bot.demo.slack_requests import SIGNING_SECRET, sign  # noqa: E402
from bot.demo.slack_standin import TEAM_ID, VALID_TOKEN, SlackStandIn  # noqa: E402
from bot.domain.registration import CleanDeal, check_customer  # noqa: E402
from matching.blocking import counted_words, index_words, stored_deletions  # noqa: E402
from matching.names import company_key, normalize_company  # noqa: E402
from store.db import Database  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from store.models import Motion  # noqa: E402
from tests.harness.postgres import PostgresServer  # noqa: E402

PARTNERBOT = str(Path(sys.executable).with_name("partnerbot"))
SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ra",
    "ven",
    "tor",
    "al",
    "bex",
    "cor",
    "dun",
    "el",
    "fen",
    "gal",
    "har",
    "in",
    "jes",
    "kel",
    "lum",
    "mor",
    "nor",
    "pax",
    "qui",
    "ros",
    "sel",
    "tan",
    "ul",
    "vor",
    "wex",
    "yar",
    "zen",
]
INDUSTRY = [
    "Systems",
    "Logistics",
    "Dental",
    "Foods",
    "Capital",
    "Energy",
    "Labs",
    "Media",
    "Health",
    "Robotics",
    "Textiles",
    "Partners",
    "Analytics",
    "Motors",
    "Studios",
    "Retail",
    "Pharma",
    "Networks",
    "Solar",
    "Marine",
]
SUFFIX = ["Inc", "LLC", "GmbH", "Ltd", "BV", "SA", "Corp", ""]
NOW = datetime.now(UTC)
PARTNERS = 20


# Syllables per distinctive word: 4 give 810,000 words, so at a million names a word is
# shared by a few companies, as in a real customer base; 3 (the data until issue #16) give
# 27,000, each shared by ~74 companies at a million names: a stress case for the name
# index, kept as `--syllables 3`.
STEM_SYLLABLES = 4


def company(rng: random.Random) -> str:
    word = "".join(rng.choice(SYLLABLES) for _ in range(STEM_SYLLABLES)).title()
    return f"{word} {rng.choice(INDUSTRY)} {rng.choice(SUFFIX)}".strip()


def typo(name: str, rng: random.Random, word: int = 1) -> str:
    """The same company as a person might type it: a changed letter in one of its words."""
    words = name.split()
    letters = list(words[word])
    at = rng.randrange(1, len(letters))
    letters[at] = rng.choice([c for c in "aeiou" if c != letters[at].lower()])
    words[word] = "".join(letters)
    return " ".join(words)


@dataclass
class Row:
    name: str
    domain: str


def generate(count: int, seed: int) -> list[Row]:
    rng = random.Random(seed)
    return [
        Row(name, f"{''.join(name.split()[:2]).lower()}{n}.example")
        for n, name in ((n, company(rng)) for n in range(count))
    ]


def registration_records(rows: list[Row]) -> list[tuple]:
    records = []
    close = date.today() + timedelta(days=60)
    for n, row in enumerate(rows):
        normalized = normalize_company(row.name)
        approved = n % 4 != 0
        records.append(
            (
                n + 1,
                1 + n % PARTNERS,
                1 + (n % PARTNERS) * 5,
                row.name,
                row.domain,
                row.domain,
                normalized,
                company_key(normalized),
                "Pat",
                "pat@example.com",
                1000,
                "EUR",
                close,
                '["Core"]',
                "resale",
                "",
                "approved" if approved else "pending",
                "{}",
                NOW - timedelta(days=n % 60),
                0,
                NOW,
                f"seed-{n}",
                NOW + timedelta(days=30 + n % 60) if approved else None,
            )
        )
    return records


DEAL_COLUMNS = [
    "id",
    "partner_id",
    "registered_by_id",
    "customer_company",
    "customer_domain",
    "normalized_domain",
    "normalized_company",
    "company_key",
    "contact_name",
    "contact_email",
    "estimated_value",
    "currency",
    "expected_close_date",
    "products",
    "motion",
    "notes",
    "status",
    "conflict_details",
    "submitted_at",
    "extension_count",
    "last_activity_at",
    "idempotency_key",
    "protection_expires_at",
]
ACCOUNT_COLUMNS = [
    "id",
    "crm",
    "crm_id",
    "domain",
    "name",
    "normalized_name",
    "company_key",
    "owner_kind",
    "incumbent_partner_id",
    "modified_at",
    "synced_at",
]


def account_records(rows: list[Row]) -> list[tuple]:
    records = []
    for n, row in enumerate(rows):
        normalized = normalize_company(row.name)
        owner = ("direct", "partner", "none")[n % 3]
        records.append(
            (
                n + 1,
                "hubspot",
                f"acc-{n}",
                row.domain,
                row.name,
                normalized,
                company_key(normalized),
                owner,
                1 + n % PARTNERS if owner == "partner" else None,
                NOW,
                NOW,
            )
        )
    return records


def name_index_records(deals: list[tuple], accounts: list[tuple]) -> list[tuple]:
    """The name index of the seeded rows: (word, kind, record id)."""
    name_at = DEAL_COLUMNS.index("normalized_company")
    records = [(w, "registration", d[0]) for d in deals for w in index_words(d[name_at])]
    name_at = ACCOUNT_COLUMNS.index("normalized_name")
    return records + [(w, "account", a[0]) for a in accounts for w in index_words(a[name_at])]


def slip_records(index: list[tuple]) -> list[tuple]:
    """The stored deletions of the indexed words: (slip, word)."""
    return [(d, w) for w in sorted({r[0] for r in index}) for d in sorted(stored_deletions(w))]


def word_count_records(deals: list[tuple], accounts: list[tuple]) -> list[tuple]:
    """The word counts of the seeded names: (word, names); the empty word counts them all."""
    counts: Counter[str] = Counter()
    for rows, name_at in (
        (deals, DEAL_COLUMNS.index("normalized_company")),
        (accounts, ACCOUNT_COLUMNS.index("normalized_name")),
    ):
        for row in rows:
            counts.update(counted_words(row[name_at]) | {""})
    return sorted(counts.items())


def program_csv() -> str:
    lines = ["partner,type,tier,region,domains,name,email,role,slack_user_id"]
    for p in range(PARTNERS):
        for u in range(5):
            lines.append(
                f"Partner {p},reseller,gold,emea,p{p}.example,User {p}-{u},u{u}@p{p}.example,partner,U{p:03d}{u:03d}"
            )
    return "\n".join(lines) + "\n"


async def seed(
    url: str,
    deals: list[tuple],
    accounts: list[tuple],
    words: tuple[list[tuple], list[tuple], list[tuple]],
    workdir: Path,
) -> float:
    """Migrate, import the partners with the real CLI, bulk-load the rows; return seconds."""
    index, counts, slips = words
    started = time.perf_counter()
    db = Database(url)
    await upgrade(db)
    await db.dispose()
    (workdir / "program.csv").write_text(program_csv())
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERBOT_")} | {
        "PARTNERBOT_DATABASE_URL": url
    }
    importer = await asyncio.create_subprocess_exec(
        PARTNERBOT,
        "partners",
        "import",
        str(workdir / "program.csv"),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
    )
    assert await importer.wait() == 0
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as conn:
            conn.executemany(
                f"INSERT INTO deal_registration ({','.join(DEAL_COLUMNS)}) VALUES ({','.join('?' * len(DEAL_COLUMNS))})",  # noqa: S608
                [tuple(_sqlite(v) for v in r) for r in deals],
            )
            conn.executemany(
                f"INSERT INTO crm_account ({','.join(ACCOUNT_COLUMNS)}) VALUES ({','.join('?' * len(ACCOUNT_COLUMNS))})",  # noqa: S608
                [tuple(_sqlite(v) for v in r) for r in accounts],
            )
            conn.executemany("INSERT INTO name_index VALUES (?, ?, ?)", index)
            conn.executemany("INSERT INTO name_word VALUES (?, ?)", counts)
            conn.executemany("INSERT INTO name_slip VALUES (?, ?)", slips)
            conn.execute("ANALYZE")
    else:
        conn = await asyncpg.connect(url)
        try:
            await conn.copy_records_to_table(
                "deal_registration", records=deals, columns=DEAL_COLUMNS
            )
            await conn.copy_records_to_table(
                "crm_account", records=accounts, columns=ACCOUNT_COLUMNS
            )
            await conn.copy_records_to_table(
                "name_index", records=index, columns=["word", "kind", "record_id"]
            )
            await conn.copy_records_to_table("name_word", records=counts, columns=["word", "names"])
            await conn.copy_records_to_table("name_slip", records=slips, columns=["slip", "word"])
            for table in (
                "deal_registration",
                "crm_account",
            ):  # ids were given: move the sequences on
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608
                )
            await conn.execute("VACUUM ANALYZE")
        finally:
            await conn.close()
    return time.perf_counter() - started


def _sqlite(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def clean_deal(name: str, domain: str) -> CleanDeal:
    normalized = normalize_company(name)
    return CleanDeal(
        name,
        domain,
        domain,
        normalized,
        company_key(normalized),
        "Pat",
        "pat@example.com",
        1000,
        "EUR",
        date.today(),
        ["Core"],
        Motion.RESALE,
        "",
    )  # type: ignore[arg-type]


KINDS = ("exact", "fuzzy", "typo1", "miss")


def checks(rows: list[Row], accounts: list[Row], count: int) -> list[tuple[str, CleanDeal]]:
    rng = random.Random(7)
    fresh = generate(count, seed=99)
    out: list[tuple[str, CleanDeal]] = []
    for n in range(count):
        kind = KINDS[n % len(KINDS)]
        if kind == "exact":
            row = rng.choice(rows if n % 2 else accounts)
            out.append((kind, clean_deal(row.name, row.domain)))
        elif kind == "fuzzy":  # a typo in a later word, another domain
            row = rng.choice(rows if n % 2 else accounts)
            out.append((kind, clean_deal(typo(row.name, rng), f"new-{n}.example")))
        elif kind == "typo1":  # a typo in the first (distinctive) word, another domain
            row = rng.choice(rows if n % 2 else accounts)
            out.append((kind, clean_deal(typo(row.name, rng, 0), f"new-{n}.example")))
        else:  # a first word the data never uses (three letters from any it does)
            name = f"Quz{fresh[n].name.split()[0].lower()} {fresh[n].name.split()[1]}"
            out.append((kind, clean_deal(name, f"miss-{n}.example")))
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def time_checks(url: str, cases: list[tuple[str, CleanDeal]]) -> dict[str, list[float]]:
    db = Database(url)
    by_kind: dict[str, list[float]] = {kind: [] for kind in KINDS}
    found = dict.fromkeys(KINDS, 0)
    for _, deal in cases[:50]:  # warm the pool and the caches
        async with db.read() as session:
            await check_customer(session, partner_id=1, clean=deal, now=NOW)
    for kind, deal in cases:
        started = time.perf_counter()
        async with db.read() as session:
            decision = await check_customer(session, partner_id=1, clean=deal, now=NOW)
        by_kind[kind].append(time.perf_counter() - started)
        found[kind] += bool(decision.matches)
    await db.dispose()
    for kind, hits in found.items():
        print(f"    {kind:<6} checks that found a match: {hits}/{len(by_kind[kind])}")
    return by_kind


async def time_naive(url: str, cases: list[tuple[str, CleanDeal]]) -> list[float]:
    """Scan every live registration and account, fuzzy-match every name: what an index saves."""
    db = Database(url)
    timings = []
    for _, deal in cases:
        started = time.perf_counter()
        async with db.engine.connect() as conn:
            regs = (
                await conn.execute(
                    text(
                        "SELECT normalized_domain, normalized_company FROM deal_registration "
                        "WHERE status IN ('pending','info_requested') OR (status = 'approved' AND protection_expires_at > :now)"
                    ),
                    {"now": NOW if db.dialect == "postgresql" else _sqlite(NOW)},
                )
            ).all()
            accs = (
                await conn.execute(text("SELECT domain, normalized_name FROM crm_account"))
            ).all()
        names = [r[1] for r in regs] + [a[1] for a in accs]
        domains = {r[0] for r in regs} | {a[0] for a in accs}
        _ = deal.normalized_domain in domains
        process.extract(
            deal.normalized_company, names, scorer=fuzz.token_sort_ratio, score_cutoff=70, limit=20
        )
        timings.append(time.perf_counter() - started)
    await db.dispose()
    return timings


def submission(n: int, user: str, name: str, domain: str) -> bytes:
    close = (date.today() + timedelta(days=45)).isoformat()
    values = {
        key: {"value": {"type": "plain_text_input", "value": value}}
        for key, value in {
            "customer_company": name,
            "customer_domain": domain,
            "contact_name": "Pat Doe",
            "contact_email": "pat@example.com",
            "estimated_value": "12000",
            "notes": "",
        }.items()
    }
    values |= {
        "expected_close_date": {"value": {"type": "datepicker", "selected_date": close}},
        "currency": {"value": {"type": "static_select", "selected_option": {"value": "EUR"}}},
        "motion": {"value": {"type": "static_select", "selected_option": {"value": "resale"}}},
        "products": {
            "value": {"type": "multi_static_select", "selected_options": [{"value": "Core"}]}
        },
    }
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM_ID},
        "user": {"id": user, "team_id": TEAM_ID},
        "view": {
            "id": f"VBENCH{n}",
            "type": "modal",
            "callback_id": "register_deal",
            "private_metadata": "",
            "state": {"values": values},
        },
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


async def time_http(
    url: str, rows: list[Row], workers: int, partners: int = 20, per_partner: int = 10
) -> list[float]:
    slack = SlackStandIn().start()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERBOT_")} | {
        "PARTNERBOT_DATABASE_URL": url,
        "PARTNERBOT_SLACK_BOT_TOKEN": VALID_TOKEN,
        "PARTNERBOT_SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "PARTNERBOT_SLACK_API_URL": slack.api_url,
        "PARTNERBOT_DEAL_DESK_CHANNEL": "C0DESK",
        "PARTNERBOT_PRODUCTS": "Core",
        "PARTNERBOT_LOG_LEVEL": "WARNING",
    }
    server = await asyncio.create_subprocess_exec(
        PARTNERBOT,
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    latencies: list[float] = []
    rng = random.Random(3)
    view_ids = itertools.count()
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(600):
                try:
                    async with session.get(base + "/healthz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)

            async def partner(p: int) -> None:
                for k in range(per_partner):
                    row = rng.choice(rows)
                    name, domain = (
                        (row.name, row.domain)
                        if k % 2
                        else (company(rng) + " Qx", f"http-{p}-{k}.example")
                    )
                    body = submission(next(view_ids), f"U{p:03d}000", name, domain)
                    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
                    started = time.perf_counter()
                    async with session.post(
                        base + "/slack/events", data=body, headers=headers
                    ) as response:
                        answer = await response.json()
                        assert (
                            response.status == 200 and answer.get("response_action") == "update"
                        ), answer
                    latencies.append(time.perf_counter() - started)

            await asyncio.gather(*(partner(p) for p in range(partners)))  # warm-up: pools, caches
            latencies.clear()
            await asyncio.gather(*(partner(p) for p in range(partners)))
    finally:
        server.send_signal(signal.SIGTERM)
        await server.wait()
        slack.stop()
    return latencies


async def run(rows_count: int, check_count: int, naive_count: int) -> int:
    print(f"generating {rows_count:,} registrations and {rows_count:,} CRM accounts ...")
    deal_rows, account_rows = generate(rows_count, seed=1), generate(rows_count, seed=2)
    deals, accounts = registration_records(deal_rows), account_records(account_rows)
    index = name_index_records(deals, accounts)
    words = index, word_count_records(deals, accounts), slip_records(index)
    cases = checks(deal_rows, account_rows, check_count)
    workdir = Path(tempfile.mkdtemp(prefix="partnerbot-conflicts-"))
    postgres = await PostgresServer().start()
    ok = True
    try:
        for backend, url, target in (
            ("SQLite", f"sqlite:///{workdir}/bench.db", 10.0),
            ("PostgreSQL", await postgres.create_database(), 20.0),
        ):
            print(f"\n{backend}: seeding ...")
            print(f"  seeded in {await seed(url, deals, accounts, words, workdir):.0f} s")
            by_kind = await time_checks(url, cases)
            every = [t for values in by_kind.values() for t in values]
            naive = await time_naive(url, cases[:naive_count])
            print(
                f"  {len(every):,} uniqueness checks: p50 {pct(every, 0.5):.2f} ms, p99 {pct(every, 0.99):.2f} ms "
                f"(target <= {target:.0f} ms)"
            )
            for kind, values in by_kind.items():
                print(
                    f"    {kind:<6} p50 {pct(values, 0.5):.2f} ms  p99 {pct(values, 0.99):.2f} ms"
                )
            mean_indexed = sum(every) / len(every)
            mean_naive = sum(naive) / len(naive)
            print(
                f"  naive scan + fuzzy match ({len(naive)} checks): mean {mean_naive * 1000:.0f} ms; "
                f"speed-up {mean_naive / mean_indexed:,.0f}x"
            )
            ok &= pct(every, 0.99) <= target
            for workers in (1, 2):
                http = await time_http(url, deal_rows, workers)
                print(
                    f"  view submission over HTTP (serve --workers {workers}), 20 concurrent partners, "
                    f"{len(http)}: p50 {pct(http, 0.5):.0f} ms, p99 {pct(http, 0.99):.0f} ms (target <= 300 ms)"
                )
                ok &= workers == 1 or pct(http, 0.99) <= 300
    finally:
        await postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    print("\nmeets the targets" if ok else "\nMISSES a target")
    return 0 if ok else 1


def main() -> None:
    global STEM_SYLLABLES
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--checks", type=int, default=10_000)
    parser.add_argument("--naive", type=int, default=10)
    parser.add_argument("--syllables", type=int, default=STEM_SYLLABLES)
    args = parser.parse_args()
    STEM_SYLLABLES = args.syllables
    sys.exit(asyncio.run(run(args.rows, args.checks, args.naive)))


if __name__ == "__main__":
    main()

"""`partnerbot crm sync --full` against a large HubSpot portal: within the search API's own
limit (5 requests per second), with a progress bar, resumed from its last page after an
outage or an interrupt, and never a traceback."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from tests.harness.hubspot_standin import VALID_TOKEN, HubSpotStandIn
from tests.test_cli import PARTNERBOT, run

COMPANIES = 10_000
SEARCH = "/crm/v3/objects/companies/search"


def mirrored(tmp_path: Path) -> int:
    with sqlite3.connect(tmp_path / "cli.db") as conn:
        return int(conn.execute("SELECT count(*) FROM crm_account").fetchone()[0])


def test_a_full_sync_of_10000_companies_keeps_the_search_limit_and_resumes_where_it_stopped(
    env: dict[str, str], tmp_path: Path, hubspot: HubSpotStandIn
) -> None:
    for n in range(COMPANIES):
        hubspot.advance(seconds=1)  # created over a few hours
        hubspot.add_company(f"customer{n}.example", f"Customer {n} GmbH")
    crm_env = env | {
        "PARTNERBOT_CRM": "hubspot",
        "PARTNERBOT_HUBSPOT_TOKEN": VALID_TOKEN,
        "PARTNERBOT_HUBSPOT_API_URL": hubspot.url,
    }
    # HubSpot fails the 16th page (an outage): the sync stops and says how to go on.
    hubspot.fail(503, times=1, path=SEARCH, skip=15)
    stopped = run(crm_env, tmp_path, "crm", "sync", "--full")
    assert stopped.returncode == 1, stopped.stderr
    assert "the sync stopped after 3000 account(s): HubSpot 503" in stopped.stderr
    assert "run `partnerbot crm sync --full` again to go on from there" in stopped.stderr
    assert "Traceback" not in stopped.stderr and mirrored(tmp_path) == 3000

    # Run again and interrupted (Ctrl-C) a few pages later: it says so, keeps what it read.
    searched = hubspot.calls(SEARCH)
    process = subprocess.Popen(
        [PARTNERBOT, "crm", "sync", "--full"],
        env=crm_env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as in a terminal
    )
    deadline = time.monotonic() + 30
    while hubspot.calls(SEARCH) < searched + 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _out, interrupted = process.communicate(timeout=30)
    assert process.returncode == 130, interrupted
    assert "interrupted" in interrupted and "Traceback" not in interrupted
    resumed_at = mirrored(tmp_path)
    assert 3000 + 8 * 200 <= resumed_at < COMPANIES  # it went on from page 16, not from zero

    # Run again: it completes from where the interrupted run stopped, within the limit.
    searched = hubspot.calls(SEARCH)
    started = time.monotonic()
    finished = run(crm_env, tmp_path, "crm", "sync", "--full")
    seconds = time.monotonic() - started
    assert finished.returncode == 0, finished.stderr
    assert f"{COMPANIES - resumed_at} account(s) copied" in finished.stdout
    assert "Syncing hubspot accounts" in finished.stderr and "Traceback" not in finished.stderr
    assert hubspot.calls(SEARCH) - searched <= (COMPANIES - resumed_at) // 200 + 2
    assert mirrored(tmp_path) == COMPANIES
    assert hubspot.search_limited == 0  # never over 5 searches a second: no 429 at all
    assert hubspot.calls(SEARCH) <= COMPANIES // 200 + 3  # 50 pages, a few read twice
    assert seconds < 60

    # A sync after the full one reads what changed and the last five minutes again (300
    # companies, created a second apart), copying only the change.
    hubspot.advance(seconds=60)
    hubspot.touch(hubspot.find("companies", "domain", "customer17.example")[0], name="Renamed")
    searched = hubspot.calls(SEARCH)
    incremental = run(crm_env, tmp_path, "crm", "sync")
    assert incremental.returncode == 0 and "1 account(s) copied" in incremental.stdout
    assert hubspot.calls(SEARCH) - searched == 2

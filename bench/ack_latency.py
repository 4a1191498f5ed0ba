"""Slack ack latency: partnerbot serve vs a bare Bolt app, over real HTTP on loopback.

Sends N signed slash commands (`/deals`) and button clicks (Next page) from 50 concurrent
clients to `partnerbot serve` (uvicorn; SQLite, then PostgreSQL; Slack Web API stand-in),
and the same requests to a bare Bolt app that only acks. Prints p50/p99 latency and
requests/s for each, and partnerbot's throughput as a share of the bare app's.

    .venv/bin/python bench/ack_latency.py [--requests 3000] [--concurrency 50]

Targets (issue #2): p99 < 100 ms, throughput >= 70% of the bare app's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.demo.net import free_port  # noqa: E402
from bot.demo.slack_requests import SIGNING_SECRET, sign  # noqa: E402
from bot.demo.slack_standin import TEAM_ID, VALID_TOKEN, SlackStandIn  # noqa: E402
from store.db import Database  # noqa: E402
from tests.harness.data import add_registrations  # noqa: E402
from tests.harness.postgres import PostgresServer  # noqa: E402

PARTNERBOT = str(Path(sys.executable).with_name("partnerbot"))
PROGRAM_CSV = "partner,type,tier,region,domains,name,email,role,slack_user_id\n" + "".join(
    f"Partner {p},reseller,gold,emea,p{p}.example,User {p}-{u},u{u}@p{p}.example,partner,U{p:03d}{u:03d}\n"
    for p in range(20)
    for u in range(5)
)


@dataclass
class Result:
    name: str
    latencies: list[float]
    seconds: float
    errors: int
    server_cpu: float = 0.0  # CPU seconds the server process used for these requests

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def row(self) -> str:
        cpu_ms = self.server_cpu / len(self.latencies) * 1000
        return (
            f"{self.name:<30} {self.pct(0.50):>8.1f} {self.pct(0.99):>8.1f} "
            f"{self.rps:>9.0f} {cpu_ms:>10.2f} {self.errors:>7}"
        )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children (uvicorn workers), from /proc."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def payloads(count: int, response_url: str) -> list[tuple[bytes, str]]:
    """Alternating `/deals` commands and Next-page clicks from 100 different partner users."""
    bodies = []
    for n in range(count):
        user = f"U{(n % 20):03d}{(n // 20) % 5:03d}"
        if n % 2 == 0:
            form = {
                "command": "/deals",
                "text": "",
                "user_id": user,
                "team_id": TEAM_ID,
                "channel_id": "C1",
                "response_url": response_url,
                "trigger_id": f"{n}.t",
            }
            bodies.append((urlencode(form).encode(), "application/x-www-form-urlencoded"))
        else:
            payload = {
                "type": "block_actions",
                "user": {"id": user, "team_id": TEAM_ID},
                "team": {"id": TEAM_ID},
                "response_url": response_url,
                "trigger_id": f"{n}.t",
                "container": {"type": "message", "channel_id": "C1", "message_ts": "1.1"},
                "channel": {"id": "C1"},
                "actions": [
                    {
                        "type": "button",
                        "action_id": "deals_page:next",
                        "value": "10",
                        "block_id": "b",
                    }
                ],
            }
            bodies.append(
                (
                    urlencode({"payload": json.dumps(payload)}).encode(),
                    "application/x-www-form-urlencoded",
                )
            )
    return bodies


async def drive(
    name: str, url: str, bodies: list[tuple[bytes, str]], concurrency: int, pid: int
) -> Result:
    """Send every body with `concurrency` clients; record each request's latency."""
    latencies: list[float] = []
    errors = 0
    queue = iter(bodies)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def client() -> None:
            nonlocal errors
            for body, content_type in queue:
                headers = {"Content-Type": content_type, **sign(body, secret=SIGNING_SECRET)}
                started = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - started)

        started, cpu_before = time.perf_counter(), cpu_seconds(pid)
        await asyncio.gather(*(client() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        return Result(name, latencies, elapsed, errors, cpu_seconds(pid) - cpu_before)


async def drive_at_rate(
    name: str, url: str, bodies: list[tuple[bytes, str]], rate: float, pid: int
) -> Result:
    """Open loop: start one request every 1/rate s whatever the answers; record latencies."""
    latencies: list[float] = []
    errors = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def one(body: bytes, content_type: str) -> None:
            nonlocal errors
            headers = {"Content-Type": content_type, **sign(body, secret=SIGNING_SECRET)}
            started = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                errors += response.status != 200
            latencies.append(time.perf_counter() - started)

        started, cpu_before = time.perf_counter(), cpu_seconds(pid)
        tasks = []
        for n, (body, content_type) in enumerate(bodies):
            await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
            tasks.append(asyncio.create_task(one(body, content_type)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
        return Result(name, latencies, elapsed, errors, cpu_seconds(pid) - cpu_before)


async def wait_healthy(url: str, process: asyncio.subprocess.Process, path: str) -> None:
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"server exited with {process.returncode}")
            try:
                async with session.request(
                    "GET" if path == "/healthz" else "POST", url + path
                ) as r:
                    if r.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


@asynccontextmanager
async def server(
    command: list[str], env: dict[str, str], port: int, probe: str
) -> AsyncIterator[tuple[str, int]]:
    process = await asyncio.create_subprocess_exec(
        *command,
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_healthy(url, process, probe)
        yield url, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 20)
        except TimeoutError:
            process.kill()


async def prepare_database(url: str, env: dict[str, str], workdir: Path) -> None:
    """Migrate, import 20 partners x 5 people (the real CLI), give each partner 25 deals."""
    (workdir / "program.csv").write_text(PROGRAM_CSV)
    importer = await asyncio.create_subprocess_exec(
        PARTNERBOT,
        "partners",
        "import",
        str(workdir / "program.csv"),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await importer.communicate()
    if importer.returncode != 0:
        raise RuntimeError(f"partners import failed: {stderr.decode()}")
    db = Database(url)
    async with db.session() as session:
        for p in range(20):
            await add_registrations(session, f"Partner {p}", 25)
    await db.dispose()


async def run(requests: int, concurrency: int, worker_counts: list[int], rate: float) -> int:
    slack = SlackStandIn().start()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERBOT_")}
    slack_env = base_env | {
        "PARTNERBOT_SLACK_BOT_TOKEN": VALID_TOKEN,
        "PARTNERBOT_SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "PARTNERBOT_SLACK_API_URL": slack.api_url,
        "PARTNERBOT_LOG_LEVEL": "WARNING",
    }
    bodies = payloads(requests, slack.response_url("bench"))
    warmup = payloads(200, slack.response_url("bench"))
    workdir = Path(tempfile.mkdtemp(prefix="partnerbot-bench-"))
    postgres = await PostgresServer().start()
    results: list[Result] = []
    open_loop: list[Result] = []
    try:
        port = free_port()
        bare_cmd = [
            sys.executable,
            str(ROOT / "bench" / "bare_bolt.py"),
            "--port",
            str(port),
            "--api-url",
            slack.api_url,
            "--token",
            VALID_TOKEN,
            "--secret",
            SIGNING_SECRET,
        ]
        async with server(bare_cmd, base_env, port, "/slack/events") as (url, pid):
            await drive("warm-up", url + "/slack/events", warmup, concurrency, pid)
            bare = await drive(
                "bare Bolt app (ack only)", url + "/slack/events", bodies, concurrency, pid
            )
        databases = [
            ("SQLite", f"sqlite:///{workdir}/bench.db"),
            ("PostgreSQL", await postgres.create_database()),
        ]
        for backend, db_url in databases:
            env = slack_env | {"PARTNERBOT_DATABASE_URL": db_url}
            await prepare_database(db_url, env, workdir)
            for workers in worker_counts:
                port = free_port()
                command = [PARTNERBOT, "serve", "--port", str(port), "--workers", str(workers)]
                async with server(command, env, port, "/healthz") as (url, pid):
                    await drive("warm-up", url + "/slack/events", warmup, concurrency, pid)
                    name = f"partnerbot serve ({backend}, {workers}w)"
                    ours = await drive(name, url + "/slack/events", bodies, concurrency, pid)
                    results.append(ours)
                    if workers == 1:
                        name = f"{backend}, 1w, {rate:.0f} req/s"
                        paced = bodies[: int(rate * 10)]
                        open_loop.append(
                            await drive_at_rate(name, url + "/slack/events", paced, rate, pid)
                        )
    finally:
        await postgres.stop()
        slack.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    print(
        f"\n{requests} requests (half /deals commands, half Next-page clicks), {concurrency} concurrent clients"
    )
    print(
        f"{'target':<30} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>9} {'server CPU':>10} {'non-200':>7}"
    )
    print(f"{'':<30} {'':>8} {'':>8} {'':>9} {'ms/request':>10}")
    print(bare.row())
    ok = bare.errors == 0
    for ours in results:
        print(ours.row())
    print()
    for ours in results:
        share = ours.rps / bare.rps
        verdict = (
            "meets" if ours.pct(0.99) < 100 and share >= 0.70 and ours.errors == 0 else "MISSES"
        )
        ok &= verdict == "meets"
        print(
            f"{ours.name}: p99 {ours.pct(0.99):.1f} ms (target < 100), throughput {share:.0%} of bare "
            f"(target >= 70%), mean {statistics.mean(ours.latencies) * 1000:.1f} ms: {verdict} the targets"
        )
    print(
        f"\nOpen loop, {rate:.0f} requests/s for 10 s (a busy program's real traffic is far lower):"
    )
    for paced in open_loop:
        print(paced.row())
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--workers", default="1,2", help="serve --workers values to try, e.g. 1,2")
    parser.add_argument("--rate", type=float, default=100, help="open-loop requests per second")
    args = parser.parse_args()
    worker_counts = [int(n) for n in args.workers.split(",")]
    sys.exit(asyncio.run(run(args.requests, args.concurrency, worker_counts, args.rate)))


if __name__ == "__main__":
    main()

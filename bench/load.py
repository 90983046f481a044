"""``python -m bench load``: the real ``paperbot run`` process under a steady stream of interactions.

The bench process hosts the loopback Discord emulator and sends interactions open-loop (at the
chosen rate whatever the bot answers, as Discord does), over a copy of the cached n-paper
database. Optionally members also follow and unfollow keywords (writes), and a CLI ingest of new
papers runs in another process meanwhile. Latency is measured where Discord measures it: from
the interaction's creation to the bot's callback arriving at the emulator, which refuses
callbacks after 3 s (counted as late). A second probe asks the bot for a gateway heartbeat
(op 1) twice a second and times the answer: a starved event loop shows there first.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from bench import cache, workload
from bench.corpus import arxiv_id
from bot.domain.admission import BUSY_MESSAGE
from bot.sandbox.emulator import DiscordEmulator, InteractionRecord
from bot.sandbox.model import Channel, User
from bot.sandbox.rest import RESPONSE_DEADLINE

PROBE_EVERY = 0.5  # seconds between gateway heartbeat probes

# Today's figures from issue 12 (before this work), same machine, same mix, 100k papers.
BASELINE = (
    ("50/s for 60 s", "11 ms", "66 ms", "0", "-"),
    ("50/s + a 50k-paper CLI ingest", "17 ms", "138 ms", "0", "-"),
    ("100/s for 30 s", "29 ms", "363 ms", "0", "-"),
    ("125/s for 30 s", "33 ms", "436 ms", "0", "-"),
    ("200/s for 30 s", "26-74 s", "72-102 s", "4,750-5,053 of ~5,900", "386 MB"),
)


class LoadEmulator(DiscordEmulator):
    """The emulator plus what a load test needs: the time each interaction's callback arrived, and a
    gateway heartbeat probe."""

    def __init__(self) -> None:
        super().__init__()
        self.answered: dict[str, float] = {}  # interaction token -> loop time of its callback
        self._probe: asyncio.Future[None] | None = None

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        response = await super()._middleware(request, handler)
        if request.path.endswith("/callback") and response.status < 300:
            token = request.path.split("/")[-2]
            self.answered.setdefault(token, asyncio.get_running_loop().time())
        return response

    async def heartbeat_round_trip(self, wait: float = 30.0) -> float:
        """Ask the bot for a heartbeat now (op 1, as Discord may) and time its answer."""
        loop = asyncio.get_running_loop()
        self._probe = loop.create_future()
        started = loop.time()
        await self._sockets[0].send_str(json.dumps({"op": 1, "d": None}))
        try:
            await asyncio.wait_for(self._probe, wait)
        except TimeoutError:
            return wait
        return loop.time() - started

    async def _gateway_op(self, socket: web.WebSocketResponse, frame: dict[str, Any]) -> None:
        if frame.get("op") == 1 and self._probe is not None and not self._probe.done():
            self._probe.set_result(None)
        await super()._gateway_op(socket, frame)

    def forget_requests(self) -> None:
        """The request log is for tests; a long load run would only hold on to memory with it."""
        self.requests.clear()


@dataclass
class Sent:
    kind: str
    record: InteractionRecord


@dataclass
class Outcome:
    label: str
    sent: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    late: int = 0
    unanswered: int = 0
    busy: int = 0
    deferred: int = 0
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    heartbeat_ms: list[float] = field(default_factory=list)
    rss_mb: float = 0.0
    peak_rss_mb: float = 0.0
    behind_warnings: int = 0
    ingest: str = ""
    bot_cpu_seconds: float = 0.0  # the bot's CPU time while the load ran (all its threads)

    @staticmethod
    def percentile(values: list[float], fraction: float) -> float:
        if not values:
            return float("nan")
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def parse_mix(text: str) -> dict[str, float]:
    mix = {}
    for part in text.split(","):
        name, _, weight = part.partition("=")
        if name.strip() not in ("search", "autocomplete", "random", "show"):
            raise ValueError(f"unknown interaction kind {name!r} in the mix")
        mix[name.strip()] = float(weight)
    return mix


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far: unlike latency, steady on a
    machine that other work shares."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tree_rss_kb(pid: int) -> tuple[int, int]:
    """(RSS, peak RSS) in kB of a process and all its descendants (a process pool counts too)."""
    rss = peak = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = dict(
                line.split(":", 1) for line in Path(f"/proc/{current}/status").read_text().splitlines()
            )
            rss += int(fields["VmRSS"].split()[0])
            peak += int(fields["VmHWM"].split()[0])
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, KeyError):
            continue
    return rss, peak


class Workload:
    """Chooses each interaction: the mix of reads, plus follow add/remove writes if asked."""

    def __init__(
        self,
        emu: LoadEmulator,
        channel: Channel,
        members: list[User],
        n: int,
        mix: dict[str, float],
        writes: float,
    ) -> None:
        self.emu, self.channel, self.members, self.n = emu, channel, members, n
        self.rng = random.Random(17)
        total = sum(mix.values())
        self.kinds = [*mix, "follow"]
        self.weights = [w / total * (1 - writes) for w in mix.values()] + [writes]
        self.queries = workload.queries(self.rng, 2000)
        self.prefixes = workload.typed_prefixes(self.rng, 2000)
        self.keywords = workload.follows(self.rng, 2000)
        self.followed: dict[int, list[str]] = {}

    def send(self) -> Sent:
        kind = self.rng.choices(self.kinds, self.weights)[0]
        member = self.rng.choice(self.members)
        emu, channel = self.emu, self.channel
        if kind == "search":
            record = emu.send_slash(
                member, channel, "papers search", query=self.rng.choice(self.queries)[:200]
            )
        elif kind == "autocomplete":
            record = emu.send_autocomplete(
                member, channel, "papers show", "paper", self.rng.choice(self.prefixes)
            )
        elif kind == "random":
            topic = self.rng.choice(self.queries).split()[0].strip('"') if self.rng.random() < 0.5 else None
            record = emu.send_slash(member, channel, "papers random", **({"topic": topic} if topic else {}))
        elif kind == "show":
            record = emu.send_slash(
                member, channel, "papers show", paper=arxiv_id(self.rng.randrange(self.n))
            )
        else:
            mine = self.followed.setdefault(member.id, [])
            if mine and (len(mine) >= 20 or self.rng.random() < 0.5):
                keyword = mine.pop(self.rng.randrange(len(mine)))
                record = emu.send_slash(member, channel, "follow remove", keyword=keyword)
                kind = "follow remove"
            else:
                keyword = self.rng.choice(self.keywords)[:100]
                mine.append(keyword)
                record = emu.send_slash(member, channel, "follow add", keyword=keyword)
                kind = "follow add"
        return Sent(kind, record)


def bot_env(emu: DiscordEmulator, db: Path, readers: int | None = None) -> dict[str, str]:
    """The environment every benchmark starts the real bot with: the emulator, the store, no live source."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERBOT_", "DISCORD_"))}
    env |= {
        "DISCORD_TOKEN": "bench-token",
        "DISCORD_API_BASE": emu.api_base,
        "DISCORD_GATEWAY_URL": emu.gateway_url,
        "PAPERBOT_DB": str(db),
        "PAPERBOT_SOURCES__HF_API_URL": "http://127.0.0.1:9/none",
        "PAPERBOT_FOLLOWS__DM_INTERVAL_SECONDS": "0",
        "PYTHONUNBUFFERED": "1",
    }
    if readers is not None:
        env["PAPERBOT_SEARCH__READERS"] = str(readers)
    return env


async def _cli_ingest(env: dict[str, str], path: Path, delay: float, report: list[str]) -> None:
    await asyncio.sleep(delay)
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "ingest",
        str(path),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    output, _ = await process.communicate()
    took = time.perf_counter() - started
    last = output.decode(errors="replace").strip().splitlines()[-1:] or ["(no output)"]
    report.append(
        f"CLI ingest started at +{delay:.0f} s, exit {process.returncode} after {took:.1f} s: {last[0]}"
    )


async def run(
    *,
    n: int,
    rate: float,
    duration: float,
    mix: dict[str, float],
    writes: float,
    ingest: int,
    profile: Path | None,
    readers: int | None = None,
    members: int = 200,
) -> Outcome:
    source = await cache.database(n)
    ingest_file = cache.hf_api_file(ingest, after=n) if ingest else None
    label = (
        f"{rate:g}/s for {duration:g} s"
        + (f" + {writes:.0%} follow writes" if writes else "")
        + (f" + a {ingest // 1000}k-paper CLI ingest" if ingest else "")
    )
    if readers is not None:
        label += f" ({readers} reader{'s' if readers > 1 else ''})"
    outcome = Outcome(label)
    workdir = Path(tempfile.mkdtemp(prefix="load-", dir=cache.CACHE))
    db = workdir / "bot.db"
    shutil.copy(source, db)
    emu = await LoadEmulator().start()
    guild = emu.create_guild("Load")
    channel = emu.create_channel(guild, "papers")
    people = [emu.add_member(guild, f"member{i}") for i in range(members)]
    env = bot_env(emu, db, readers)
    log_file = (workdir / "bot.log").open("wb")
    sync = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "sync", env=env, stdout=log_file, stderr=log_file
    )
    await sync.wait()
    bot = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, stdout=log_file, stderr=log_file
    )
    spy: asyncio.subprocess.Process | None = None
    try:
        await emu.wait_for(emu.identified.is_set, wait=180)
        await emu.slash(people[0], channel, "papers search", query="diffusion", wait=60)  # warm-up
        if profile is not None:
            spy = await _start_profiler(bot.pid, profile)
        load = Workload(emu, channel, people, n, mix, writes)
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        peak = [0, 0]

        async def probe() -> None:
            while not stop.is_set():
                outcome.heartbeat_ms.append(await emu.heartbeat_round_trip() * 1000)
                rss, hwm = _tree_rss_kb(bot.pid)
                peak[0], peak[1] = max(peak[0], rss), max(peak[1], hwm)
                await asyncio.sleep(PROBE_EVERY)

        ingest_report: list[str] = []
        side = [asyncio.create_task(probe())]
        if ingest_file is not None:
            side.append(
                asyncio.create_task(_cli_ingest(env, ingest_file, min(5.0, duration / 4), ingest_report))
            )
        sent: list[Sent] = []
        total = int(rate * duration)
        cpu_before = _cpu_seconds(bot.pid)
        started = loop.time()
        for i in range(total):
            delay = started + i / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            sent.append(load.send())
            if i % 500 == 0:
                emu.forget_requests()
        outcome.seconds = loop.time() - started
        await asyncio.sleep(RESPONSE_DEADLINE + 2)  # whatever is still unanswered now is late or lost
        outcome.bot_cpu_seconds = _cpu_seconds(bot.pid) - cpu_before
        stop.set()
        if ingest_file is not None:
            await side[1]
            outcome.ingest = ingest_report[0]
        await side[0]
        outcome.sent = len(sent)
        rss, hwm = _tree_rss_kb(bot.pid)
        outcome.rss_mb, outcome.peak_rss_mb = rss / 1000, max(hwm, peak[1]) / 1000
        _tally(emu, sent, outcome)
    finally:
        if spy is not None and spy.returncode is None:
            spy.send_signal(signal.SIGINT)
            await spy.wait()
        if bot.returncode is None:
            bot.terminate()
            await bot.wait()
        await emu.stop()
        log_file.close()
    text = (workdir / "bot.log").read_text(errors="replace")
    outcome.behind_warnings = text.count("websocket is")
    shutil.rmtree(workdir)
    return outcome


def _tally(emu: LoadEmulator, sent: list[Sent], outcome: Outcome) -> None:
    for item in sent:
        record = item.record
        answered = emu.answered.get(record.token)
        if answered is None:
            if record.late:
                outcome.late += 1
            else:
                outcome.unanswered += 1
            continue
        if record.callback_type == 5:
            outcome.deferred += 1
        content = str((record.response or {}).get("content") or "")
        busy_choices = record.type == 4 and not record.choices  # the bot's busy answer to autocomplete
        if busy_choices or (record.ephemeral and content == BUSY_MESSAGE):
            outcome.busy += 1
            continue
        latency = (answered - record.created) * 1000
        outcome.latencies_ms.append(latency)
        outcome.by_kind.setdefault(item.kind, []).append(latency)


def _py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return shutil.which("py-spy") or (str(beside) if beside.exists() else None)


async def _start_profiler(pid: int, path: Path) -> asyncio.subprocess.Process | None:
    spy = _py_spy()
    if spy is None:
        print("py-spy is not installed (make test sets it up): running without a profile")
        return None
    return await asyncio.create_subprocess_exec(
        spy,
        "record",
        "--pid",
        str(pid),
        "--subprocesses",
        "--format",
        "raw",
        "--rate",
        "200",
        "--output",
        str(path),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


def report(outcome: Outcome) -> None:
    pct = Outcome.percentile
    lat = outcome.latencies_ms
    hb = outcome.heartbeat_ms
    print(
        f"\n{outcome.label}: sent {outcome.sent:,} in {outcome.seconds:.1f} s "
        f"({outcome.sent / max(outcome.seconds, 1e-9):.0f}/s achieved by the sender)"
    )
    print(
        f"  answered in time: {len(lat):,}  p50 {pct(lat, 0.5):.0f} ms  p99 {pct(lat, 0.99):.0f} ms  "
        f"max {max(lat, default=float('nan')):.0f} ms"
    )
    print(
        f"  busy (quick private answer; empty choices for autocomplete): {outcome.busy:,}  "
        f"deferred: {outcome.deferred:,}  "
        f"answered after 3 s (refused as late): {outcome.late:,}  never answered: {outcome.unanswered:,}"
    )
    kinds = Counter({kind: len(v) for kind, v in outcome.by_kind.items()})
    per_kind = ", ".join(
        f"{k} {c:,} (p99 {pct(outcome.by_kind[k], 0.99):.0f} ms)" for k, c in kinds.most_common()
    )
    print(f"  by kind: {per_kind}")
    print(
        f"  gateway heartbeat round trip: p50 {pct(hb, 0.5):.0f} ms  p99 {pct(hb, 0.99):.0f} ms  "
        f"max {max(hb, default=float('nan')):.0f} ms over {len(hb)} probes; "
        f"'websocket is behind' warnings: {outcome.behind_warnings}"
    )
    print(f"  bot RSS at the end {outcome.rss_mb:.0f} MB, peak {outcome.peak_rss_mb:.0f} MB (process tree)")
    answered = len(lat) + outcome.busy
    print(
        f"  bot CPU {outcome.bot_cpu_seconds:.1f} s over the run: "
        f"{outcome.bot_cpu_seconds * 1000 / max(answered, 1):.1f} ms per interaction answered "
        f"({answered:,}, busy answers included; the refresh after another process's ingest counts too)"
    )
    if outcome.ingest:
        print(f"  {outcome.ingest}")


def table(outcomes: list[Outcome]) -> None:
    print("\n| load | p50 | p99 | answered after Discord's 3 s deadline | RSS |")
    print("|---|---|---|---|---|")
    for row in BASELINE:
        print("| today: " + " | ".join(row) + " |")
    for o in outcomes:
        lat = o.latencies_ms
        late = f"{o.late + o.unanswered:,} of {o.sent:,}" + (f" (+{o.busy:,} busy)" if o.busy else "")
        p50, p99 = Outcome.percentile(lat, 0.5), Outcome.percentile(lat, 0.99)
        print(f"| new: {o.label} | {p50:.0f} ms | {p99:.0f} ms | {late} | {o.peak_rss_mb:.0f} MB |")

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
import gc
import itertools
import json
import os
import random
import re
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
from bot.loop_watch import STALL_SECONDS, LoopWatch, Stall
from bot.sandbox.emulator import DiscordEmulator, InteractionRecord
from bot.sandbox.model import RESPONSE_DEADLINE, Channel, User

# Seconds between gateway heartbeat probes. The bot answers each probe (op 1) with a heartbeat that
# discord.py sends through its gateway rate limiter (110 frames a minute): probing twice a second
# used it up 55 s into a run, and while the limiter waited the bot's gateway reader waited too, so
# every interaction behind it arrived seconds old (the "5.7 s stall" of 60 s runs). Once a second
# leaves half the budget to the bot.
PROBE_EVERY = 1.0
GATEWAY_RATE_LIMITED = "is ratelimited"  # discord.py's warning when its gateway sends must wait

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
    bot_cpu_s: float = 0.0  # CPU seconds the bot used from the first interaction to the end of the run
    bot_loop_cpu_s: float = 0.0  # ... of which its event loop's thread (one core at most)
    bench_cpu_s: float = 0.0  # ... and this process: the emulator and the load generator
    load_average: float = 0.0  # the machine's, at the end: how much else competed for the cores
    behind_warnings: int = 0
    gateway_waits: int = 0  # times discord.py held the bot's gateway sends back (its rate limiter)
    stalls: list[float] = field(default_factory=list)  # event-loop stalls the bot logged, seconds
    longest_stall: str = ""  # the bot's own report of its longest stall (where the loop was)
    gc_pauses: str = ""  # the bot's garbage-collection pause summary, logged as it stopped
    bench_stalls: list[Stall] = field(default_factory=list)  # this process's (emulator, load generator)
    ingest: str = ""
    wal_mb: list[float] = field(default_factory=list)  # the store's write-ahead log, once a probe
    # (phase, bot CPU seconds, interactions sent, served in time) while the CLI ingest ran and after
    phases: list[tuple[str, float, int, int]] = field(default_factory=list)

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


def _tree_pids(pid: int) -> list[int]:
    """A process and all its descendants."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return found


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system, every thread) used so far by a process and its descendants."""
    ticks = 0
    for current in _tree_pids(pid):
        try:
            # Fields after the command name (which may hold spaces): utime and stime are 14th and 15th.
            stat = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        ticks += int(stat[11]) + int(stat[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _file_mb(path: Path) -> float:
    try:
        return path.stat().st_size / 1e6
    except FileNotFoundError:
        return 0.0


def thread_cpu_seconds(pid: int, tid: int | None = None) -> float:
    """CPU seconds of one thread (default: the main thread, where the bot's event loop runs). The
    loop is the part that cannot spread over cores, so its share says how close the bot is to its
    ceiling whatever else the machine runs."""
    try:
        stat = Path(f"/proc/{pid}/task/{tid or pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


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


def bot_env(
    emu: DiscordEmulator, db: Path, readers: int | None = None, answer_cache: int | None = None
) -> dict[str, str]:
    """The environment every benchmark starts the real bot with: the emulator, the store, no live source."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERBOT_", "DISCORD_"))}
    env |= {
        "DISCORD_TOKEN": emu.token,
        "DISCORD_API_BASE": emu.api_base,
        "DISCORD_GATEWAY_URL": emu.gateway_url,
        "PAPERBOT_DB": str(db),
        "PAPERBOT_SOURCES__HF_API_URL": "http://127.0.0.1:9/none",
        "PAPERBOT_FOLLOWS__DM_INTERVAL_SECONDS": "0",
        "PYTHONUNBUFFERED": "1",
    }
    if readers is not None:
        env["PAPERBOT_SEARCH__READERS"] = str(readers)
    if answer_cache is not None:
        env["PAPERBOT_SEARCH__ANSWER_CACHE"] = str(answer_cache)
    return env


async def _cli_ingest(
    env: dict[str, str], path: Path, delay: float, report: list[str], window: list[float]
) -> None:
    await asyncio.sleep(delay)
    started = time.perf_counter()
    window.append(asyncio.get_running_loop().time())
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
    window.append(asyncio.get_running_loop().time())
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
    answer_cache: int | None = None,
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
    if answer_cache == 0:
        label += " (no answer cache)"
    outcome = Outcome(label)
    workdir = Path(tempfile.mkdtemp(prefix="load-", dir=cache.CACHE))
    db = workdir / "bot.db"
    shutil.copy(source, db)
    # The emulator and the load generator share this process's loop: its stalls delay interactions
    # before the bot sees them, so they are reported apart from the bot's.
    own_stalls: list[Stall] = []
    watch = LoopWatch(report=own_stalls.append)
    watch.start()
    emu = await LoadEmulator().start()
    guild = emu.create_guild("Load")
    channel = emu.create_channel(guild, "papers")
    people = [emu.add_member(guild, f"member{i}") for i in range(members)]
    env = bot_env(emu, db, readers, answer_cache)
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
                outcome.wal_mb.append(_file_mb(wal))
                cpu_samples.append((loop.time(), tree_cpu_seconds(bot.pid)))
                await asyncio.sleep(PROBE_EVERY)

        wal = db.with_name(db.name + "-wal")
        cpu_samples: list[tuple[float, float]] = []  # (loop time, bot CPU seconds), once a probe
        ingest_window: list[float] = []  # loop times the CLI ingest started and ended
        ingest_report: list[str] = []
        side = [asyncio.create_task(probe())]
        if ingest_file is not None:
            side.append(
                asyncio.create_task(
                    _cli_ingest(env, ingest_file, min(5.0, duration / 4), ingest_report, ingest_window)
                )
            )
        sent: list[Sent] = []
        total = int(rate * duration)
        # The harness keeps a record of every interaction it sent; its full garbage collections
        # walked them all (0.7-1 s at 300/s), stalling the emulator's loop, so interactions reached
        # the bot late and answers were timed late for a pause of ours, not the bot's (Discord does
        # not pause). The harness does no cyclic collection while it sends (reference counting
        # still frees what it drops); the bot's own collections are untouched.
        gc.collect()
        gc.disable()
        bot_cpu, own_cpu = tree_cpu_seconds(bot.pid), time.process_time()
        loop_cpu = thread_cpu_seconds(bot.pid)
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
        outcome.bot_cpu_s = tree_cpu_seconds(bot.pid) - bot_cpu
        outcome.bot_loop_cpu_s = thread_cpu_seconds(bot.pid) - loop_cpu
        outcome.bench_cpu_s = time.process_time() - own_cpu
        outcome.load_average = os.getloadavg()[0]
        stop.set()
        if ingest_file is not None:
            await side[1]
            outcome.ingest = ingest_report[0]
        await side[0]
        outcome.sent = len(sent)
        rss, hwm = _tree_rss_kb(bot.pid)
        outcome.rss_mb, outcome.peak_rss_mb = rss / 1000, max(hwm, peak[1]) / 1000
        _tally(emu, sent, outcome)
        if len(ingest_window) == 2:
            end = started + outcome.seconds
            outcome.phases = _phases(emu, sent, cpu_samples, ingest_window, started, end)
    finally:
        gc.enable()
        if spy is not None and spy.returncode is None:
            spy.send_signal(signal.SIGINT)
            await spy.wait()
        if bot.returncode is None:
            bot.terminate()
            await bot.wait()
        await emu.stop()
        watch.stop()
        log_file.close()
    outcome.bench_stalls = own_stalls
    text = (workdir / "bot.log").read_text(errors="replace")
    outcome.behind_warnings = text.count("websocket is")
    outcome.gateway_waits = text.count(GATEWAY_RATE_LIMITED)
    outcome.stalls, outcome.longest_stall = stalls_logged(text)
    outcome.gc_pauses = gc_pauses_logged(text)
    shutil.rmtree(workdir)
    return outcome


STALL_LINE = re.compile(r"event loop stalled for (\d+\.\d+) s")


def stalls_logged(log_text: str) -> tuple[list[float], str]:
    """The loop stalls the bot logged (bot/loop_watch.py), and the full report of the longest."""
    stalls: list[float] = []
    longest = ""
    lines = log_text.splitlines()
    for index, line in enumerate(lines):
        match = STALL_LINE.search(line)
        if match is None:
            continue
        seconds = float(match[1])
        if seconds > max(stalls, default=0.0):
            following = itertools.takewhile(
                lambda text: text.startswith(("  ", "seen", "garbage")), lines[index + 1 :]
            )
            longest = "\n".join([line, *following])
        stalls.append(seconds)
    return stalls, longest


def gc_pauses_logged(log_text: str) -> str:
    """The garbage-collection pause summary the bot logged as it stopped (bot/loop_watch.py)."""
    lines = log_text.splitlines()
    for index, line in enumerate(lines):
        if line.endswith("garbage collection pauses:"):
            following = itertools.takewhile(lambda text: text.startswith("  generation"), lines[index + 1 :])
            return "\n".join(["garbage collection pauses:", *following])
    return ""


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


def _phases(
    emu: LoadEmulator,
    sent: list[Sent],
    cpu_samples: list[tuple[float, float]],
    ingest: list[float],
    started: float,
    ended: float,
) -> list[tuple[str, float, int, int]]:
    """The bot's CPU and the interactions sent while the CLI ingest ran and while it did not
    (within the sending period, at probe resolution): what the ingest adds per interaction."""

    def cpu_at(moment: float) -> float:
        return next((cpu for at, cpu in cpu_samples if at >= moment), cpu_samples[-1][1])

    def tally(first: float, last: float) -> tuple[float, int, int]:
        inside = [s for s in sent if first <= s.record.created < last]
        served = sum(1 for s in inside if _served_in_time(emu, s.record))
        return max(0.0, cpu_at(last) - cpu_at(first)), len(inside), served

    if not cpu_samples:
        return []
    begin, end = max(ingest[0], started), min(ingest[1], ended)
    phases = [("during the CLI ingest", *tally(begin, end))]
    before, after = tally(started, begin), tally(end, ended)
    phases.append(("without it", before[0] + after[0], before[1] + after[1], before[2] + after[2]))
    return phases


def _served_in_time(emu: LoadEmulator, record: InteractionRecord) -> bool:
    if emu.answered.get(record.token) is None:
        return False
    content = str((record.response or {}).get("content") or "")
    busy_choices = record.type == 4 and not record.choices
    return not (busy_choices or (record.ephemeral and content == BUSY_MESSAGE))


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
        f"'websocket is behind' warnings: {outcome.behind_warnings}; "
        f"gateway sends held back by discord.py's rate limiter: {outcome.gateway_waits}"
    )
    stalls = outcome.stalls
    print(
        f"  event-loop stalls over {STALL_SECONDS} s logged by the bot: {len(stalls)}"
        + (f", longest {max(stalls):.2f} s:\n{outcome.longest_stall}" if stalls else "")
    )
    own = outcome.bench_stalls
    longest_own = max(own, key=lambda stall: stall.seconds, default=None)
    print(
        f"  event-loop stalls of the emulator and load generator (this process): {len(own)}"
        + (f", longest:\n{longest_own.describe()}" if longest_own else "")
    )
    if outcome.gc_pauses:
        print("  the bot's " + outcome.gc_pauses.replace("\n", "\n  "))
    print(f"  bot RSS at the end {outcome.rss_mb:.0f} MB, peak {outcome.peak_rss_mb:.0f} MB (process tree)")
    served = len(lat)
    print(
        f"  CPU seconds over the run: bot {outcome.bot_cpu_s:.1f} s "
        f"({outcome.bot_cpu_s * 1000 / max(outcome.sent, 1):.2f} ms per interaction received, "
        f"{outcome.bot_cpu_s * 1000 / max(served, 1):.2f} ms per interaction served; its event loop "
        f"{outcome.bot_loop_cpu_s:.1f} s, {outcome.bot_loop_cpu_s * 1000 / max(outcome.sent, 1):.2f} ms per "
        "interaction received), "
        f"emulator + load generator {outcome.bench_cpu_s:.1f} s; "
        f"{os.cpu_count()} cores, load average {outcome.load_average:.1f} at the end"
    )
    if outcome.ingest:
        print(f"  {outcome.ingest}")
    for phase, cpu, received, served in outcome.phases:
        print(
            f"  bot CPU {phase}: {cpu:.1f} s for {received:,} interactions "
            f"({cpu * 1000 / max(received, 1):.2f} ms per received, {cpu * 1000 / max(served, 1):.2f} ms "
            f"per served; {served:,} served in time)"
        )
    if outcome.wal_mb:
        # A write-ahead log that keeps growing means checkpoints cannot reset it (readers always in
        # it): every page a reader looks up then searches a longer WAL index.
        print(
            f"  write-ahead log: peak {max(outcome.wal_mb):.0f} MB, at the end {outcome.wal_mb[-1]:.0f} MB "
            f"(sampled once a probe)"
        )


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

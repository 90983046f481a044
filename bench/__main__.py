"""Benchmarks with printed figures: ``python -m bench {ingest,search,search-quality,similar,...,all}``.

Databases are cached under bench/.cache/ per corpus size, so search figures do not pay for
ingest again. Nothing here is asserted: these are measurements.
"""

from __future__ import annotations

import asyncio
import random
import resource
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Annotated

import typer

from bench import cache, workload
from bench.cache import CACHE, database, rss_mb
from bench.corpus import generate
from bot.services.papers import PaperService
from bot.storage.database import Database
from bot.storage.papers import PaperRepository
from bot.storage.postgres import PostgresDatabase, redacted

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
N = Annotated[int, typer.Option("--n", help="Corpus size (papers).")]
Backend = Annotated[
    str, typer.Option("--backend", help="sqlite, or postgres (--database-url, else an embedded server).")
]
DatabaseUrl = Annotated[
    str | None, typer.Option("--database-url", help="A PostgreSQL server to measure (implies postgres).")
]


def _postgres(backend: str, url: str | None) -> str | None:
    """The PostgreSQL server URL when the run is on PostgreSQL, else None."""
    if url is None and backend == "sqlite":
        return None
    from bench.postgres import server_url

    return server_url(url)


def _percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def _latency(
    label: str,
    n: int,
    inputs: list[str],
    call: Callable[[str], Awaitable[object]],
    server_cpu: Callable[[], float | None] | None = None,
    classes: Sequence[str] = (),
) -> tuple[list[float], list[float]]:
    """``classes``: a name per input's kind, repeating (the workload's mix); the CPU of each is
    printed too, and the slowest inputs (on a loaded machine, CPU says which queries cost).
    Returns each call's wall and server CPU milliseconds."""
    times, server_times, cpus = [], [], []
    used = time.process_time()
    for text in inputs:
        server_before = server_cpu() if server_cpu else None
        started, cpu_started = time.perf_counter(), time.process_time()
        await call(text)
        times.append((time.perf_counter() - started) * 1000)
        cpus.append((time.process_time() - cpu_started) * 1000)
        server_after = server_cpu() if server_cpu else None
        if server_before is not None and server_after is not None:
            server_times.append((server_after - server_before) * 1000)
    # CPU of every thread of the process (SQLite's too): on a shared machine, what the work costs.
    cpu = (time.process_time() - used) * 1000 / max(1, len(inputs))
    p50, p99 = _percentiles(times)
    print(
        f"{label} n={n:,}: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(times):.1f} ms, "
        f"CPU {cpu:.1f} ms a query over {len(times)} queries; RSS {rss_mb():.0f} MB"
    )
    for index, name in enumerate(classes):
        spent = sorted(cpus[index :: len(classes)])
        if spent:
            print(
                f"  {name}: CPU mean {statistics.fmean(spent):.1f}, p90 {spent[int(len(spent) * 0.9)]:.1f}, "
                f"max {spent[-1]:.1f} ms"
            )
    if classes:
        slowest = sorted(zip(cpus, inputs, strict=True), reverse=True)[:5]
        print("  slowest (CPU ms): " + "; ".join(f"{text!r} {spent:.0f}" for spent, text in slowest))
    if server_times:  # PostgreSQL does the searching: its CPU a query, steadier than wall time
        server_p50, server_p99 = _percentiles(server_times)
        print(
            f"{label} n={n:,}: PostgreSQL server CPU a query p50 {server_p50:.1f} ms, "
            f"p99 {server_p99:.1f} ms, mean {statistics.fmean(server_times):.1f} ms"
        )
    return times, server_times


async def _search(
    n: int,
    queries: int,
    cold: bool,
    postgres: str | None,
    server_cpu: Callable[[], float | None] | None = None,
    readers: int = 1,
    prewarm: bool = False,
) -> None:
    if postgres is not None:
        await _search_postgres(n, queries, cold, postgres, embedded=server_cpu is not None, prewarm=prewarm)
        return
    db = await Database.open(await database(n), readers=readers)
    service = PaperService(db)
    await service.start()
    await _search_rounds(service, n, queries, cold)
    await db.close()


async def _search_rounds(
    service: PaperService,
    n: int,
    queries: int,
    cold: bool,
    server_cpu: Callable[[], float | None] | None = None,
    searched: list[int] | None = None,
) -> tuple[list[float], list[float]]:
    """The bench's searches, then its autocomplete prefixes, the same ones in every round
    (``searched``: its one number counts the searches answered so far). Returns the searches'
    wall and server CPU milliseconds."""
    rng = random.Random(11)

    async def search(text: str) -> object:
        service.search.forget_answers()  # measure the work: the bot answers a repeated search from memory
        found = await service.search.search(text, limit=10)
        if searched is not None:
            searched[0] += 1
        return found

    inputs = workload.queries(rng, queries)
    searches = await _latency("search", n, inputs, search, server_cpu, workload.QUERY_CLASSES)

    async def suggest(text: str) -> object:
        if cold:
            service.search.forget_answers()  # measure the work, not the cache
        return await service.search.suggest(text)

    await _latency("autocomplete", n, workload.typed_prefixes(rng, queries), suggest, server_cpu)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1000
    print(f"process with n={n:,} loaded: peak RSS {peak:.0f} MB")
    return searches


async def _search_postgres(
    n: int, queries: int, cold: bool, postgres: str, *, embedded: bool, prewarm: bool
) -> None:
    """Search on PostgreSQL in the states a deployment meets, each round on a server started
    afresh with its files out of the OS page cache (as after a reboot): the bot's start-up warm-up
    off, then on (the default: it starts beside the first searches, as in a running bot), then,
    with ``prewarm``, the whole store in shared buffers first (a server up for a while)."""
    from bench.postgres import analyze, corpus_database, restart_cold

    url = await corpus_database(postgres, n, fresh=False)
    db = await PostgresDatabase.open(url)
    stored = await PaperRepository(db.connection).count()
    await db.close()
    if stored < n:
        await cache.ingest(n, url)
        await analyze(url)
    print(f"on PostgreSQL ({redacted(url)})")
    rounds = [("no warm-up (search.warm_indexes = false)", "off"), ("the bot's warm-up (the default)", "bot")]
    if prewarm:
        rounds.append(
            ("the store read into shared buffers first (pg_prewarm), as on a server up a while", "all")
        )
    for title, warm in rounds:
        residency = restart_cold() if embedded else None
        state = (
            f"server restarted, its files dropped from the OS page cache first ({residency.describe()} "
            "after the start)"
            if residency is not None
            else "server as found (not this process's alone to restart: the cache may be warm)"
        )
        print(f"\n-- {title}; {state}")
        await _postgres_round(n, queries, cold, url, warm, embedded)


async def _postgres_round(n: int, queries: int, cold: bool, url: str, warm: str, embedded: bool) -> None:
    from bench.postgres import prewarm as read_into_buffers
    from bench.postgres import server_cpu_seconds, warm_up_pid
    from bot.storage.pg_warmup import PgWarmed, warm_store

    if warm == "all":
        read, took = await read_into_buffers(url)
        print(f"store read into shared buffers first (pg_prewarm): {read / 2**20:,.0f} MB, {took:.1f} s")
    db = await PostgresDatabase.open(url)
    service = PaperService(db)
    await service.start()  # the title vocabulary, as the bot loads it before it serves
    searched = [0]
    warming: asyncio.Task[PgWarmed] | None = None
    finished_after: list[int] = []
    skipped = None
    if warm == "bot":
        warming = asyncio.create_task(warm_store(url))  # as bot.runner starts it: beside serving
        warming.add_done_callback(lambda _: finished_after.append(searched[0]))
        skipped = await warm_up_pid(url, warming)  # its server CPU is its own, not the searches'

    def server_cpu() -> float | None:
        return server_cpu_seconds(skip=skipped)

    times, server_times = await _search_rounds(
        service, n, queries, cold, server_cpu if embedded else None, searched
    )
    if warming is not None:
        warmed = await warming
        print(
            f"bot's warm-up: {warmed.describe()}; {finished_after[0]} of {queries} searches were answered "
            "before it ended"
        )
        after = times[finished_after[0] :]
        if after:  # what members see once it is done
            p50, p99 = _percentiles(after)
            server = ""
            if server_times[finished_after[0] :]:
                server_p50, server_p99 = _percentiles(server_times[finished_after[0] :])
                server = f"; server CPU p50 {server_p50:.1f} ms, p99 {server_p99:.1f} ms"
            print(f"  the {len(after)} searches after it ended: p50 {p50:.1f} ms, p99 {p99:.1f} ms{server}")
    await db.close()


@app.command()
def ingest(n: N = 100_000, backend: Backend = "sqlite", database_url: DatabaseUrl = None) -> None:
    """Ingest throughput (papers/s, full-text index included) and database size."""
    CACHE.mkdir(exist_ok=True)
    postgres = _postgres(backend, database_url)
    if postgres is None:
        asyncio.run(cache.ingest(n, CACHE / f"papers-{n}.db"))
        return
    from bench.postgres import analyze, corpus_database, server_cpu_seconds

    async def on_postgres() -> None:
        url = await corpus_database(postgres, n, fresh=True)
        print(f"on PostgreSQL ({redacted(url)})")
        await cache.ingest(n, url, server_cpu=server_cpu_seconds)
        await analyze(url)

    asyncio.run(on_postgres())


@app.command()
def search(
    n: N = 100_000,
    queries: Annotated[int, typer.Option(help="Queries per measurement.")] = 400,
    warm: Annotated[bool, typer.Option(help="Let the suggestion cache answer repeats.")] = False,
    backend: Backend = "sqlite",
    database_url: DatabaseUrl = None,
    readers: Annotated[
        int,
        typer.Option(
            help="SQLite read connections (the bot opens search.readers, 4: a search's phrase and "
            "ranked queries then run at once; 1, the default, runs them in turn as earlier figures did)."
        ),
    ] = 1,
    prewarm: Annotated[
        bool,
        typer.Option(
            help="PostgreSQL: after the rounds straight after a server start (with the cache cold, "
            "without and with the bot's start-up warm-up), a round with the whole store read into "
            "shared buffers first (pg_prewarm), as on a server that has been up a while."
        ),
    ] = False,
) -> None:
    """Search and autocomplete latency, p50/p99, and the process's memory (on the embedded
    PostgreSQL, also the server's CPU a query)."""
    postgres = _postgres(backend, database_url)
    server_cpu = None
    if postgres is not None and database_url is None:
        from bench.postgres import server_cpu_seconds

        server_cpu = server_cpu_seconds
    asyncio.run(
        _search(
            n,
            queries,
            cold=not warm,
            postgres=postgres,
            server_cpu=server_cpu,
            readers=readers,
            prewarm=prewarm,
        )
    )


@app.command()
def match(
    follows: Annotated[int, typer.Option(help="Number of follows.")] = 100_000,
    papers: Annotated[int, typer.Option(help="Number of new papers.")] = 1_000,
    check: Annotated[int, typer.Option(help="Papers checked against the naive method.")] = 50,
) -> None:
    """Follow matching: F follows against B new papers, checked against the straightforward method."""
    from bot.domain.follows import FollowMatcher, naive_matches, paper_words, parse_keyword

    rng = random.Random(5)
    parsed = {i: parse_keyword(text) for i, text in enumerate(workload.follows(rng, follows))}
    distinct = len({f.key for f in parsed.values()})
    texts = [
        paper_words(p.paper.title, p.paper.abstract, p.paper.ai_keywords) for p in generate(papers, seed=9)
    ]
    started = time.perf_counter()
    matcher = FollowMatcher(parsed.items())
    built = time.perf_counter()
    queries = [matcher.matching_queries(text) for text in texts]
    matched = time.perf_counter()
    results = [[fid for q in found for fid in matcher.followers(q)] for found in queries]
    expanded = time.perf_counter()
    hits = sum(len(r) for r in results)
    print(
        f"match F={follows:,} x B={papers:,}: {(matched - built) * 1000:.0f} ms to find every paper's "
        f"matching queries ({distinct:,} distinct among the follows), +{(expanded - matched) * 1000:.0f} ms "
        f"to expand them to {hits:,} (member, paper) pairs; "
        f"index built once in {(built - started) * 1000:.0f} ms"
    )
    started = time.perf_counter()
    sample = rng.sample(range(papers), min(check, papers))
    for index in sample:
        assert sorted(results[index]) == sorted(naive_matches(parsed, texts[index])), (
            f"disagree on paper {index}"
        )
    naive_each = (time.perf_counter() - started) / len(sample)
    print(
        f"naive reference agrees on {len(sample)} papers; it takes {naive_each * 1000:.0f} ms a paper "
        f"(~{naive_each * papers:.0f} s for all {papers:,})"
    )


async def _bot_memory(n: int, queries: int) -> None:
    import sys

    from bench.load import bot_env
    from bot.sandbox.emulator import DiscordEmulator

    path = await database(n)
    emu = await DiscordEmulator().start()
    guild = emu.create_guild("Bench")
    channel = emu.create_channel(guild, "papers")
    member = emu.add_member(guild, "bench")
    env = bot_env(emu, path)
    sync = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "sync", env=env, stdout=-3, stderr=-3
    )
    await sync.wait()
    bot = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, stdout=-3, stderr=-3
    )
    try:
        await emu.wait_for(emu.identified.is_set, wait=120)
        rng = random.Random(3)
        slowest = 0.0
        for text in workload.queries(rng, queries // 2):
            started = time.perf_counter()
            await emu.slash(member, channel, "papers search", query=text[:200], wait=30)
            slowest = max(slowest, time.perf_counter() - started)
        for text in workload.typed_prefixes(rng, queries // 2):
            await emu.autocomplete(member, channel, "papers show", "paper", text, wait=30)
        status = Path(f"/proc/{bot.pid}/status").read_text()  # noqa: ASYNC240 - a tiny procfs read
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        rss, peak = fields["VmRSS"].strip(), fields["VmHWM"].strip()
        print(
            f"bot process (paperbot run) with n={n:,} papers, after {queries} commands: "
            f"RSS {rss}, peak {peak}; slowest /papers search round trip {slowest * 1000:.0f} ms"
        )
    finally:
        bot.terminate()
        await bot.wait()
        await emu.stop()


@app.command(name="bot-memory")
def bot_memory(
    n: N = 1_000_000, queries: Annotated[int, typer.Option(help="Commands to send.")] = 200
) -> None:
    """Resident memory of the real bot process serving searches over n papers (against the emulator)."""
    asyncio.run(_bot_memory(n, queries))


@app.command()
def load(
    n: N = 100_000,
    rate: Annotated[float, typer.Option(help="Interactions per second (open loop).")] = 300,
    duration: Annotated[float, typer.Option(help="Seconds of load.")] = 60,
    mix: Annotated[
        str, typer.Option(help="Read mix: kind=weight,...")
    ] = "search=60,autocomplete=20,random=10,show=10",
    writes: Annotated[
        float, typer.Option(help="Fraction of interactions that are /follow add|remove.")
    ] = 0.0,
    ingest: Annotated[int, typer.Option(help="Papers a concurrent CLI ingest adds (0: none).")] = 0,
    profile: Annotated[
        Path | None, typer.Option(help="Write a py-spy profile (raw stacks) of the bot here.")
    ] = None,
    readers: Annotated[
        int | None, typer.Option(help="The bot's read connections (default: its config).")
    ] = None,
    answer_cache: Annotated[
        int | None,
        typer.Option(
            help="The bot's search.answer_cache (0: every answer computed afresh; the workload's "
            "2,000 queries repeat, so the default cache serves most searches of a long run)."
        ),
    ] = None,
) -> None:
    """The real bot process over the emulator under a steady interaction rate: latency, late answers,
    heartbeat round trip, RSS; printed next to today's figures."""
    from bench import load as bench_load

    outcome = asyncio.run(
        bench_load.run(
            n=n,
            rate=rate,
            duration=duration,
            mix=bench_load.parse_mix(mix),
            writes=writes,
            ingest=ingest,
            profile=profile,
            readers=readers,
            answer_cache=answer_cache,
        )
    )
    bench_load.report(outcome)
    bench_load.table([outcome])


@app.command()
def refresh(
    n: N = 100_000,
    batches: Annotated[int, typer.Option(help="CLI batches committed while the bot runs.")] = 10,
    batch_papers: Annotated[int, typer.Option(help="Papers a batch.")] = 2_000,
) -> None:
    """What the bot pays to catch up after each batch of another process's ingest: incremental
    refresh beside a full vocabulary rebuild (CPU of the event loop and of the process, loop gap)."""
    from bench import refresh as bench_refresh

    asyncio.run(bench_refresh.run(n, batches, batch_papers))


@app.command()
def fanout(
    servers: Annotated[int, typer.Option(help="Servers with the same digest time.")] = 1_000,
    max_papers: Annotated[int, typer.Option(help="Papers per digest (10: one message).")] = 10,
    project: Annotated[int, typer.Option(help="Also project the time for this many servers.")] = 10_000,
    wait: Annotated[float, typer.Option(help="Give up after this many seconds.")] = 600,
) -> None:
    """Digest fan-out: N servers due at once against the rate-limited emulator (time, floor, 429s)."""
    from bench import fanout as bench_fanout

    bench_fanout.report(asyncio.run(bench_fanout.run(servers, max_papers, wait)), project)


@app.command()
def migrate(n: N = 100_000, database_url: DatabaseUrl = None) -> None:
    """migrate-store on N papers: a first copy, an unchanged re-run, a re-run after 1% retitled."""
    from bench import migrate as bench_migrate

    asyncio.run(bench_migrate.run(n, _postgres("postgres", database_url) or ""))


@app.command(name="alert-fanout")
def alert_fanout(
    members: Annotated[int, typer.Option(help="Members following the keyword.")] = 1_000,
    papers: Annotated[int, typer.Option(help="New papers, each matching every member.")] = 100,
    processes: Annotated[int, typer.Option(help="`paperbot run` processes sharing 6 shards.")] = 3,
    wait: Annotated[float, typer.Option(help="Give up after this many seconds.")] = 900,
    backend: Backend = "sqlite",
    database_url: DatabaseUrl = None,
) -> None:
    """Alert DMs for members x papers pairs delivered by sharded processes on one database."""
    from bench import alert_fanout as figures

    postgres = _postgres(backend, database_url)
    figures.report(asyncio.run(figures.run(members, papers, processes, wait, postgres)))


@app.command()
def momentum(
    n: N = 1_000_000,
    queries: Annotated[int, typer.Option(help="Rankings per measurement.")] = 200,
    per_day: Annotated[int, typer.Option(help="Papers listed per day (size figure).")] = 41,
    years: Annotated[int, typer.Option(help="Years of daily lists (size figure).")] = 5,
    snapshots: Annotated[int, typer.Option(help="Daily snapshots per paper (size figure).")] = 30,
    size: Annotated[bool, typer.Option(help="Measure the snapshot table's size on disk.")] = True,
) -> None:
    """Momentum: disk taken by the snapshots of five years of lists; /papers top and rising latency at n."""
    from bench import momentum as bench_momentum

    CACHE.mkdir(exist_ok=True)
    if size:
        asyncio.run(bench_momentum.snapshot_size(per_day, years, snapshots))
    asyncio.run(bench_momentum.ranking_latency(n, queries, _latency))


@app.command(name="similar")
def similar(copies: int = 10, queries: int = 300) -> None:
    """More like this: latency over the real corpus repeated ``--copies`` times (10: ~106k papers),
    with the event loop's longest hold."""
    from bench import similar as figures

    CACHE.mkdir(exist_ok=True)
    asyncio.run(figures.latency(CACHE, copies, queries))


@app.command(name="similar-quality")
def similar_quality(queries: int = 500) -> None:
    """More like this on real papers: P@5 of a shared HF keyword vs random and BM25 on the title."""
    from bench import similar as figures

    CACHE.mkdir(exist_ok=True)
    asyncio.run(figures.quality(CACHE, queries))


@app.command(name="search-quality")
def search_quality(
    queries: Annotated[int, typer.Option(help="HF keywords sampled as queries.")] = 300,
    seed: Annotated[int, typer.Option(help="Seed of the query sample and the typos.")] = 14,
) -> None:
    """Search on real papers: P@10 and nDCG@10 with HF's keywords as labels, with and without a typo,
    today's search against plain BM25 (method in bench/search_quality.py)."""
    from bench import search_quality as figures

    CACHE.mkdir(exist_ok=True)
    asyncio.run(figures.report(CACHE, queries, seed))


@app.command(name="all")
def run_all() -> None:
    """The figures the issues ask for: ingest at 100k, search and autocomplete at 10k/100k/1M."""
    asyncio.run(cache.ingest(100_000, CACHE / "ingest-100000.db"))
    for n in (10_000, 100_000, 1_000_000):
        asyncio.run(_search(n, 400, cold=True, postgres=None))
    asyncio.run(_bot_memory(1_000_000, 200))
    momentum(n=1_000_000, queries=200, per_day=41, years=5, snapshots=30, size=True)
    for follows in (10_000, 100_000):
        for papers in (50, 1_000):
            match(follows=follows, papers=papers, check=20)
    similar(10, 300)
    similar_quality(500)
    search_quality(300, 14)


if __name__ == "__main__":
    app()

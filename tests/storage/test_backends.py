"""Both backends give the same answers, hostile search text never reaches either as syntax, and
several processes claiming the same work on PostgreSQL each get every unit at most once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.digest import DigestPlan
from bot.domain.models import ListedPaper
from bot.domain.schedule import LedgerKey
from bot.errors import InvalidInput
from bot.services.papers import PaperService
from bot.services.search import SearchResults
from bot.storage.database import Database, bundled_migrations
from bot.storage.digests import DigestRepository
from bot.storage.follows import FollowRepository
from bot.storage.leases import LeaseRepository
from bot.storage.postgres import PostgresDatabase
from bot.storage.store import open_store
from tests.backends import later_tables_meanwhile
from tests.conftest import FIXED_NOW
from tests.postgres_server import PostgresServer
from tests.property_budget import examples
from tests.typed_text import FOLDED_LETTERS, SEARCH_SYNTAX, typed_text

SAMPLE_WORDS = ("learning", "federated", "pruning", "value", "Straße", "strasse", "model")
SEARCHES = [
    "federated learning",
    '"global magnitude pruning"',
    "pruning",
    "ride hailing dispatching",
    "diffusion video",
    "Straße",
    "large language model reasoning",
    "federatd lerning",  # typos: corrected the same way on both
    "zzzzqqq",
]


@pytest.fixture
async def both(
    tmp_path: Path, postgres_server: PostgresServer, sample_papers: list[ListedPaper]
) -> AsyncIterator[tuple[PaperService, PaperService]]:
    url = await postgres_server.fresh_database()
    sqlite, postgres = await Database.open(tmp_path / "a.db"), await PostgresDatabase.open(url)
    services = []
    for store in (sqlite, postgres):
        service = PaperService(store, clock=lambda: FIXED_NOW)
        await service.start()
        await service.ingest(sample_papers)
        services.append(service)
    yield services[0], services[1]
    await sqlite.close()
    await postgres.close()
    await postgres_server.release(url)


@pytest.mark.parametrize("text", SEARCHES)
async def test_search_gives_the_same_papers_on_both_backends(
    both: tuple[PaperService, PaperService], text: str
) -> None:
    found_sqlite, found_postgres = [await service.search.find(text, limit=200) for service in both]
    # Up to ranking ties: the same papers and the same count (each backend's own ranking).
    assert {h.paper.id for h in found_sqlite.hits} == {h.paper.id for h in found_postgres.hits}
    assert found_sqlite.total == found_postgres.total


@pytest.mark.parametrize("typed", ["", "federatd orthog", "pruni", "value function", "diffusion"])
async def test_autocomplete_gives_the_same_titles_on_both_backends(
    both: tuple[PaperService, PaperService], typed: str
) -> None:
    sqlite, postgres = both
    assert {s.title for s in await sqlite.search.suggest(typed)} == {
        s.title for s in await postgres.search.suggest(typed)
    }


@pytest.mark.hypothesis  # its property runs inside: `make stress` selects it by this mark
async def test_hostile_search_text_is_never_an_error_and_agrees_on_both_backends(
    both: tuple[PaperService, PaperService],
) -> None:
    loop = asyncio.get_running_loop()

    def on_loop(coroutine):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result()

    def found(service: PaperService, text: str) -> SearchResults | str:
        try:
            return on_loop(service.search.find(text, limit=100))  # type: ignore[no-any-return]
        except InvalidInput as refused:  # nothing to look for: told so, alike on both
            return str(refused)

    @settings(max_examples=examples(60))
    @given(
        st.text(alphabet=st.sampled_from(list("ab \"()*:^-{}'\\;$?AND OR NEAR ß ı 𝓐 é")), max_size=40)
        | st.text(max_size=30)
        | st.lists(  # the search grammar: exclusions and fields, alike on both backends
            st.sampled_from(["title:", "-", "author:", "abstract:", "learning", "federated", "value", '"']),
            max_size=6,
        ).map("".join)
        | st.lists(
            st.sampled_from(["-learning", "title:value", "author:a", "federated", '"value function"'])
        ).map(" ".join)
        # Every piece either grammar or folding treats specially, beside words the sample holds.
        | typed_text((*SEARCH_SYNTAX, *FOLDED_LETTERS, *SAMPLE_WORDS), max_size=40)
    )
    def check(text: str) -> None:
        sqlite, postgres = (found(service, text) for service in both)
        if isinstance(sqlite, str) or isinstance(postgres, str):
            assert sqlite == postgres
            return
        assert sqlite.total == postgres.total
        if sqlite.total <= 100:  # all of them listed: the same papers (else ranking ties decide)
            assert {h.paper.id for h in sqlite.hits} == {h.paper.id for h in postgres.hits}
        on_loop(both[1].search.suggest(text))
        # "That topic has no words to look for" is the clear answer SQLite's side gives too.
        with contextlib.suppress(InvalidInput):
            on_loop(both[1].random(text))

    # Hypothesis drives the examples from a thread; each search runs on this test's event loop.
    await asyncio.to_thread(check)


async def _claimers(server: PostgresServer, count: int) -> tuple[str, list[PostgresDatabase]]:
    """``count`` stores on one fresh database, each its own pool: as many bot processes."""
    url = await server.fresh_database()
    return url, [await PostgresDatabase.open(url) for _ in range(count)]


async def test_concurrent_processes_take_the_source_lease_once(postgres_server: PostgresServer) -> None:
    url, stores = await _claimers(postgres_server, 5)
    now = datetime(2026, 8, 1, 12, tzinfo=UTC)

    async def take(store: PostgresDatabase, owner: str) -> bool:
        async with store.transaction():
            return await LeaseRepository(store.connection).acquire(
                "sources", owner, now, timedelta(minutes=1)
            )

    for attempt in range(3):
        taken = await asyncio.gather(*(take(s, f"p{i}-{attempt}") for i, s in enumerate(stores)))
        assert sum(taken) == (1 if attempt == 0 else 0)  # later rounds: the lease is still held
    later = now + timedelta(minutes=2)  # the holder died: exactly one process takes it over

    async def take_over(store: PostgresDatabase, owner: str) -> bool:
        async with store.transaction():
            return await LeaseRepository(store.connection).acquire(
                "sources", owner, later, timedelta(minutes=1)
            )

    assert sum(await asyncio.gather(*(take_over(s, f"q{i}") for i, s in enumerate(stores)))) == 1
    for store in stores:
        await store.close()
    await postgres_server.release(url)


async def test_concurrent_processes_claim_each_digest_and_alert_batch_once(
    postgres_server: PostgresServer,
) -> None:
    url, stores = await _claimers(postgres_server, 4)
    now = datetime(2026, 8, 1, 12, tzinfo=UTC)
    guilds = range(1, 31)
    plan = DigestPlan(date(2026, 8, 1), None, (), 0)

    async def claim_all(store: PostgresDatabase, owner: str) -> list[int]:
        won = []
        for guild in guilds:
            async with store.transaction():
                record = await DigestRepository(store.connection).claim(
                    plan,
                    LedgerKey(guild, 1000 + guild),
                    plan.post_day,
                    owner=owner,
                    lease_until=now + timedelta(minutes=5),
                    now=now,
                )
            if record is not None and record.owner == owner:
                won.append(guild)
        return won

    claims = await asyncio.gather(*(claim_all(s, f"p{i}") for i, s in enumerate(stores)))
    assert sorted(g for won in claims for g in won) == list(guilds)  # each exactly once

    # Alert batches whose sender died (lease expired): several processes take them over at once.
    async with stores[0].transaction():
        follows = FollowRepository(stores[0].connection)
        for user in range(1, 41):
            await follows.ensure_member(user, None, now)
            await follows.open_batch(user, None, now, owner="dead", lease_until=now)
    later = now + timedelta(minutes=1)

    async def take_over(store: PostgresDatabase, owner: str) -> list[int]:
        async with store.transaction():
            taken = await FollowRepository(store.connection).take_over_batches(
                owner=owner, lease_until=later + timedelta(minutes=5), now=later
            )
        return [batch.batch_id for batch in taken]

    taken = await asyncio.gather(*(take_over(s, f"q{i}") for i, s in enumerate(stores)))
    assert sorted(b for batch_ids in taken for b in batch_ids) == list(range(1, 41))
    for store in stores:
        await store.close()
    await postgres_server.release(url)


async def test_the_search_document_keeps_columns_apart_and_marks_the_first_title_word(
    postgres_server: PostgresServer,
) -> None:
    url = await postgres_server.fresh_database()
    store = await PostgresDatabase.open(url)
    async with store.connection.execute(
        "SELECT paperbot_document(?, ?, ?)::text", ("attention is all", "all you need", "ada lovelace")
    ) as cursor:
        row = await cursor.fetchone()
    await store.close()
    await postgres_server.release(url)
    vector = row[0]
    assert "'attention':1A" in vector and "'^attention':1A" in vector  # "^attention": title's first word
    assert "'all':3A,5B" in vector  # position 4 is the gap: no phrase spans title and abstract
    assert "'lovelace':10C" in vector


async def test_paperbot_sessions_never_jit_compile_a_search(postgres_server: PostgresServer) -> None:
    # The server's default is on (jit_above_cost then compiles a search over a million papers on
    # each run, on servers built with LLVM); paperbot's own sessions turn it off.
    url = await postgres_server.fresh_database()
    store = await PostgresDatabase.open(url)
    try:
        async with store.connection.execute(
            "SELECT boot_val, setting FROM pg_settings WHERE name = 'jit'"
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None and (row[0], row[1]) == ("on", "off")
    finally:
        await store.close()
        await postgres_server.release(url)


async def test_a_read_only_open_of_postgres_creates_and_migrates_nothing(
    postgres_server: PostgresServer,
) -> None:
    url = await postgres_server.empty_database()
    store = await open_store(url, readonly=True)  # what `paperbot doctor` does
    assert await store.schema_version() == 0
    await store.close()
    migrated = await open_store(url)
    assert await migrated.schema_version() == len(bundled_migrations("postgres"))
    await migrated.close()
    await postgres_server.drop(url)


async def test_papers_stored_before_the_inline_search_vectors_are_found_the_same_after_the_upgrade(
    postgres_server: PostgresServer, sample_papers: list[ListedPaper]
) -> None:
    url = await postgres_server.empty_database()
    before = [m for m in bundled_migrations("postgres") if m.number < 19]
    old = await PostgresDatabase.open(url, migrations=before)
    service = PaperService(old, clock=lambda: FIXED_NOW)
    await service.start()
    async with later_tables_meanwhile(old):
        await service.ingest(sample_papers)
    await old.close()
    # What a store made at the newest schema finds (today's search needs the newest schema).
    reference_url = await postgres_server.fresh_database()
    reference = await PostgresDatabase.open(reference_url)
    service = PaperService(reference, clock=lambda: FIXED_NOW)
    await service.start()
    await service.ingest(sample_papers)
    found_before = [
        [hit.paper.id for hit in (await service.search.find(text, limit=200)).hits] for text in SEARCHES
    ]
    await reference.close()
    await postgres_server.release(reference_url)
    upgraded = await PostgresDatabase.open(url)  # 0019 rewrites every stored vector in place
    service = PaperService(upgraded, clock=lambda: FIXED_NOW)
    await service.start()
    found_after = [
        [hit.paper.id for hit in (await service.search.find(text, limit=200)).hits] for text in SEARCHES
    ]
    async with upgraded.connection.execute(
        "SELECT attstorage::text FROM pg_attribute WHERE attrelid = 'papers'::regclass AND attname = 'search'"
    ) as cursor:
        row = await cursor.fetchone()
    await upgraded.close()
    await postgres_server.drop(url)
    assert any(found_before) and found_after == found_before
    assert row is not None and row[0] == "m"  # kept in the row: ranking reads no TOAST

"""``migrate-store`` checks the papers' search column on its own: the row digest compares the
columns both stores have, and the search column is PostgreSQL's alone, so a wrong or stale vector
was copied or kept and reported "verified". Each paper's vector is now compared with the server's
own ``paperbot_document`` of its row's words: a wrong one is named and nothing kept, and a stale
one a re-run finds in the target is built again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiosqlite
import asyncpg

from tests.migrate_store_fixtures import postgres_server, postgres_url, run, sqlite_store, whole_store
from tests.test_migrate_store_atomic import _migrated

__all__ = ["postgres_server", "postgres_url", "sqlite_store"]


async def _searches(url: str) -> dict[int, str]:
    connection = await asyncpg.connect(url)
    try:
        return {row[0]: row[1] for row in await connection.fetch("SELECT pk, search::text FROM papers")}
    finally:
        await connection.close()


async def _execute(url: str, statement: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def test_a_search_column_that_comes_out_wrong_is_named_and_nothing_is_kept(
    sqlite_store: Path, postgres_url: str
) -> None:
    # A target that changes the vector it is given for one paper (a trigger someone left there).
    asyncio.run(
        _migrated(
            postgres_url,
            "CREATE FUNCTION garble() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF NEW.pk = 7 THEN NEW.search := to_tsvector('simple', 'garbled'); END IF; RETURN NEW; END $$",
            "CREATE TRIGGER garble BEFORE INSERT OR UPDATE ON papers FOR EACH ROW EXECUTE FUNCTION garble()",
        )
    )
    before = asyncio.run(whole_store(postgres_url))
    code, output = run("migrate-store", "--from", str(sqlite_store), "--to", postgres_url)
    assert code == 1, output
    paper = asyncio.run(_paper_id_in_file(sqlite_store, 7))
    assert "papers: 69 rows, 69 added, 0 changed, 0 removed; digest " in output
    assert f"MISMATCH: the search column of paper {paper} (pk 7)" in output
    assert f"the search column of paper {paper} (pk 7) differs in PostgreSQL after the copy" in output
    assert "rolled back" in output
    assert asyncio.run(whole_store(postgres_url)) == before


async def _paper_id_in_file(path: Path, pk: int) -> str:
    async with (
        aiosqlite.connect(path) as connection,
        connection.execute("SELECT id FROM papers WHERE pk = ?", (pk,)) as cursor,
    ):
        row = await cursor.fetchone()
    assert row is not None
    return str(row[0])


def test_a_stale_search_column_in_the_target_is_built_again(sqlite_store: Path, postgres_url: str) -> None:
    code, output = run("migrate-store", "--from", str(sqlite_store), "--to", postgres_url)
    assert code == 0, output
    assert "papers: 69 rows, 69 added, 0 changed, 0 removed" in output
    assert "ok, every paper's search column checked" in output
    right = asyncio.run(_searches(postgres_url))
    # Its title, abstract and authors unchanged: the vector used to be kept as it was.
    asyncio.run(
        _execute(postgres_url, "UPDATE papers SET search = to_tsvector('simple', 'stale') WHERE pk = 5")
    )

    code, output = run("migrate-store", "--from", str(sqlite_store), "--to", postgres_url)

    assert code == 0, output
    assert "papers: 69 rows, 0 added, 1 changed, 0 removed" in output
    assert asyncio.run(_searches(postgres_url)) == right

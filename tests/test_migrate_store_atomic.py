"""``migrate-store`` writes the target in one transaction: a failure at any table, first run or
re-run, leaves PostgreSQL exactly as it was (the matrix below fails each table's write in turn),
and a copy whose rows do not come out equal is refused, named and rolled back."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from bot.storage.database import Database
from bot.storage.postgres import PostgresDatabase
from bot.storage.transfer import CopyFailed, copy_store, data_tables
from tests.migrate_store_fixtures import postgres_server, postgres_url, run, sqlite_store, whole_store
from tests.test_migrate_store_rerun import _change, _edit_digest, _forget_member, _remove_follow

__all__ = ["postgres_server", "postgres_url", "sqlite_store"]

REFUSE = (
    "CREATE FUNCTION paperbot_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'the disk refused %', TG_TABLE_NAME; END $$"
)


async def _failing_at_every_table(source_path: Path, url: str) -> list[str]:
    """Copy once per table, that table's writes refused by the server; the tables whose failed
    copy left the target other than it was."""
    source = await Database.open(source_path)
    target = await PostgresDatabase.open(url)
    admin = await asyncpg.connect(url)
    changed = []
    try:
        await admin.execute(REFUSE)
        tables = await data_tables(source)
        assert len(tables) > 20
        for table in tables:
            before = await whole_store(url)
            await admin.execute(
                f'CREATE TRIGGER paperbot_test_refuse BEFORE INSERT OR UPDATE ON "{table}" '
                "FOR EACH STATEMENT EXECUTE FUNCTION paperbot_test_refuse()"
            )
            with pytest.raises(CopyFailed, match=f"PostgreSQL refused the copy: the disk refused {table}"):
                await copy_store(source, target, lambda *_: None)
            await admin.execute(f'DROP TRIGGER paperbot_test_refuse ON "{table}"')
            if await whole_store(url) != before:
                changed.append(table)
    finally:
        await admin.close()
        await target.close()
        await source.close()
    return changed


async def _migrated(url: str, *statements: str) -> None:
    """The schema in place, then ``statements`` run on it."""
    store = await PostgresDatabase.open(url)
    await store.close()
    admin = await asyncpg.connect(url)
    try:
        for statement in statements:
            await admin.execute(statement)
    finally:
        await admin.close()


async def _change_everything(path: Path) -> None:
    """What a community does between two runs: forgets a member, removes a follow, edits a digest."""
    for change in (_forget_member, _remove_follow, _edit_digest):
        await _change(path, change)


@pytest.mark.parametrize("rerun", [False, True], ids=["first run", "re-run"])
def test_a_failure_at_any_table_leaves_the_target_as_it_was(
    sqlite_store: Path, postgres_url: str, rerun: bool
) -> None:
    if rerun:
        assert run("migrate-store", "--from", str(sqlite_store), "--to", postgres_url)[0] == 0
        asyncio.run(_change_everything(sqlite_store))
    else:  # the schema in place, nothing copied yet
        asyncio.run(_migrated(postgres_url))
    assert asyncio.run(_failing_at_every_table(sqlite_store, postgres_url)) == []
    # and with nothing refused, the same copy goes through
    code, output = run("migrate-store", "--from", str(sqlite_store), "--to", postgres_url)
    assert code == 0, output


def test_rows_that_come_out_different_are_named_and_nothing_is_kept(
    sqlite_store: Path, postgres_url: str
) -> None:
    # A target that changes what it is given (a trigger someone left there).
    asyncio.run(
        _migrated(
            postgres_url,
            "CREATE FUNCTION shout() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN NEW.keyword := upper(NEW.keyword); RETURN NEW; END $$",
            "CREATE TRIGGER shout BEFORE INSERT OR UPDATE ON follows FOR EACH ROW EXECUTE FUNCTION shout()",
        )
    )
    before = asyncio.run(whole_store(postgres_url))
    code, output = run("migrate-store", "--from", str(sqlite_store), "--to", postgres_url)
    assert code == 1
    assert "follows: 3 rows, 3 added, 0 changed, 0 removed; digest " in output and "MISMATCH" in output
    assert "follows differs in PostgreSQL after the copy, first at id=1" in output
    assert "papers: 69 rows, 69 added" in output and "rolled back" in output
    assert asyncio.run(whole_store(postgres_url)) == before  # counters included


def test_a_refused_copy_is_one_line_and_changes_nothing(sqlite_store: Path, postgres_url: str) -> None:
    asyncio.run(
        _migrated(
            postgres_url,
            REFUSE,
            "CREATE TRIGGER paperbot_test_refuse BEFORE INSERT ON papers "
            "FOR EACH STATEMENT EXECUTE FUNCTION paperbot_test_refuse()",
        )
    )
    before = asyncio.run(whole_store(postgres_url))
    code, output = run("migrate-store", "--from", str(sqlite_store), "--to", postgres_url)
    assert code == 1 and "Traceback" not in output
    assert "PostgreSQL refused the copy: the disk refused papers: nothing was changed" in output
    assert asyncio.run(whole_store(postgres_url)) == before

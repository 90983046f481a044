"""Migration 0034 on PostgreSQL: stored author and organisation names folded again, as
``bot.domain.people.fold_name`` folds them now (SQLite's step is SQL over these same functions,
registered by bot.storage.database). PostgreSQL cannot fold a name as Python does, so the rows are
read and rewritten here, in the migration's transaction."""

from __future__ import annotations

from bot.domain.people import PersonFollow
from bot.storage.connection import Connection
from bot.storage.people import folded_and_family

# Rows read per round: a store of a million papers' authors is not held in memory at once.
BATCH = 5_000


async def refold_names(db: Connection) -> int:
    """Fold again every non-ASCII stored name whose folding changed; returns how many rows changed."""
    return await _refold_people(db) + await _refold_names(db) + await _refold_follows(db)


async def _refold_names(db: Connection) -> int:
    """people_names: one row per distinct name (autocomplete's look-up), so read at once."""
    rows = await db.fetch_all(
        "SELECT kind, name, claim, folded FROM people_names WHERE octet_length(name) <> length(name)", ()
    )
    updates = [
        (*folded_and_family(row["name"]), row["kind"], row["name"], row["claim"])
        for row in rows
        if folded_and_family(row["name"])[0] != row["folded"]
    ]
    if updates:
        await db.executemany(
            "UPDATE people_names SET folded = ?, family = ? WHERE kind = ? AND name = ? AND claim = ?",
            updates,
        )
    return len(updates)


async def _refold_people(db: Connection) -> int:
    changed, after = 0, (0, "", 0)
    sql = (
        "SELECT paper_pk, kind, position, name, folded FROM paper_people "
        "WHERE (paper_pk, kind, position) > (?, ?, ?) AND octet_length(name) <> length(name) "
        "ORDER BY paper_pk, kind, position LIMIT ?"
    )
    while True:
        rows = await db.fetch_all(sql, (*after, BATCH))
        if not rows:
            return changed
        updates = [
            (*folded_and_family(row["name"]), row["paper_pk"], row["kind"], row["position"])
            for row in rows
            if folded_and_family(row["name"])[0] != row["folded"]
        ]
        if updates:
            await db.executemany(
                "UPDATE paper_people SET folded = ?, family = ? "
                "WHERE paper_pk = ? AND kind = ? AND position = ?",
                updates,
            )
        changed += len(updates)
        last = rows[-1]
        after = (int(last["paper_pk"]), str(last["kind"]), int(last["position"]))


async def _refold_follows(db: Connection) -> int:
    """Person follows' keys; a member's later follow of a person an earlier one now names is dropped
    (first, so no key is ever held twice on the way)."""
    rows = await db.fetch_all(
        "SELECT id, user_id, keyword, canonical FROM follows "
        "WHERE (canonical LIKE 'author:%' OR canonical LIKE 'org:%') ORDER BY user_id, id",
        (),
    )
    kept: dict[tuple[int, str], tuple[int, str]] = {}  # (member, new key): (follow id, stored key)
    dropped: list[tuple[int]] = []
    for row in rows:
        key = (int(row["user_id"]), PersonFollow.refolded_key(row["canonical"], row["keyword"]))
        if key in kept:
            dropped.append((int(row["id"]),))
        else:
            kept[key] = (int(row["id"]), str(row["canonical"]))
    renamed = [(key, follow_id) for (_, key), (follow_id, stored) in kept.items() if key != stored]
    if dropped:
        await db.executemany("DELETE FROM follows WHERE id = ?", dropped)
    if renamed:
        await db.executemany("UPDATE follows SET canonical = ? WHERE id = ?", renamed)
    return len(dropped) + len(renamed)

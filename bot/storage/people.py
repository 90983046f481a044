"""Who listed papers are by (author slots with their claims, organisations): every SQL statement about it."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.domain.models import ListedPaper
from bot.domain.people import AuthorCredit, Credits, PersonKind, family_key, fold_name
from bot.storage.connection import Connection, Store


@dataclass(frozen=True, slots=True)
class KnownPerson:
    """A stored author or organisation, for autocomplete: the name, its HF id, on how many papers."""

    name: str
    hf_id: str | None
    papers: int


async def record_people(db: Connection, listings: Sequence[tuple[ListedPaper, int]]) -> None:
    """Replace the credits of every listed paper that came with them, by the stored paper's pk
    (inside the ingest's transaction)."""
    rows: list[tuple[object, ...]] = []
    credited: list[int] = []
    for item, pk in listings:
        credits = item.credits
        if credits is None:
            continue
        credited.append(pk)
        for position, slot in enumerate(credits.authors):
            rows.append(
                (pk, "author", position, slot.name, fold_name(slot.name), family_key(slot.name), slot.hf_user)
            )
        if credits.org_id or credits.org_name:
            name = credits.org_name or credits.org_id or ""
            rows.append((pk, "org", 0, name, fold_name(name), family_key(name), credits.org_id))
    if not credited:
        return
    await db.execute(
        f"DELETE FROM paper_people WHERE paper_pk IN ({db.dialect.ints()})", (json.dumps(credited),)
    )
    await db.executemany(
        "INSERT INTO paper_people (paper_pk, kind, position, name, folded, family, hf_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (paper_pk, kind, position) DO UPDATE SET name = excluded.name, "
        "folded = excluded.folded, family = excluded.family, hf_id = excluded.hf_id",
        rows,
    )


class PeopleRepository:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    @classmethod
    def of(cls, database: Store) -> PeopleRepository:
        return cls(database.connection)

    async def credits(self, pks: Iterable[int]) -> dict[int, Credits]:
        """The stored credits of these papers (papers without any are absent)."""
        sql = (
            "SELECT paper_pk, kind, position, name, hf_id FROM paper_people "
            f"WHERE paper_pk IN ({self._db.dialect.ints()}) ORDER BY paper_pk, kind, position"
        )
        authors: dict[int, list[AuthorCredit]] = defaultdict(list)
        orgs: dict[int, tuple[str | None, str]] = {}
        async with self._db.execute(sql, (json.dumps(list(pks)),)) as cursor:
            for row in await cursor.fetchall():
                if row["kind"] == PersonKind.AUTHOR:
                    authors[row["paper_pk"]].append(AuthorCredit(row["name"], row["hf_id"]))
                else:
                    orgs[row["paper_pk"]] = (row["hf_id"], row["name"])
        found = {}
        for pk in set(authors) | set(orgs):
            org_id, org_name = orgs.get(pk, (None, None))
            found[pk] = Credits(tuple(authors.get(pk, ())), org_id, org_name)
        return found

    async def known(self, kind: PersonKind, typed: str, *, limit: int) -> list[KnownPerson]:
        """Stored names starting with ``typed`` (or whose family name does), most papers first."""
        folded = fold_name(typed)
        upper = folded + "\U0010ffff"
        sql = (
            "SELECT name, hf_id, count(*) AS papers FROM paper_people "
            "WHERE kind = ? AND ((folded >= ? AND folded < ?) OR (family >= ? AND family < ?)) "
            "GROUP BY folded, coalesce(hf_id, '') ORDER BY papers DESC, folded LIMIT ?"
        )
        params = (str(kind), folded, upper, folded, upper, limit)
        async with self._db.execute(sql, params) as cursor:
            return [
                KnownPerson(row["name"], row["hf_id"], int(row["papers"])) for row in await cursor.fetchall()
            ]

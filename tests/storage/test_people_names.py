"""Author and organisation autocomplete reads distinct names with their slot counts (migration 0032,
``people_names``) instead of grouping every author slot: a member typing into `/follow author|org`
is offered exactly what the slots said before, on both backends, after new papers, credits that
replace stored ones (names dropped, claims moved) and an upgrade of a store written before."""

from __future__ import annotations

from bot.domain.models import ListedPaper, Source
from bot.domain.people import AuthorCredit, Credits, PersonKind, fold_name
from bot.services.papers import PaperService
from bot.storage.connection import Store
from bot.storage.database import bundled_migrations
from bot.storage.people import KnownPerson, PeopleRepository
from tests.backends import Opener, later_tables_meanwhile
from tests.services.test_author_rows_batch import listings, paper

TYPED = ["a", "ada", "vasw", "kaiser", "strasse", "angstrom", "lecun", "y", "hopper", "jones", "g", "x", ""]
ORGS_TYPED = ["meta", "navy", "n", "m", ""]


def recredited() -> list[ListedPaper]:
    """Hugging Face's credits again for the two claimed papers, changed: a claim moved to another
    author, an author dropped, an organisation replaced, a name written with other accents."""
    return [
        ListedPaper(
            paper(100, Source.HF_API, ("Yann LeCun", "Ada Lovelace")),
            credits=Credits((AuthorCredit("Yann LeCun"), AuthorCredit("Ada Lovelace", "ada")), None, "FAIR"),
        ),
        ListedPaper(
            paper(101, Source.HF_API, ("Grace Hopper", "Zoë Müller")),
            credits=Credits((AuthorCredit("Zoe Muller", "zm"),), "navy", "Navy Research"),
        ),
    ]


async def known_from_slots(store: Store, kind: PersonKind, typed: str, limit: int) -> list[KnownPerson]:
    """What ``known`` answered before migration 0032: every slot grouped by name and claim."""
    folded = fold_name(typed)
    upper = folded + "\U0010ffff"
    sql = (
        "SELECT min(name) AS name, max(hf_id) AS hf_id, count(*) AS papers FROM paper_people "
        "WHERE kind = ? AND ((folded >= ? AND folded < ?) OR (family >= ? AND family < ?)) "
        "GROUP BY folded, coalesce(hf_id, '') ORDER BY papers DESC, folded, hf_id LIMIT ?"
    )
    async with store.connection.execute(sql, (str(kind), folded, upper, folded, upper, limit)) as cursor:
        return [KnownPerson(row["name"], row["hf_id"], int(row["papers"])) for row in await cursor.fetchall()]


async def assert_offered_as_the_slots_say(store: Store) -> None:
    people = PeopleRepository.of(store)
    for kind, typed in [(PersonKind.AUTHOR, t) for t in TYPED] + [(PersonKind.ORG, t) for t in ORGS_TYPED]:
        expected = await known_from_slots(store, kind, typed, 25)
        # Ties of count and folded name (the same name claimed by two users) in any order.
        found = await people.known(kind, typed, limit=25)
        assert sorted(found, key=repr) == sorted(expected, key=repr), (kind, typed)
        assert [p.papers for p in found] == [p.papers for p in expected]


async def test_autocomplete_offers_what_the_author_slots_say_after_credits_change(
    store_at: tuple[Opener, str],
) -> None:
    open_store, _ = store_at
    store = await open_store()
    try:
        service = PaperService(store)
        await service.start()
        await service.ingest(listings())
        await assert_offered_as_the_slots_say(store)
        claimed = await PeopleRepository.of(store).known(PersonKind.AUTHOR, "lecun", limit=5)
        assert ("Yann LeCun", "ylecun") in [(p.name, p.hf_id) for p in claimed]
        await service.ingest(recredited())
        await assert_offered_as_the_slots_say(store)
        people = PeopleRepository.of(store)
        # The claim moved from ylecun to Ada Lovelace; Meta is no longer the paper's organisation.
        assert all(p.hf_id != "ylecun" for p in await people.known(PersonKind.AUTHOR, "lecun", limit=5))
        assert ("Ada Lovelace", "ada") in [
            (p.name, p.hf_id) for p in await people.known(PersonKind.AUTHOR, "lovelace", limit=5)
        ]
        assert await people.known(PersonKind.ORG, "meta", limit=5) == []
        assert [p.name for p in await people.known(PersonKind.ORG, "fair", limit=5)] == ["FAIR"]
        assert [(p.name, p.hf_id) for p in await people.known(PersonKind.AUTHOR, "muller", limit=5)] == [
            ("Zoe Muller", "zm")
        ]
        # The same credits again change nothing.
        await service.ingest(recredited())
        await assert_offered_as_the_slots_say(store)
    finally:
        await store.close()


async def test_a_store_from_before_offers_the_same_names_after_the_upgrade(
    store_at: tuple[Opener, str],
) -> None:
    open_store, backend = store_at
    old = await open_store(migrations=bundled_migrations(backend)[:31])
    service = PaperService(old)
    await service.start()
    async with later_tables_meanwhile(old, ["people_names"]):  # (0029's term_docs is there)
        await service.ingest(listings())
        await service.ingest(recredited())
    before = {
        (kind, typed): await known_from_slots(old, kind, typed, 25)
        for kind, typed in [(PersonKind.AUTHOR, t) for t in TYPED] + [(PersonKind.ORG, t) for t in ORGS_TYPED]
    }
    await old.close()

    upgraded = await open_store()
    try:
        people = PeopleRepository.of(upgraded)
        for (kind, typed), expected in before.items():
            found = await people.known(kind, typed, limit=25)
            assert sorted(found, key=repr) == sorted(expected, key=repr), (kind, typed)
        assert before[(PersonKind.AUTHOR, "ada")]  # the comparison above compared something
        # And the upgraded store keeps counting: a new paper by Ada Lovelace is offered at once.
        ada = [
            p.papers for p in await people.known(PersonKind.AUTHOR, "ada lovelace", limit=5) if not p.hf_id
        ]
        await PaperService(upgraded).ingest([ListedPaper(paper(200, Source.ARXIV_ATOM, ("Ada Lovelace",)))])
        await assert_offered_as_the_slots_say(upgraded)
        now = [
            p.papers for p in await people.known(PersonKind.AUTHOR, "ada lovelace", limit=5) if not p.hf_id
        ]
        assert now == [ada[0] + 1]
    finally:
        await upgraded.close()

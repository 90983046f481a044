"""Author names fold as search folds them, on both backends: letters with no decomposition (Ł, Ø,
Đ, Ħ, ı, Œ, Æ, ß) are the letters people type, so `/follow author Lukasz` offers and follows
Łukasz Kaiser; and a store from before (migration 0034) has its stored folded names and person
follows' keys folded again."""

from __future__ import annotations

from bot.domain.models import ListedPaper, Paper, Source
from bot.domain.people import PersonKind
from bot.services.papers import PaperService
from bot.storage.connection import Store
from bot.storage.database import bundled_migrations
from bot.storage.follows import FollowRepository
from bot.storage.people import PeopleRepository
from tests.backends import Opener
from tests.conftest import FIXED_NOW

AUTHORS = ("Łukasz Kaiser", "Ole Sørensen", "Nguyễn Đức", "Ħamrun Spiteri", "Æsa Œlund", "Kırmızı Straße")
PAPER = ListedPaper(
    Paper(
        title="Attention Across Alphabets",
        abstract="An abstract long enough to be one, about attention and names in many alphabets.",
        source=Source.ARXIV_ATOM,
        arxiv_id="2501.00001",
        authors=AUTHORS,
    )
)
# What a store folded before: these letters left as they are.
OLD_FOLDS = {
    "Łukasz Kaiser": "łukasz kaiser",
    "Ole Sørensen": "ole sørensen",
    "Nguyễn Đức": "nguyen đuc",
    "Ħamrun Spiteri": "ħamrun spiteri",
    "Æsa Œlund": "æsa œlund",
    "Kırmızı Straße": "kırmızı strasse",
}
TYPED = [("lukasz", "Łukasz Kaiser"), ("sorensen", "Ole Sørensen"), ("nguyen duc", "Nguyễn Đức"),
         ("hamrun", "Ħamrun Spiteri"), ("oelund", "Æsa Œlund"), ("aesa", "Æsa Œlund"),
         ("kirmizi", "Kırmızı Straße"), ("strasse", "Kırmızı Straße")]  # fmt: skip


async def offered(store: Store, typed: str) -> list[str]:
    return [p.name for p in await PeopleRepository.of(store).known(PersonKind.AUTHOR, typed, limit=5)]


async def test_an_author_is_offered_by_the_letters_people_type(database: Store) -> None:
    service = PaperService(database)
    await service.start()
    await service.ingest([PAPER])
    for typed, name in TYPED:
        assert await offered(database, typed) == [name], typed


async def test_an_older_store_has_its_folded_names_and_person_follows_folded_again(
    store_at: tuple[Opener, str],
) -> None:
    open_store, backend = store_at
    old = await open_store(migrations=bundled_migrations(backend)[:32])
    service = PaperService(old)
    await service.start()
    await service.ingest([PAPER])
    follows = FollowRepository(old.connection)
    async with old.transaction() as connection:
        for name, folded in OLD_FOLDS.items():
            family = folded.rpartition(" ")[2]
            for table in ("paper_people", "people_names"):
                await connection.execute(
                    f"UPDATE {table} SET folded = ?, family = ? WHERE name = ?", (folded, family, name)
                )
        for member in (1, 2):
            await follows.ensure_member(member, None, FIXED_NOW)
        # Member 1 followed Łukasz before (the old key), then "Lukasz Kaiser" (a key of its own then).
        await follows.add_follow(1, "Łukasz Kaiser", "author::łukasz kaiser", FIXED_NOW)
        await follows.add_follow(1, "Lukasz Kaiser", "author::lukasz kaiser", FIXED_NOW)
        await follows.add_follow(2, "Ole Sørensen", "author::ole sørensen", FIXED_NOW)
        await follows.add_follow(2, "attention", "attention", FIXED_NOW)
    assert await offered(old, "lukasz") == []
    await old.close()

    upgraded = await open_store()
    try:
        for typed, name in TYPED:
            assert await offered(upgraded, typed) == [name], typed
        kept = FollowRepository(upgraded.connection)
        assert [(f.keyword, f.canonical) for f in await kept.follows(1)] == [
            ("Łukasz Kaiser", "author::lukasz kaiser")  # the first follow; the second named the same person
        ]
        assert [(f.keyword, f.canonical) for f in await kept.follows(2)] == [
            ("Ole Sørensen", "author::ole sorensen"),
            ("attention", "attention"),
        ]
    finally:
        await upgraded.close()

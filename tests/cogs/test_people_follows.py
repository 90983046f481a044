"""/follow author and /follow org through simcord: autocomplete from stored papers, matches in the
same grouped DM as keyword follows, each entry saying which follow matched."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.services.container import Services
from tests.cogs.test_follows import dm_text, dms, ingest_and_deliver
from tests.momentum_lists import Recorded, listed

DAY1, DAY2 = date(2026, 1, 1), date(2026, 1, 2)
META = {"name": "facebook", "fullname": "AI at Meta"}


def claimed(name: str, user: str) -> dict[str, Any]:
    return {"name": name, "user": {"user": user, "fullname": name, "type": "user"}}


def unclaimed(name: str) -> dict[str, Any]:
    return {"name": name}


def recorded(n: int, title: str, day: date, authors: list[dict[str, Any]], org: Any = None) -> Recorded:
    return Recorded(f"2601.{n:05d}", title, day, lambda k: 1, authors, org)


KNOWN = [recorded(1, "Energy Based Models Revisited", DAY1, [claimed("Yann LeCun", "ylecun")], META)]
NEW = [
    recorded(2, "Graph Nets by Initials", DAY2, [unclaimed("Ada Lovelace"), unclaimed("Y. LeCun")]),
    recorded(3, "A Namesake Claimed Elsewhere", DAY2, [claimed("Yann LeCun", "other-yann")]),
    recorded(4, "Another Initial Another Person", DAY2, [unclaimed("Yves LeCun")]),
    recorded(5, "Lab Paper", DAY2, [unclaimed("Grace Hopper")], META),
    recorded(6, "Video Diffusion at Scale", DAY2, [claimed("Yann A. LeCun", "ylecun")]),
    recorded(7, "Unrelated Topology", DAY2, [unclaimed("Emmy Noether")]),
]


async def test_author_and_org_follows_join_keyword_follows_in_one_dm(world: Any, services: Services) -> None:
    env, channel, alice, bob = world
    await services.papers.ingest(listed(KNOWN, DAY1, lambda p: 0))

    authors = await alice.autocomplete(channel, "follow author", "name", "lecun")
    assert [c["value"] for c in authors] == ["Yann LeCun (@ylecun)"]
    assert authors[0]["name"] == "Yann LeCun (@ylecun) · 1 paper"
    orgs = await alice.autocomplete(channel, "follow org", "name", "ai at")
    assert [c["value"] for c in orgs] == ["AI at Meta (@facebook)"]

    followed = await alice.slash(channel, "follow author", name=authors[0]["value"])
    assert followed.ephemeral and "Following author Yann LeCun (@ylecun)" in followed.response.content
    await alice.slash(channel, "follow org", name=orgs[0]["value"])
    await alice.slash(channel, "follow add", keyword="diffusion")
    again = await alice.slash(channel, "follow author", name="Yann LeCun (@ylecun)")
    assert "already follow" in again.response.content
    vague = await alice.slash(channel, "follow author", name="LeCun")
    assert vague.ephemeral and "give a first name or initial" in vague.response.content
    assert [type(e.original).__name__ for e in env.errors] == ["InvalidInput", "InvalidInput"]

    listing = await alice.slash(channel, "follow list")
    text = listing.response.content
    assert "You follow 1 keyword, 1 author, 1 organisation" in text
    assert "• “diffusion”" in text and "• author Yann LeCun (@ylecun)" in text
    assert "• org AI at Meta (@facebook)" in text

    await ingest_and_deliver(env, services, listed(NEW, DAY2, lambda p: 0))
    [dm] = dms(alice)
    body = dm_text(dm)
    entries = {title: line for line in body.split("\n\n") for title in _titles(line)}
    assert set(entries) == {"Graph Nets by Initials", "Lab Paper", "Video Diffusion at Scale"}
    assert "`author Yann LeCun (@ylecun)`" in entries["Graph Nets by Initials"]
    assert "`org AI at Meta (@facebook)`" in entries["Lab Paper"]
    assert "`diffusion`, `author Yann LeCun (@ylecun)`" in entries["Video Diffusion at Scale"]
    assert dms(bob) == []

    removed = await alice.slash(channel, "follow remove", keyword="author Yann LeCun (@ylecun)")
    assert removed.ephemeral and "no longer follow" in removed.response.content


def _titles(entry: str) -> list[str]:
    known = [r.title for r in KNOWN + NEW]
    return [title for title in known if f"[{title}]" in entry]


UNCLAIMED_ONLY = [
    recorded(
        8, "Analytical Engines Revisited", DAY1, [unclaimed("Ada Lovelace"), unclaimed("Charles Babbage")]
    )
]
LATER = [recorded(9, "Notes on the Engine", DAY2, [unclaimed("A. Lovelace")])]


async def test_authors_nobody_claimed_are_offered_and_followed(world: Any, services: Services) -> None:
    env, channel, alice, _ = world
    await services.papers.ingest(listed(UNCLAIMED_ONLY, DAY1, lambda p: 0))
    offered = await alice.autocomplete(channel, "follow author", "name", "lovel")
    assert [(c["name"], c["value"]) for c in offered] == [("Ada Lovelace · 1 paper", "Ada Lovelace")]
    followed = await alice.slash(channel, "follow author", name=offered[0]["value"])
    assert "Following author Ada Lovelace" in followed.response.content
    await ingest_and_deliver(env, services, listed(LATER, DAY2, lambda p: 0))
    [dm] = dms(alice)
    assert "Notes on the Engine" in dm_text(dm) and "`author Ada Lovelace`" in dm_text(dm)

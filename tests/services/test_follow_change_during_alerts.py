"""/follow remove and /follow pause while the member's alert DM waits or is being sent.

What the member expects: after a remove, no further part for papers that matched only the removed
follow (a paper that also matches a follow they kept still arrives, once, named by that follow);
after a pause, no further part at all, and not after the resume either (a pause drops keyword
matches). Parts that arrived are never sent again, and the ledger says exactly what arrived. Every
state of the delivery: queued (the due list read before the change, during another member's DM),
part k of 5 on its way, the process killed after sending part k, part k failed (5xx) and released.
Both backends."""

from __future__ import annotations

import inspect
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest

from bot.domain.delivery import alert_nonce
from bot.domain.digest import DigestMessage
from bot.domain.models import ListedPaper, Paper, Source
from bot.storage.connection import Store
from tests.delivery_cells import ABSTRACT, AUTHORS, title
from tests.services.test_forget_during_alerts import GUILD, LEASE, MEMBER, PARTS, DiscordDown, Killed
from tests.services.test_forget_during_alerts import World as ProcessesOnOneStore

EARLIER_MEMBER = 1111
PAPERS = 60  # 60 matches make a 5-part DM


@dataclass(frozen=True, slots=True)
class Delivered:
    user_id: int
    nonce: str
    papers: tuple[int, ...]


class Messenger:
    """The members' DMs, as Discord keeps them: ``find_parts`` answers from what was sent (by the
    nonce, which names batch and part). ``then`` runs when the ``at_part``-th message is sent."""

    def __init__(self, at_part: int = 0, then: Callable[[], object] | None = None) -> None:
        self.sent: list[Delivered] = []
        self.at_part, self.then = at_part, then

    async def is_member(self, guild_id: int, user_id: int) -> bool:
        return True

    async def find_parts(self, user_id: int, marker: str, *, since: datetime) -> dict[int, int]:
        batch_id = int(marker.rsplit("#", 1)[1])
        return {
            part: message_id
            for message_id, sent in enumerate(self.sent, 1)
            for part in range(1, PARTS + 1)
            if sent.user_id == user_id and sent.nonce == alert_nonce(batch_id, part)
        }

    async def send(self, user_id: int, message: DigestMessage, *, nonce: str) -> int:
        delivered = Delivered(user_id, nonce, tuple(int(key) for key in message.papers))
        if len(self.sent) + 1 == self.at_part and self.then is not None:
            hook, self.then = self.then, None
            outcome = hook()
            if isinstance(outcome, DiscordDown):
                raise outcome
            if isinstance(outcome, BaseException):
                self.sent.append(delivered)
                raise outcome
            if inspect.isawaitable(outcome):
                await outcome
        self.sent.append(delivered)
        return len(self.sent)

    def to(self, user_id: int) -> list[Delivered]:
        return [sent for sent in self.sent if sent.user_id == user_id]


def papers() -> list[ListedPaper]:
    """60 papers "diffusion" matches; every third also matches "robotics"."""
    return [
        ListedPaper(
            Paper(
                title=title(n) + (" for robotics" if n % 3 == 0 else ""),
                abstract=ABSTRACT,
                source=Source.HF_API,
                arxiv_id=f"2601.{n:05d}",
                authors=AUTHORS,
                upvotes=200 - n,
            ),
            date(2026, 1, 1),
            n,
        )
        for n in range(1, PAPERS + 1)
    ]


class World(ProcessesOnOneStore):
    async def column(self, sql: str, *params: object) -> list[object]:
        async with self.database.connection.execute(sql, params) as cursor:
            return [row[0] for row in await cursor.fetchall()]


STATES = ["queued"] + [
    f"{state}-{part}of{PARTS}" for state in ("sending", "dead", "released") for part in range(1, PARTS + 1)
]


@pytest.mark.parametrize("change", ["remove", "pause"])
@pytest.mark.parametrize("state", STATES)
async def test_after_remove_or_pause_no_part_goes_out_for_what_the_member_no_longer_follows(
    database: Store, state: str, change: str
) -> None:
    world = World(database)
    first = await world.process()
    for member in (MEMBER, EARLIER_MEMBER) if state == "queued" else (MEMBER,):
        await first.follows.add(member, GUILD, "diffusion")
    await first.follows.add(MEMBER, GUILD, "robotics")
    await first.papers.ingest(papers())
    robotics = {int(pk) for pk in await world.column("SELECT pk FROM papers WHERE title LIKE '%robotics'")}
    kind, _, where = state.partition("-")
    part = int(where.split("of")[0]) if where else 0

    async def change_now() -> None:
        if change == "remove":
            await first.follows.remove(MEMBER, "diffusion")
        else:
            await first.follows.pause(MEMBER, None)

    if kind == "queued":  # the due list was read; the change lands during an earlier member's DM
        log = Messenger(1, change_now)
        await first.alerts.deliver(log)
        assert log.to(EARLIER_MEMBER)
        arrived_before = 0
    elif kind == "sending":  # the change lands while part k is on its way, which arrives
        log = Messenger(part, change_now)
        await first.alerts.deliver(log)
        arrived_before = part
    elif kind == "dead":  # part k went out, then the process died before recording it
        log = Messenger(part, lambda: Killed())
        with pytest.raises(Killed):
            await first.alerts.deliver(log)
        await change_now()
        arrived_before = part
    else:  # part k failed (5xx): the batch was released for the next poll's retry
        log = Messenger(part, lambda: DiscordDown())
        await first.alerts.deliver(log)
        await change_now()
        arrived_before = part - 1
    before = [p for sent in log.to(MEMBER)[:arrived_before] for p in sent.papers]

    # Every way the DM could go on: this process's next poll, another process after the dead one's
    # lease expired, a resume of the pause; and more papers matching the follows.
    world.now += LEASE + timedelta(seconds=1)
    second = await world.process()
    await second.alerts.deliver(log)
    await first.alerts.deliver(log)
    if change == "pause":
        await first.follows.resume(MEMBER)
        await first.alerts.deliver(log)
    after = [p for sent in log.to(MEMBER)[arrived_before:] for p in sent.papers]

    delivered = Counter(before + after)
    assert max(delivered.values(), default=1) == 1, "a paper reached the member twice"
    if change == "remove":
        assert set(after) <= robotics, "a paper only the removed follow matched was sent after the remove"
        assert robotics <= set(delivered), "a paper the kept follow matches never arrived"
    else:
        assert after == [], f"{len(after)} papers sent after the pause, {len(before)} before it"
    # The ledger says exactly what arrived, and nothing is left half-sent.
    sent_rows = await world.column("SELECT paper_pk FROM alerts WHERE user_id = ? AND state = 'sent'", MEMBER)
    assert {int(str(pk)) for pk in sent_rows} == set(delivered)
    assert (
        await world.column(
            "SELECT paper_pk FROM alerts WHERE user_id = ? AND state IN ('pending', 'sending')", MEMBER
        )
        == []
    )
    assert await world.column("SELECT id FROM alert_batches WHERE state = 'sending'") == []
    nonces = [sent.nonce for sent in log.sent]
    assert len(nonces) == len(set(nonces)), "a nonce was used for two messages"


async def test_papers_a_kept_follow_matches_are_named_by_it_alone_after_the_remove(database: Store) -> None:
    """The rest of the DM is said anew: a paper the member still gets does not quote the follow
    they removed."""
    world = World(database)
    first = await world.process()
    await first.follows.add(MEMBER, GUILD, "diffusion")
    await first.follows.add(MEMBER, GUILD, "robotics")
    await first.papers.ingest(papers())
    texts: list[str] = []

    class Reader(Messenger):
        async def send(self, user_id: int, message: DigestMessage, *, nonce: str) -> int:
            texts.append(" ".join(embed.description or "" for embed in message.embeds))
            return await super().send(user_id, message, nonce=nonce)

    async def remove() -> None:
        await first.follows.remove(MEMBER, "diffusion")

    reader = Reader(2, remove)
    await first.alerts.deliver(reader)  # parts 1 and 2 arrive, then the batch stops
    assert len(texts) == 2
    await first.alerts.deliver(reader)  # the next poll: what robotics matches, said anew
    later = [text for text in texts[2:] if "Diffusion study" in text]
    assert later, "the papers robotics matches were not sent"
    assert all("`diffusion`" not in text and "`robotics`" in text for text in later)


async def test_in_daily_mode_the_rest_a_kept_follow_matches_still_comes_that_day(database: Store) -> None:
    """A daily DM stopped part-way by a remove is not yet the day's DM: the papers the kept follow
    matches come at the next poll, not a day late; after them, the day's DM has gone out."""
    world = World(database)
    first = await world.process()
    await first.follows.add(MEMBER, GUILD, "diffusion")
    await first.follows.add(MEMBER, GUILD, "robotics")
    await first.follows.set_mode(MEMBER, "daily", at="09:00", timezone="UTC")
    await first.papers.ingest(papers())

    async def remove() -> None:
        await first.follows.remove(MEMBER, "diffusion")

    log = Messenger(2, remove)
    await first.alerts.deliver(log)
    assert len(log.sent) == 2
    world.now += timedelta(minutes=1)
    await first.alerts.deliver(log)
    robotics = {
        int(str(pk)) for pk in await world.column("SELECT pk FROM papers WHERE title LIKE '%robotics'")
    }
    delivered = [p for sent in log.sent for p in sent.papers]
    assert robotics <= set(delivered) and len(delivered) == len(set(delivered))

    new = [
        ListedPaper(
            Paper(title="Robotics at scale", abstract=ABSTRACT, source=Source.HF_API, arxiv_id="2601.00901")
        )
    ]
    await first.papers.ingest(new)
    world.now += timedelta(hours=1)
    count = len(log.sent)
    await first.alerts.deliver(log)
    assert len(log.sent) == count, "a second daily DM the same day"
    world.now += timedelta(days=1)
    await first.alerts.deliver(log)
    assert len(log.sent) == count + 1

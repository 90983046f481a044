"""The delivery fault matrix (docs/reliability.md): for digests and alert DMs, a failure at each part
of a 5-part or 3-part send (tests/delivery_cells.py chooses which), then each way of recovering:
0 duplicates and 0 lost papers in every cell.

The real bot runs in simcord (virtual time). Failures are Discord's own answers where Discord
answers (5xx, 403 / 50013, 50007, injected at the HTTP layer when part k goes out), and where it
does not: ``timeout`` (Discord created part k but the bot never heard back) and ``kill`` (part k
went out, then the process died before recording it: an uncatchable exception, as with SIGKILL).

Recoveries: ``resume`` (the same process tries again), ``restart`` (a new process, with its own
instance id, on the same database: it must wait for the dead one's lease), ``admin`` (``/digest
resume``; for alerts the member's next ``/follow``), ``reranked`` (the list changes before the
restart: new ranks, new papers), ``busy`` (200 other messages arrive before the restart), and
``two`` (the old and a new process recover at the same time).
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import discord
import pytest

from bot.client import PaperBot
from bot.domain.models import ListedPaper
from bot.domain.schedule import LedgerKey
from bot.services.container import Services
from bot.settings import Settings
from bot.storage.database import Database
from cogs._poster import DiscordMessenger, DiscordPoster
from tests.delivery_cells import (
    ALERT_PAPERS,
    DIGEST_PAPERS,
    EXTRA_LISTED,
    FAULTS,
    TITLE,
    cells,
    daily_list,
    numbers,
)
from tests.delivery_cells import counted as counted_in

DAY = date(2026, 1, 1)
LEASE = timedelta(seconds=90)  # Settings().delivery.lease_seconds
SAMPLE_PAPERS = False  # the services fixture leaves the bundled sample out: these cells bring their own


class Killed(BaseException):
    """The process died here."""


def papers(count: int, *, reverse: bool = False, first: int = 1) -> list[ListedPaper]:
    """A daily list of papers ``first``.. ``first + count - 1``; ``reverse``: the same re-ranked."""
    return daily_list(count, day=DAY, reverse=reverse, first=first)


def inject(env: Any, adapter: Any, part: int, fault: str, *, only_to: int | None = None) -> None:
    """Make the ``part``-th message this adapter sends (to ``only_to``, if given) meet ``fault``."""
    original = adapter.send
    calls = {"n": 0}

    async def send(target: int, message: Any, *, nonce: str) -> int:
        calls["n"] += only_to is None or target == only_to
        if calls["n"] == part and (only_to is None or target == only_to):
            # Aimed at one channel, on that channel's route: another digest posting meanwhile must
            # not meet it (an alert's target is a member, whose DM channel the glob covers).
            route = "/channels/*/messages" if only_to is None else f"/channels/{only_to}/messages"
            if fault == "5xx":
                env.inject_error("POST", route, status=500, times=1)
            elif fault == "403":
                env.inject_error("POST", route, status=403, code=50013, times=1)
            elif fault == "50007":
                env.inject_error("POST", route, status=403, code=50007, times=1)
            else:
                await original(target, message, nonce=nonce)  # Discord has it...
                raise TimeoutError() if fault == "timeout" else Killed()  # ...the bot never records it
        return await original(target, message, nonce=nonce)

    adapter.send = send


def counted(messages: list[discord.Message]) -> Counter[str]:
    """How often each paper appears across ``messages``."""
    return counted_in(embed.description or "" for message in messages for embed in message.embeds)


class Deployment:
    """The processes sharing one database file, and the simcord world they serve."""

    def __init__(self, env: Any, services: Services, settings: Settings, clock: Any) -> None:
        self.env, self.first, self.settings, self.clock = env, services, settings, clock
        self.current = services
        self._opened: list[Database] = []

    async def new_process(self) -> Services:
        database = await Database.open(self.first.database.path)
        self._opened.append(database)
        return await Services.open(database, self.settings, clock=self.clock)

    async def restart(self) -> Services:
        """A new process (new instance id) on the same database, the bot reconnected to it."""
        self.current = await self.new_process()
        await self.env.restart_bot(PaperBot(services=self.current, settings=self.settings))
        return self.current

    async def wait_out_lease(self) -> None:
        await self.env.advance_time(LEASE.total_seconds() + 1)

    async def close(self) -> None:
        for database in self._opened:
            await database.close()


@pytest.fixture
async def deployment(
    world: Any, services: Services, settings: Settings, clock: Any
) -> AsyncIterator[Deployment]:
    env, _, _, _ = world
    target = datetime(DAY.year, DAY.month, DAY.day, 9, 0, tzinfo=UTC)
    await env.advance_time((target - env.now()).total_seconds())
    running = Deployment(env, services, settings, clock)
    yield running
    await running.close()


# ---- digests ------------------------------------------------------------------------------------


async def _post_due(env: Any) -> None:
    await env.bot.get_cog("Digest").post_due()  # logs a failure and carries on (a kill goes through)


def digest_messages(channel: Any) -> list[discord.Message]:
    return [
        m for m in channel.history() if m.embeds and (m.embeds[0].footer.text or "").startswith("digest ")
    ]


@pytest.mark.parametrize(("fault", "parts", "part", "recovery"), cells())
async def test_digest_failure_at_each_part_then_recovery(
    world: Any, deployment: Deployment, fault: str, parts: int, part: int, recovery: str
) -> None:
    env, channel, _, bob = world
    services = deployment.first
    admin_role = channel.guild.create_role("Mods", permissions=discord.Permissions(manage_guild=True))
    admin = channel.guild.add_member(env.create_user("mod"), roles=[admin_role])
    chosen = DIGEST_PAPERS[parts]
    await services.papers.ingest(papers(chosen + EXTRA_LISTED))
    await services.digests.configure(
        channel.guild.id, channel.id, post_time="09:00", timezone="UTC", max_papers=chosen
    )
    planned = await services.digests.plan(await services.digests.require(channel.guild.id), DAY)
    assert planned.parts == parts
    inject(env, env.bot.get_cog("Digest").poster, part, fault)

    if fault == "kill":
        with pytest.raises(Killed):
            await _post_due(env)
    else:
        await _post_due(env)  # the failure is logged; the bot stays up
    assert len(digest_messages(channel)) == part - (fault not in ("timeout", "kill"))

    if recovery == "resume":
        await _post_due(env)
    elif recovery == "restart":
        before = len(digest_messages(channel))
        await deployment.restart()
        await _post_due(env)  # a live lease (held by the dead process) is left alone...
        if fault in ("kill", "timeout", "5xx"):
            assert len(digest_messages(channel)) == before
        await deployment.wait_out_lease()
        await _post_due(env)  # ...and resumed once it ran out
    elif recovery == "admin":
        await admin.slash(channel, "digest resume")
        await _post_due(env)
    elif recovery == "reranked":
        # upvotes moved: a different top of the list
        await services.papers.ingest(papers(chosen + EXTRA_LISTED, reverse=True))
        await deployment.restart()
        await deployment.wait_out_lease()
        await _post_due(env)
    elif recovery == "busy":
        for n in range(200):
            await bob.send(channel, f"chatter {n}")
        await deployment.restart()
        await deployment.wait_out_lease()
        await _post_due(env)
    elif recovery == "two":
        other = await deployment.new_process()
        await deployment.wait_out_lease()
        poster = DiscordPoster(env.bot)
        await asyncio.gather(env.bot.get_cog("Digest").post_due(), other.digests.run_due(poster))

    if fault in ("403", "50007"):  # the admin fixes the channel's permissions and resumes
        await admin.slash(channel, "digest resume")
    await deployment.wait_out_lease()
    await _post_due(env)
    await _post_due(env)

    posted = digest_messages(channel)
    footers = Counter(m.embeds[0].footer.text for m in posted)
    assert sorted(footers) == [f"digest {DAY.isoformat()} · {k} of {parts}" for k in range(1, parts + 1)]
    assert set(footers.values()) == {1}, footers  # no part twice
    expected = Counter(
        p for m in planned.messages for p in TITLE.findall(" ".join(e.description for e in m.embeds))
    )
    assert counted(posted) == expected  # the papers planned at claim time, each exactly once
    record = await services.repositories.digests.post(LedgerKey(channel.guild.id, channel.id), DAY)
    assert record is not None and record.state == "posted"
    assert sorted(record.message_ids) == list(range(1, parts + 1))


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_topic_channel_failing_at_part_two_then_restart(
    world: Any, deployment: Deployment, fault: str
) -> None:
    """The topic channel cell: a server with a general and a topic digest, both due at 09:00; the
    topic channel's post fails at part 2, the process restarts. Each channel ends with its own post
    once, the topic's filtered, whatever the other digest did meanwhile."""
    env, channel, _, _ = world
    services = deployment.first
    admin_role = channel.guild.create_role("Mods", permissions=discord.Permissions(manage_guild=True))
    admin = channel.guild.add_member(env.create_user("mod"), roles=[admin_role])
    topic_channel = channel.guild.create_text_channel("denoisers")
    await services.papers.ingest(papers(45))
    for target, topic in ((channel, None), (topic_channel, 'denoisers -"study 001"')):
        await services.digests.configure(
            channel.guild.id, target.id, post_time="09:00", timezone="UTC", max_papers=35, topic=topic
        )
    plans = {
        target.id: await services.digests.plan(
            await services.digests.require(channel.guild.id, target.id), DAY
        )
        for target in (channel, topic_channel)
    }
    assert [plan.parts for plan in plans.values()] == [3, 3]
    inject(env, env.bot.get_cog("Digest").poster, 2, fault, only_to=topic_channel.id)

    if fault == "kill":
        with pytest.raises(Killed):
            await _post_due(env)
    else:
        await _post_due(env)
    await deployment.restart()
    await deployment.wait_out_lease()
    await _post_due(env)
    if fault in ("403", "50007"):  # the admin fixes the channel's permissions and resumes it
        await admin.slash(channel, "digest resume", channel=str(topic_channel.id))
    await deployment.wait_out_lease()
    await _post_due(env)
    await _post_due(env)

    for target in (channel, topic_channel):
        posted = digest_messages(target)
        footers = Counter(m.embeds[0].footer.text for m in posted)
        assert sorted(footers) == [f"digest {DAY.isoformat()} · {k} of 3" for k in (1, 2, 3)]
        assert set(footers.values()) == {1}, footers
        planned = plans[target.id]
        expected = Counter(
            p for m in planned.messages for p in TITLE.findall(" ".join(e.description for e in m.embeds))
        )
        assert counted(posted) == expected
        record = await services.repositories.digests.post(LedgerKey(channel.guild.id, target.id), DAY)
        assert record is not None and record.state == "posted"
    assert "001" not in counted(digest_messages(topic_channel))  # the topic's filter held


# ---- alerts -------------------------------------------------------------------------------------


def alice_dms(alice: Any) -> list[discord.Message]:
    channel = alice.user.dm_channel
    return [m for m in channel.history() if m.embeds] if channel is not None else []


async def _deliver(env: Any, *, fault: str | None = None) -> None:
    try:
        await env.bot.get_cog("Follows").deliver_alerts()
    except (Killed, TimeoutError, discord.HTTPException):
        if fault is None:
            raise


@pytest.mark.parametrize(("fault", "parts", "part", "recovery"), cells())
async def test_alerts_failure_at_each_part_then_recovery(
    world: Any, deployment: Deployment, fault: str, parts: int, part: int, recovery: str
) -> None:
    env, channel, alice, _ = world
    services = deployment.first
    matched = ALERT_PAPERS[parts]
    await alice.slash(channel, "follow add", keyword="diffusion")
    await services.papers.ingest(papers(matched))
    inject(env, env.bot.get_cog("Follows").messenger, part, fault)

    if fault == "kill":
        with pytest.raises(Killed):
            await _deliver(env)
    else:
        await _deliver(env, fault=fault)
    arrived = alice_dms(alice)
    assert len(arrived) == part - (fault not in ("timeout", "kill"))
    batch_ids = {re.search(r"alerts #(\d+)", m.embeds[0].footer.text or "").group(1) for m in arrived}  # type: ignore[union-attr]

    late: list[ListedPaper] = []
    if recovery == "resume":
        await _deliver(env)
    elif recovery == "restart":
        before = len(alice_dms(alice))
        await deployment.restart()
        await _deliver(env)  # a live lease is left alone (a kill's: until it runs out)
        if fault == "kill":
            assert len(alice_dms(alice)) == before
        await deployment.wait_out_lease()
        await _deliver(env)
    elif recovery == "admin":
        await alice.slash(channel, "follow resume")  # the member comes back (also clears "DMs closed")
        await _deliver(env)
    elif recovery == "reranked":
        late = papers(2, first=matched + 1)
        await services.papers.ingest([*papers(matched, reverse=True), *late])  # new ranks, two new papers
        await deployment.restart()
        await deployment.wait_out_lease()
        await _deliver(env)
    elif recovery == "busy":
        for n in range(200):
            await alice.send_dm(f"chatter {n}")
        await deployment.restart()
        await deployment.wait_out_lease()
        await _deliver(env)
    elif recovery == "two":
        other = await deployment.new_process()
        await deployment.wait_out_lease()
        messenger = DiscordMessenger(env.bot)
        await asyncio.gather(env.bot.get_cog("Follows").deliver_alerts(), other.alerts.deliver(messenger))

    if fault in ("403", "50007"):  # Discord refused the DM: the member fixes it, uses /follow again
        await alice.slash(channel, "follow list")
    await deployment.wait_out_lease()
    await _deliver(env)
    await _deliver(env)

    delivered = alice_dms(alice)
    assert counted(delivered) == numbers(1, matched + len(late))  # each once
    footers = [m.embeds[0].footer.text for m in delivered]
    assert len(footers) == len(set(footers)), footers  # no batch id reused, no part twice
    assert batch_ids <= {re.search(r"alerts #(\d+)", f or "").group(1) for f in footers}  # type: ignore[union-attr]
    assert await services.repositories.follows.sending_batches() == []


# ---- two processes started together ---------------------------------------------------------------


async def test_two_processes_started_together_post_each_digest_once(
    world: Any, deployment: Deployment
) -> None:
    env, channel, _, _ = world
    services = deployment.first
    await services.papers.ingest(papers(DIGEST_PAPERS[3] + EXTRA_LISTED))
    await services.digests.configure(
        channel.guild.id, channel.id, post_time="09:00", timezone="UTC", max_papers=DIGEST_PAPERS[3]
    )
    other = await deployment.new_process()
    outcomes = await asyncio.gather(
        services.digests.run_due(DiscordPoster(env.bot)), other.digests.run_due(DiscordPoster(env.bot))
    )
    assert sorted(o.state for found in outcomes for o in found) == ["elsewhere", "posted"]
    assert len(digest_messages(channel)) == 3
    assert set(counted(digest_messages(channel)).values()) == {1}


async def test_two_processes_started_together_send_each_alert_once(
    world: Any, deployment: Deployment
) -> None:
    env, channel, alice, _ = world
    services = deployment.first
    await alice.slash(channel, "follow add", keyword="diffusion")
    await services.papers.ingest(papers(ALERT_PAPERS[3]))
    other = await deployment.new_process()
    await asyncio.gather(
        services.alerts.deliver(DiscordMessenger(env.bot)), other.alerts.deliver(DiscordMessenger(env.bot))
    )
    assert counted(alice_dms(alice)) == numbers(1, ALERT_PAPERS[3])


# ---- a claim outlasting the grace window ---------------------------------------------------------


async def test_a_post_interrupted_beyond_the_grace_window_is_still_finished(
    world: Any, deployment: Deployment
) -> None:
    """Discord fails part 2 for longer than ``digest.grace_minutes``: the claim is no longer "due",
    yet its papers are recorded as the channel's. It is finished once Discord answers (each part
    once), instead of staying half-sent forever with parts 2-3's papers never posted anywhere."""
    env, channel, _, _ = world
    services = deployment.first
    chosen = DIGEST_PAPERS[3]
    await services.papers.ingest(papers(chosen + EXTRA_LISTED))
    await services.digests.configure(
        channel.guild.id, channel.id, post_time="09:00", timezone="UTC", max_papers=chosen
    )
    planned = await services.digests.plan(await services.digests.require(channel.guild.id), DAY)
    inject(env, env.bot.get_cog("Digest").poster, 2, "5xx")
    await _post_due(env)
    assert len(digest_messages(channel)) == 1
    await env.advance_time(7 * 3600)  # Discord answers again, past the 6 h grace window
    await _post_due(env)
    posted = digest_messages(channel)
    assert sorted(m.embeds[0].footer.text for m in posted) == [
        f"digest {DAY.isoformat()} · {k} of 3" for k in (1, 2, 3)
    ]
    expected = Counter(
        p for m in planned.messages for p in TITLE.findall(" ".join(e.description for e in m.embeds))
    )
    assert counted(posted) == expected
    record = await services.repositories.digests.post(LedgerKey(channel.guild.id, channel.id), DAY)
    assert record is not None and record.state == "posted"

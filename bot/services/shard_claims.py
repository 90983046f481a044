"""Which process runs which Discord shards of one store: a claim per shard, like the source lease.

Two processes on the same shard both receive every interaction of its servers and both answer
(one gets Discord's "already acknowledged", the other answers first with the first's writes in
view: "You already follow"). Two processes with different shard counts split the servers
differently, so some servers are served twice and others not at all. So ``paperbot run`` claims
its shards in the store before it connects, and renews the claims while it runs:

- a claim per shard (``all`` for a process that runs every shard) is held by one process;
- each claim names its layout (``--shard-count``), so every live process must use the same one.

A process that stops cleanly releases its claims; one that dies stops renewing them and they
expire within ``CLAIM_TTL``, so a restart takes over within a minute. The holder also counts its
servers onto its claims: /papers stats sums the live claims, so a count is always a live holder's.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from bot.domain.shards import ShardPlan, format_shard_ids
from bot.errors import PaperbotError
from bot.storage.connection import Store
from bot.storage.shard_claims import ALL, ServerCount, ShardClaim, ShardClaimRepository

CLAIM_TTL = timedelta(seconds=60)
RENEW_EVERY = timedelta(seconds=20)  # three renewals per claim period: one slow write is no loss
# Each process counts its shards' servers onto its claims this often (and when /papers stats asks).
COUNT_EVERY = timedelta(seconds=60)


class ShardsTaken(PaperbotError):
    """Another live process runs these shards (or another shard layout) on this store."""


class _Refused(Exception):
    """Rolls the claim's transaction back (nothing taken), carrying the reason out."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def layout_of(plan: ShardPlan) -> str:
    return layout_label(plan.count or 0)


def layout_label(shard_count: int) -> str:
    """``2 shards``; ``all shards`` for 0 (a process running every shard Discord recommends)."""
    return f"{shard_count} shards" if shard_count else "all shards"


def claim_names(plan: ShardPlan) -> list[str]:
    return [str(shard) for shard in plan.ids] if plan.count is not None else [ALL]


class ShardClaims:
    def __init__(
        self,
        database: Store,
        claims: ShardClaimRepository,
        plan: ShardPlan,
        owner: str,
        *,
        clock: Callable[[], datetime],
        ttl: timedelta = CLAIM_TTL,
    ) -> None:
        self._database = database
        self._claims = claims
        self.plan = plan
        self.owner = owner
        self._clock = clock
        self._ttl = ttl

    async def claim(self) -> None:
        """Take (or renew) this process's shards; ShardsTaken, holding nothing new, when another
        live process runs any of them or runs another shard layout."""
        now = self._clock()
        try:
            async with self._database.transaction():
                await self._claim(now)
        except _Refused as refused:
            raise ShardsTaken(refused.message) from None

    async def _claim(self, now: datetime) -> None:
        await self._claims.serialize()
        await self._drop_dead_claims(now)
        others = [claim for claim in await self._claims.live(now) if claim.owner != self.owner]
        mine = self.plan.count or 0
        if other_layout := [claim for claim in others if claim.shard_count != mine]:
            raise _Refused(
                f"another paperbot process runs this store with {layout_label(other_layout[0].shard_count)} "
                f"({_who(others)}), and this one with {layout_of(self.plan)}: every process on one store "
                "needs the same --shard-count. Stop the others or start this one with their --shard-count; "
                f"{_expiry_hint(self._ttl)}"
            )
        names = claim_names(self.plan)
        if taken := [claim for claim in others if claim.shard in names]:
            raise _Refused(
                f"{named_shards(taken)} already run in another paperbot process ({_who(taken)}) on this "
                "store: two processes on one shard both answer every command. Stop that process or start "
                f"this one with other --shards; {_expiry_hint(self._ttl)}"
            )
        await self._claims.take(names, mine, self.owner, now, self._ttl)

    async def _drop_dead_claims(self, now: datetime) -> None:
        """A claim of a process on this machine that no longer runs is stale at once, so a bot
        restarted right after a crash (systemd, Docker) does not wait for its own old claim."""
        for claim in await self._claims.live(now):
            if _dead_here(claim.owner, self.owner):
                await self._claims.drop(claim)

    async def keep(self) -> bool:
        """Renew the claims (every RENEW_EVERY while running); False once another process took
        them over (this one stalled past CLAIM_TTL): it must stop serving."""
        try:
            await self.claim()
        except ShardsTaken:
            return False
        return True

    async def release(self) -> None:
        """A clean stop frees the shards at once (and the layout, once no process runs any)."""
        async with self._database.transaction():
            await self._claims.release(claim_names(self.plan), self.owner)

    async def holders(self) -> list[ShardClaim]:
        """Every live claim, for doctor: which process runs which shard, until when."""
        return await self._claims.live(self._clock())

    async def unrun(self) -> tuple[int, ...]:
        """The shards of the live layout that no live process runs (see ``unrun_shards``)."""
        return unrun_shards(await self.holders())

    async def layout(self) -> str | None:
        """The live claims' layout (``3 shards``); None while no process runs any shard."""
        held = await self.holders()
        return layout_label(held[0].shard_count) if held else None

    async def count_servers(self, servers: Mapping[int, int]) -> None:
        """This process's servers on each shard it runs (``{shard id: servers}``), written on its
        live claims (a process running every shard counts them as one)."""
        by_claim = (
            {ALL: sum(servers.values())}
            if self.plan.count is None
            else {str(s): n for s, n in servers.items()}
        )
        now = self._clock()
        async with self._database.transaction():
            await self._claims.count(by_claim, self.owner, now)

    async def servers(self, shard_count: int) -> ServerCount:
        """The bot's servers over every process of the ``shard_count`` shards: what each live
        claim's holder counted, summed (a lapsed or taken-over claim's count never adds up)."""
        return await self._claims.total(shard_count, self._clock())


def unrun_shards(holders: list[ShardClaim]) -> tuple[int, ...]:
    """The shards of the live claims' layout that no live claim holds: a process stopped or dead and
    not started again. Their servers get no digest and no command answer, and nothing else says so
    (each running process is healthy). Nothing for a process running every shard."""
    counts = {claim.shard_count for claim in holders}
    if len(counts) != 1 or 0 in counts:
        return ()
    [count] = counts
    held = {int(claim.shard) for claim in holders if claim.shard.isdigit()}
    return tuple(shard for shard in range(count) if shard not in held)


def unrun_warning(shards: tuple[int, ...], shard_count: int) -> str:
    """What an operator reads about shards no process runs, and the command that runs them."""
    ids = format_shard_ids(shards)
    named = f"shards {ids} of {shard_count} run" if len(shards) > 1 else f"shard {ids} of {shard_count} runs"
    return (
        f"{named} in no process: {'their' if len(shards) > 1 else 'its'} servers get no digest and no "
        f"command answer. Start `paperbot run --shard-count {shard_count} --shards {ids}`"
    )


def named_shards(claims: list[ShardClaim]) -> str:
    """``shards 0-1,4`` (``all shards`` for an unsharded process's claim)."""
    ids = [claim.shard for claim in claims]
    if ids == [ALL]:
        return "all shards"
    numbers = tuple(sorted(int(i) for i in ids if i.isdigit()))
    return f"shard{'s' * (len(numbers) != 1)} {format_shard_ids(numbers)}"


def _who(claims: list[ShardClaim]) -> str:
    owners = sorted({claim.owner for claim in claims})
    held = [f"{owner} holds {named_shards([c for c in claims if c.owner == owner])}" for owner in owners]
    return "; ".join(held) or "its shards being released"


def _expiry_hint(ttl: timedelta) -> str:
    return (
        f"a process that died stops holding its shards {int(ttl.total_seconds())} seconds after its "
        "last renewal (`paperbot doctor` lists who holds which)."
    )


def _dead_here(owner: str, me: str) -> bool:
    """Whether ``owner`` (``host:pid:nonce``, see new_instance_id) is a process of this machine
    that has ended: its pid is gone, or is this process's own (a restarted container is pid 1
    again). A pid reused by another program reads as alive: the claim then simply expires."""
    parts, mine = owner.rsplit(":", 2), me.rsplit(":", 2)
    if owner == me or len(parts) != 3 or len(mine) != 3 or parts[0] != mine[0] or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    return False

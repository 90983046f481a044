"""Which process runs which Discord shards of one store: a claim per shard, like the source lease.

Two processes on the same shard both receive every interaction of its servers and both answer
(one gets Discord's "already acknowledged", the other answers first with the first's writes in
view: "You already follow"). Two processes with different shard counts split the servers
differently, so some servers are served twice and others not at all. So ``paperbot run`` claims
its shards in the store before it connects, and renews the claims while it runs:

- ``shard:N`` (``shard:all`` for a process that runs every shard) is held by one process;
- ``shard-layout`` is held by the layout (``2 shards``), so every live process must use the same
  ``--shard-count``.

A process that stops cleanly releases its claims; one that dies stops renewing them and they
expire within ``CLAIM_TTL``, so a restart takes over within a minute.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.domain.shards import ShardPlan, format_shard_ids
from bot.errors import PaperbotError
from bot.storage.connection import Store
from bot.storage.leases import HeldLease, LeaseRepository

CLAIM_TTL = timedelta(seconds=60)
RENEW_EVERY = timedelta(seconds=20)  # three renewals per claim period: one slow write is no loss
LAYOUT = "shard-layout"
SHARD = "shard:"


class ShardsTaken(PaperbotError):
    """Another live process runs these shards (or another shard layout) on this store."""


class _Refused(Exception):
    """Rolls the claim's transaction back (nothing taken), carrying the reason out."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def layout_of(plan: ShardPlan) -> str:
    return "all shards" if plan.count is None else f"{plan.count} shards"


def claim_names(plan: ShardPlan) -> list[str]:
    return [f"{SHARD}{shard}" for shard in plan.ids] if plan.count is not None else [f"{SHARD}all"]


class ShardClaims:
    def __init__(
        self,
        database: Store,
        leases: LeaseRepository,
        plan: ShardPlan,
        owner: str,
        *,
        clock: Callable[[], datetime],
        ttl: timedelta = CLAIM_TTL,
    ) -> None:
        self._database = database
        self._leases = leases
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
        await self._drop_dead_claims(now)
        layout = layout_of(self.plan)
        if not await self._leases.acquire(LAYOUT, layout, now, self._ttl):
            running = await self._leases.holder(LAYOUT)
            holders = await self._leases.held(SHARD, now)
            raise _Refused(
                f"another paperbot process runs this store with {running} ({_who(holders)}), and this one "
                f"with {layout}: every process on one store needs the same --shard-count. Stop the others "
                f"or start this one with their --shard-count; {_expiry_hint(self._ttl)}"
            )
        taken: list[HeldLease] = []
        for name in claim_names(self.plan):
            if not await self._leases.acquire(name, self.owner, now, self._ttl):
                taken += [held for held in await self._leases.held(name, now) if held.name == name]
        if taken:
            raise _Refused(
                f"{named_shards(taken)} already run in another paperbot process ({_who(taken)}) on this "
                "store: two processes on one shard both answer every command. Stop that process or start "
                f"this one with other --shards; {_expiry_hint(self._ttl)}"
            )

    async def _drop_dead_claims(self, now: datetime) -> None:
        """A claim of a process on this machine that no longer runs is stale at once, so a bot
        restarted right after a crash (systemd, Docker) does not wait for its own old claim."""
        dead = [held for held in await self._leases.held(SHARD, now) if _dead_here(held.owner, self.owner)]
        for held in dead:
            await self._leases.release(held.name, held.owner)
        if dead and not await self._leases.held(SHARD, now):
            layout = await self._leases.holder(LAYOUT)
            if layout is not None:
                await self._leases.release(LAYOUT, layout)

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
            await self._leases.release_all(claim_names(self.plan), self.owner)
            if not await self._leases.held(SHARD, self._clock()):
                await self._leases.release(LAYOUT, layout_of(self.plan))

    async def holders(self) -> list[HeldLease]:
        """Every live claim, for doctor: which process runs which shard, until when."""
        return await self._leases.held(SHARD, self._clock())

    async def layout(self) -> str | None:
        held = await self._leases.held(LAYOUT, self._clock())
        return held[0].owner if held else None


def named_shards(claims: list[HeldLease]) -> str:
    """``shards 0-1,4`` (``all shards`` for an unsharded process's claim)."""
    ids = [claim.name.removeprefix(SHARD) for claim in claims]
    if ids == ["all"]:
        return "all shards"
    numbers = tuple(sorted(int(i) for i in ids if i.isdigit()))
    return f"shard{'s' * (len(numbers) != 1)} {format_shard_ids(numbers)}"


def _who(claims: list[HeldLease]) -> str:
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

"""`paperbot doctor`: clear pass/fail lines about everything the bot needs, never a secret's value."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from bot.domain.urls import shown_url
from bot.errors import StoreMisconfigured
from bot.services.container import Services, open_services
from bot.services.fetching import SCHEDULE_LEASE
from bot.services.shard_claims import claim_names, layout_of, named_shards, unrun_shards, unrun_warning
from bot.settings import DEFAULT_CONFIG, Settings
from bot.sources.http import USER_AGENT
from bot.storage.database import ForeignDatabase, SchemaTooNew, bundled_migrations
from bot.storage.postgres import is_postgres_url, redacted
from bot.storage.shard_claims import ShardClaim


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str


async def run_checks(settings: Settings, *, wait: float = 5.0) -> list[Check]:
    checks = [_config(), _token(settings), _shards(settings)]
    checks += await _database(settings)
    checks.append(await _source(settings, wait))
    return checks


def _config() -> Check:
    explicit = os.environ.get("PAPERBOT_CONFIG")
    path = Path(explicit) if explicit else DEFAULT_CONFIG
    if path.is_file():
        return Check("config", "ok", f"{path} (environment variables override it)")
    return Check("config", "warn", f"{path} not found: built-in defaults and environment variables apply")


def _token(settings: Settings) -> Check:
    if settings.discord_token is None:
        return Check(
            "token", "warn", "DISCORD_TOKEN is not set: `paperbot run` cannot connect (the sandbox can)"
        )
    # Presence only: the value is never printed, logged or compared here.
    return Check("token", "ok", "DISCORD_TOKEN is set")


def _shards(settings: Settings) -> Check:
    plan = settings.shard_plan
    if plan.count is None:
        return Check("shards", "ok", "one process runs all shards (as many as Discord recommends)")
    others = "" if plan.everything else "; other processes must run the rest"
    return Check("shards", "ok", f"`paperbot run` here runs {plan.describe()}{others}")


def _store_name(settings: Settings) -> str:
    """The store the checks are about: the PostgreSQL URL without its password, else the file."""
    store = settings.store
    return redacted(store) if isinstance(store, str) and is_postgres_url(store) else str(store)


async def _database(settings: Settings) -> list[Check]:
    latest = bundled_migrations()[-1].number
    where = _store_name(settings)
    try:
        # Read-only: the doctor looks, it never creates, migrates or repairs.
        async with open_services(settings, warm=False, readonly=True) as services:
            version = await services.database.schema_version()
            integrity = await services.database.integrity()
            # An older schema may lack what stats reads: its version is the finding.
            papers = (await services.papers.stats()).papers if version == latest else None
            schedule = [*await _schedule(services), await _running(services)] if version == latest else []
            segments = await services.index_segments() if version == latest else None
    except FileNotFoundError:
        return [Check("database", "fail", f"{where} does not exist (`paperbot ingest` or `run` creates it)")]
    except (SchemaTooNew, ForeignDatabase, StoreMisconfigured) as exc:
        return [Check("database", "fail", str(exc))]
    except Exception as exc:  # any failure to open is the finding
        return [Check("database", "fail", f"{where}: {exc}")]
    return [
        Check(
            "database",
            "ok" if integrity == "ok" else "fail",
            f"{where}: integrity {integrity}" + (f", {papers} papers" if papers is not None else ""),
        ),
        Check("schema", "ok" if version == latest else "fail", _schema_detail(version, latest)),
        *([] if segments is None else [_segments(segments, settings)]),
        *schedule,
    ]


def _segments(segments: dict[str, int], settings: Settings) -> Check:
    """How many segments each full-text index holds: a search reads each word once per segment."""
    detail = ", ".join(f"{index} {count}" for index, count in segments.items())
    search = settings.search
    if not search.merge_indexes:
        return Check("search index", "ok", f"segments: {detail} (background merging is off)")
    if max(segments.values(), default=0) <= search.merge_above_segments:
        return Check("search index", "ok", f"segments: {detail}")
    return Check(
        "search index",
        "warn",
        f"segments: {detail}: the running bot merges an index above {search.merge_above_segments} "
        f"(at its start and every {search.merge_check_minutes:g} minutes); "
        "searches read more pages until then",
    )


async def _schedule(services: Services) -> list[Check]:
    """When the running bot's source schedule fetches each source next, from the fetch log."""
    now = services.clock()
    checks = []
    for source, at in (await services.next_fetches()).items():
        last = await services.repositories.fetches.last(source)
        when = "now (due)" if at == now else f"{at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
        if last is None:
            # Not a problem: a running bot fetches a never-fetched source at its first check.
            checks.append(Check(f"schedule {source}", "ok", f"never fetched; next fetch {when}"))
            continue
        result = f"{last.papers} papers" if last.ok else f"failed: {last.error}"
        if last.ok and last.error:  # the malformed entries a good fetch left out
            result += f", {last.error}"
        detail = f"last fetch {last.fetched_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC ({result}); next {when}"
        checks.append(Check(f"schedule {source}", "ok" if last.ok else "warn", detail))
    holder = await services.repositories.leases.holder(SCHEDULE_LEASE)
    # Several processes: the one holding the lease fetches, the others stand by.
    who = f"run by process {holder}" if holder else "not running (no process holds it)"
    checks.append(Check("source schedule", "ok", who))
    return checks


async def _running(services: Services) -> Check:
    """Which live process holds which shards of this store (their claims), and whether a
    `paperbot run` with these settings would be refused beside them."""
    shards = services.shards
    holders = await shards.holders()
    if not holders:
        return Check("running shards", "ok", "no process runs any shard of this store now")
    owners: dict[str, list[ShardClaim]] = {}
    for held in holders:
        owners.setdefault(held.owner, []).append(held)
    layout = await shards.layout()
    running = "; ".join(
        f"{named_shards(claims)} by {owner} (claimed until {max(c.expires_at for c in claims):%H:%M:%S} UTC"
        f"{_servers_counted(claims)})"
        for owner, claims in sorted(owners.items())
    )
    detail = f"{layout or 'a shard layout'}: {running}"
    if unrun := unrun_shards(holders):
        return Check("running shards", "fail", f"{detail}; {unrun_warning(unrun, holders[0].shard_count)}")
    mine = layout_of(shards.plan)
    if layout is not None and layout != mine:
        return Check("running shards", "warn", f"{detail}; `paperbot run` here ({mine}) would be refused")
    taken = [held for held in holders if held.shard in claim_names(shards.plan)]
    if taken:
        return Check(
            "running shards",
            "warn",
            f"{detail}; `paperbot run` here would be refused: {named_shards(taken)} taken",
        )
    return Check("running shards", "ok", detail)


def _servers_counted(claims: list[ShardClaim]) -> str:
    """``, 12 servers``: what the holder last counted on these shards (nothing before it counted)."""
    counted = [claim.servers for claim in claims if claim.servers is not None]
    return f", {sum(counted)} server{'s' * (sum(counted) != 1)}" if counted else ""


async def _source(settings: Settings, wait: float) -> Check:
    url = settings.sources.hf_api_url
    shown = shown_url(url)  # a mirror's user, password or token stays out of the output
    params = {"date": datetime.now(UTC).date().isoformat(), "limit": "1"}
    try:
        async with (
            aiohttp.ClientSession(headers={"User-Agent": USER_AGENT}) as session,
            session.get(url, params=params, timeout=aiohttp.ClientTimeout(total=wait)) as response,
        ):
            if response.status == 200:
                return Check("source hf", "ok", f"{shown} answered")
            return Check("source hf", "fail", f"{shown} answered HTTP {response.status}")
    except (aiohttp.ClientError, TimeoutError) as exc:
        return Check("source hf", "fail", f"{shown} unreachable ({type(exc).__name__})")


def _schema_detail(version: int, latest: int) -> str:
    if version > latest:
        return f"version {version} is newer than this paperbot knows ({latest}): upgrade paperbot"
    if version < latest:
        return f"version {version} (this paperbot: {latest}): `paperbot run` or `ingest` migrates it"
    return f"version {version} (this paperbot: {latest})"

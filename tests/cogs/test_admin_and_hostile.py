"""Admin-only views, and hostile input from members and from paper sources."""

from __future__ import annotations

from datetime import date
from typing import Any

import discord
import pytest

from bot.domain.models import ListedPaper, Paper, Source
from bot.domain.shards import ShardPlan
from bot.errors import InvalidInput
from bot.services.container import Services
from bot.services.shard_claims import CLAIM_TTL, ShardClaims
from bot.settings import Settings


def admin(env: Any, channel: Any) -> Any:
    guild = channel.guild
    role = guild.create_role("Mods", permissions=discord.Permissions(manage_guild=True))
    return guild.add_member(env.create_user("mod"), roles=[role])


async def test_stats_are_for_admins_and_show_no_secret(world: Any, services: Services) -> None:
    env, channel, alice, _ = world
    mod = admin(env, channel)
    denied = await alice.slash(channel, "papers stats")
    assert denied.ephemeral and "Manage Server" in denied.response.content
    await mod.slash(channel, "follow add", keyword="diffusion")
    shown = await mod.slash(channel, "papers stats")
    assert shown.ephemeral
    fields = {f.name: f.value for f in shown.response.embeds[0].fields}
    assert fields["Papers"].startswith("69 (hf-page: 69)")
    assert fields["Follows"] == "1, 0 alerts sent"
    assert fields["Next post here"] == "no digest set up here"
    assert fields["Next fetch"].startswith("hf: <t:")  # the bot-wide source schedule
    text = str(shown.response.embeds[0].to_dict())
    assert "token" not in text.lower()
    assert [type(e).__name__ for e in env.errors] == ["MissingPermissions"]


async def test_invisible_and_direction_characters_do_not_break_search(world: Any) -> None:
    _, channel, alice, _ = world
    sneaky = "feder\u200bated \u202elearning\u202c"
    result = await alice.slash(channel, "papers search", query=sneaky)
    assert "Federated" in result.response.embeds[0].description
    assert "\u202e" not in result.response.embeds[0].title and "\u200b" not in result.response.embeds[0].title


async def test_injection_in_queries_and_paper_text_pings_nobody(world: Any, services: Services) -> None:
    env, channel, alice, _ = world
    await services.papers.ingest(
        [
            ListedPaper(
                Paper(
                    title="<@&1234> **Mention** the role \u202eor the <#55> channel",
                    abstract="@here look [click](https://evil.example) ```code``` > quote",
                    source=Source.HF_API,
                    arxiv_id="2601.77777",
                    authors=("@everyone",),
                ),
                date(2026, 8, 1),
                1,
            )
        ]
    )
    result = await alice.slash(channel, "papers search", query="@everyone mention role <@123>")
    description = result.response.embeds[0].description
    assert "<@&1234>" not in description and "<@\u200b&1234>" in description  # a broken role mention
    assert "\u202e" not in description  # direction overrides never reach the layout
    assert "@\u200beveryone" in description and "\\*\\*Mention\\*\\*" in description
    requests = [r for r in env.http_requests if r.path.endswith("/callback")]
    assert all(r.json["data"].get("allowed_mentions") == {"parse": []} for r in requests if "data" in r.json)


async def test_over_long_and_pathological_input_is_bounded(world: Any, services: Services) -> None:
    env, channel, alice, _ = world
    long_query = "learning " * 25  # the option's 200-character limit, full of one common word
    result = await alice.slash(channel, "papers search", query=long_query[:200])
    assert result.response.embeds  # answered, not an error
    # Beyond any option limit (e.g. from the CLI), the service still bounds the work.
    hits = await services.papers.search.search(" OR ".join(["a"] * 5000) + '"' * 5000, limit=5)
    assert len(hits) <= 5
    with pytest.raises(InvalidInput, match="no words to look for"):  # only quotes within the bound
        await services.papers.search.search('"' * 5000 + " OR ".join(["a"] * 5000), limit=5)
    keyword = await alice.slash(channel, "follow add", keyword="(" * 50 + "x")
    assert keyword.ephemeral and "not closed" in keyword.response.content
    assert [type(e.original).__name__ for e in env.errors] == ["InvalidInput"]


ONE_OF_TWO_SHARDS = Settings(
    owner_ids=[], digest={"scheduler": False}, follows={"dm_interval_seconds": 0}, shard_count=2, shards="0"
)


@pytest.fixture
async def claimed(services: Services) -> Services:
    """The process's shards claimed, as `paperbot run` claims them before it connects: /papers
    stats sums the servers counted on live claims."""
    await services.shards.claim()
    return services


@pytest.mark.parametrize("settings", [ONE_OF_TWO_SHARDS])
async def test_stats_of_a_process_running_some_shards_say_whose_servers_they_count(
    world: Any, claimed: Services
) -> None:
    env, channel, _, _ = world
    shown = await admin(env, channel).slash(channel, "papers stats")
    servers = {f.name: f.value for f in shown.response.embeds[0].fields}["Servers"]
    # The other shard's process has not counted its servers (none runs here): the sum says so.
    assert servers.startswith("1 on 1 of 2 shards · counted <t:")
    assert "the other shards' processes have not counted lately" in servers


@pytest.mark.parametrize("settings", [ONE_OF_TWO_SHARDS])
async def test_stats_sum_the_servers_every_process_counted_and_drop_a_process_whose_claim_lapsed(
    world: Any, claimed: Services
) -> None:
    env, channel, _, _ = world
    # The process running shard 1 (on another machine) claimed it and counted its 5 servers.
    other = ShardClaims(
        claimed.database,
        claimed.repositories.shard_claims,
        ShardPlan(2, (1,)),
        "machine-b:202:0000abcd",
        clock=claimed.clock,
    )
    await other.claim()
    await other.count_servers({1: 5})

    def servers(shown: Any) -> str:
        return str({f.name: f.value for f in shown.response.embeds[0].fields}["Servers"])

    assert servers(await admin(env, channel).slash(channel, "papers stats")).startswith("6 · counted <t:")
    # It stops renewing its claim (killed, frozen): once the claim lapses its servers no longer add
    # up, though it counted them only a minute ago; and the answer says so. This process renewed.
    await env.advance_time(CLAIM_TTL.total_seconds())
    assert await claimed.shards.keep()
    assert servers(await admin(env, channel).slash(channel, "papers stats")).startswith("1 on 1 of 2 shards")


async def test_stats_of_the_only_process_count_every_server(world: Any, claimed: Services) -> None:
    env, channel, _, _ = world
    env.create_guild(name="Elsewhere")
    shown = await admin(env, channel).slash(channel, "papers stats")
    servers = {f.name: f.value for f in shown.response.embeds[0].fields}["Servers"]
    assert servers.startswith("2 · counted <t:") and servers.endswith(":R>")

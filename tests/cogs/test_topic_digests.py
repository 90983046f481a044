"""Topic channels: several digests in one server, one per channel, each with its own topic filter,
schedule and ledger (simcord's virtual clock; it starts at Thursday 2026-01-01 00:00 UTC). The day's
list (tests/fixtures/hf_daily_2024-07-31.json) holds "ThinK: Thinner Key Cache by Query-Driven
Pruning", "Federated Diffusion Models with Private Prompts" and "@everyone Read This"."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import discord

from bot.client import PaperBot
from bot.domain.models import ListedPaper, Paper, Source
from bot.parsing.hf_api import parse_hf_api
from bot.services.container import Services
from bot.services.digest import MAX_DIGESTS_PER_SERVER
from tests.cogs.test_digest import FIXTURES, NEW_YEAR, Server, digest_messages, server, until


def text(message: discord.Message) -> str:
    return "\n".join(f"{e.title or ''}\n{e.description or ''}" for e in message.embeds)


async def setup_topic(s: Server, channel: Any, topic: str | None, time: str = "09:00", **options: Any) -> Any:
    options = {**options, "topic": topic} if topic is not None else options
    return await s.admin.slash(
        s.channel, "digest setup", channel=channel, time=time, timezone="UTC", **options
    )


async def test_two_topic_channels_each_get_their_own_filtered_post_once(
    digest_env: Any, services: Services
) -> None:
    env = digest_env
    s = server(env, "lab")
    efficiency = s.guild.create_text_channel("efficiency")
    generative = s.guild.create_text_channel("generative")
    quiet = s.guild.create_text_channel("robots")
    shown = await setup_topic(s, efficiency, 'KV-caches OR "long contexts"', time="09:00")
    fields = {f.name: f.value for f in shown.response.embeds[0].fields}
    assert fields["Topic"] == '"kv cache" OR "long context"'  # shown back canonicalised
    await setup_topic(s, generative, "diffusion -video", time="10:00")
    await setup_topic(s, quiet, "robot grasping", time="09:00")
    await setup_topic(s, s.channel, None, time="09:00")  # the server's general digest beside them

    await until(env, 9, 0)
    [general] = digest_messages(s.channel)
    assert "ThinK" in text(general) and "Federated Diffusion" in text(general)
    [first] = digest_messages(efficiency)
    assert "ThinK" in text(first) and "Federated" not in text(first)
    assert 'Topic: "kv cache" OR "long context"' in first.embeds[0].description
    assert digest_messages(generative) == []  # its own time: 10:00
    # Nothing on the topic that day: the empty-day rule (a note saying so, no papers).
    [note] = digest_messages(quiet)
    assert len(note.embeds) == 1 and "No papers on this topic" in note.embeds[0].description

    await until(env, 10, 0)
    [second] = digest_messages(generative)
    assert "Federated Diffusion" in text(second) and "ThinK" not in text(second)

    await env.restart_bot(PaperBot(services=services, settings=env.bot.settings))
    await until(env, 12, 0)
    assert [len(digest_messages(c)) for c in (s.channel, efficiency, generative, quiet)] == [1, 1, 1, 1]


async def test_commands_pick_the_digest_by_channel(digest_env: Any) -> None:
    env = digest_env
    s = server(env, "many")
    topic_channel = s.guild.create_text_channel("efficiency")
    await setup_topic(s, s.channel, None)
    await setup_topic(s, topic_channel, "pruning")

    ask = await s.admin.slash(s.channel, "digest pause")
    assert ask.ephemeral and "2 digests" in ask.response.content and "channel" in ask.response.content
    choices = await s.admin.autocomplete(s.channel, "digest pause", "channel", "effic")
    assert [c["value"] for c in choices] == [str(topic_channel.id)]
    assert "pruning" in choices[0]["name"] and len(choices[0]["name"]) <= 100
    paused = await s.admin.slash(s.channel, "digest pause", channel=str(topic_channel.id))
    assert f"<#{topic_channel.id}>" in paused.response.content

    await until(env, 9, 0)
    assert len(digest_messages(s.channel)) == 1 and digest_messages(topic_channel) == []

    shown = await s.admin.slash(s.channel, "digest show")
    statuses = [{f.name: f.value for f in e.fields} for e in shown.response.embeds]
    assert [st["Channel"] for st in statuses] == [f"<#{s.channel.id}>", f"<#{topic_channel.id}>"]
    assert statuses[0]["Status"] == "✅ Active" and statuses[1]["Status"].startswith("⏸️ Paused")

    preview = await s.admin.slash(s.channel, "digest preview", channel=str(topic_channel.id))
    assert preview.ephemeral and "ThinK" in preview.response.embeds[1].description
    # Typed as "#name" without picking a suggestion (as the /help example shows): the same digest.
    by_name = await s.admin.slash(s.channel, "digest preview", channel="#efficiency")
    assert by_name.ephemeral and "ThinK" in by_name.response.embeds[1].description

    removed = await s.admin.slash(s.channel, "digest remove", channel=str(topic_channel.id))
    assert "removed" in removed.response.content
    await s.admin.slash(s.channel, "digest resume")  # one digest left: no need to say which
    gone = await s.admin.slash(s.channel, "digest preview", channel=str(topic_channel.id))
    assert "has no digest" in gone.response.content
    bad = await s.admin.slash(s.channel, "digest remove", channel="#efficiency; DROP TABLE")
    assert bad.ephemeral and "Pick the digest" in bad.response.content
    assert len(env.errors) == 3  # the three refusals went through the one error handler


async def test_hostile_topics_are_refused_or_shown_as_plain_text(digest_env: Any) -> None:
    env = digest_env
    s = server(env, "hostile")
    only_minus = await setup_topic(s, s.channel, "-video")
    assert only_minus.ephemeral and "only excludes words" in only_minus.response.content
    invisible = await setup_topic(s, s.channel, "\u200b\u2060\u200b")
    assert invisible.ephemeral and "empty" in invisible.response.content
    too_many = await setup_topic(s, s.channel, " ".join(f"w{n} OR" for n in range(12)) + " end")
    assert too_many.ephemeral and "at most" in too_many.response.content
    assert await env.bot.services.digests.configs(s.guild.id) == []  # nothing was stored
    assert len(env.errors) == 3

    marked = await setup_topic(s, s.channel, "@everyone **ThinK** ||cache|| <@123>")
    fields = {f.name: f.value for f in marked.response.embeds[0].fields}
    assert fields["Topic"] == '"everyone think cache 123"'
    await until(env, 9, 0)
    [post] = digest_messages(s.channel)
    assert '"everyone think cache 123"' in post.embeds[0].description
    assert "**" not in post.embeds[0].description.split("Topic:")[1].splitlines()[0]


async def test_a_topic_mixing_scripts_with_look_alikes_is_refused_as_a_follow_is(digest_env: Any) -> None:
    """`раper` (Cyrillic р and а) as a topic was kept and matched nothing: the channel got "No
    papers on this topic" every day. Refused in /follow add's words; one script (Russian) is kept."""
    env = digest_env
    s = server(env, "lookalike")
    refused = await setup_topic(s, s.channel, "раper pruning")
    assert refused.ephemeral
    assert refused.response.content.startswith("topic: “раper pruning” mixes Latin letters with look-alikes")
    said = refused.response.content
    assert "р (U+0440 CYRILLIC SMALL LETTER ER)" in said and "а (U+0430 CYRILLIC SMALL LETTER A)" in said
    assert await env.bot.services.digests.configs(s.guild.id) == []
    assert [type(e.original).__name__ for e in env.errors] == ["InvalidInput"]

    russian = await setup_topic(s, s.channel, "трансформер")
    fields = {f.name: f.value for f in russian.response.embeds[0].fields}
    assert fields["Topic"] == "трансформер"


async def test_a_server_has_at_most_ten_digests_and_show_lists_them_within_limits(digest_env: Any) -> None:
    env = digest_env
    s = server(env, "busy")
    channels = [s.guild.create_text_channel(f"topic-{n}") for n in range(MAX_DIGESTS_PER_SERVER + 1)]
    long_topic = " OR ".join(f'"{w}{n} words"' for n, w in enumerate(("alpha", "beta", "gamma", "delta")))
    for channel in channels[:MAX_DIGESTS_PER_SERVER]:
        ok = await setup_topic(s, channel, long_topic[:100], thread=True)
        assert not ok.response.content, ok.response.content
    refused = await setup_topic(s, channels[-1], "pruning")
    assert refused.ephemeral and "the most allowed" in refused.response.content
    assert len(env.errors) == 1
    again = await setup_topic(s, channels[0], "pruning")  # changing one of the ten is fine
    assert {f.name: f.value for f in again.response.embeds[0].fields}["Topic"] == "pruning"

    shown = await s.admin.slash(s.channel, "digest show")
    pages = [shown.response, *shown.followups]
    listed = [e for page in pages for e in page.embeds]
    assert len(listed) == MAX_DIGESTS_PER_SERVER
    assert all(len(page.embeds) <= 10 and sum(len(e) for e in page.embeds) <= 6000 for page in pages)


def robot_paper(number: int, day: date) -> ListedPaper:
    paper = Paper(
        title=f"Robot Grasping from {number} Demonstrations",
        abstract="A robot learns grasping from a few demonstrations.",
        source=Source.HF_API,
        arxiv_id=f"2601.0999{number}",
        upvotes=7,
    )
    return ListedPaper(paper, day, 1)


async def test_a_quiet_week_on_a_topic_is_not_reported_as_days_missed(
    digest_env: Any, services: Services
) -> None:
    env = digest_env
    s = server(env, "quiet")
    await setup_topic(s, s.channel, "robot grasping")
    await services.papers.ingest([robot_paper(1, NEW_YEAR)])
    await until(env, 9, 0)
    day_list = (FIXTURES / "hf_daily_2024-07-31.json").read_bytes()
    for n in range(1, 10):  # nine days of lists with nothing on the topic
        day = NEW_YEAR + timedelta(days=n)
        await services.papers.ingest(parse_hf_api(day_list, list_date=day))
        await until(env, 9, 0, day + timedelta(days=1))
    first, *notes = digest_messages(s.channel)
    assert "Robot Grasping from 1 Demonstrations" in text(first)
    assert len(notes) == 9 and all("No papers on this topic" in m.embeds[0].description for m in notes)
    eleventh = NEW_YEAR + timedelta(days=10)
    await services.papers.ingest([robot_paper(2, eleventh)])
    await until(env, 9, 0, eleventh + timedelta(days=1))
    post = digest_messages(s.channel)[-1]
    assert "Robot Grasping from 2 Demonstrations" in text(post)
    assert "missed" not in post.embeds[0].description  # quiet days were covered, not missed


async def test_a_topic_whose_canonical_form_spells_more_is_still_posted(
    digest_env: Any, services: Services
) -> None:
    """A topic is stored canonical and parsed again at every post: a Chinese topic typed as one
    word ("large language model", seven characters), the word "and" quoted, and a topic within the
    100 characters typed whose canonical form is longer still read back."""
    env = digest_env
    s = server(env, "topics")
    quoted = s.guild.create_text_channel("quoted")
    narrowed = s.guild.create_text_channel("narrowed")
    chinese = await setup_topic(s, s.channel, "大规模语言模型")
    assert {f.name: f.value for f in chinese.response.embeds[0].fields}["Topic"] == '"大 规 模 语 言 模 型"'
    await setup_topic(s, quoted, 'robots "and"')
    long_topic = (
        "reinforcement learning -robotics -atari -mujoco -locomotion -manipulation -navigation -games"
    )
    await setup_topic(s, narrowed, long_topic)
    paper = Paper(
        title="大规模语言模型的推理",
        abstract="Robots and large language models reason by reinforcement learning.",
        source=Source.HF_API,
        arxiv_id="2601.09990",
        upvotes=7,
    )
    await services.papers.ingest([ListedPaper(paper, NEW_YEAR, 1)])
    await until(env, 9, 0)
    for channel in (s.channel, quoted, narrowed):
        [post] = digest_messages(channel)
        assert "大规模语言模型的推理" in text(post)
    assert env.errors == []

"""Every log line of an interaction names its server and command, for commands and their buttons."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from bot.logging_context import configure


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    configure("INFO", format="json", stream=stream)
    yield stream
    root.handlers[:], root.level = handlers, level


def paperbot_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [line for line in lines if line["logger"].startswith(("bot.", "cogs."))]


async def test_command_button_and_failure_lines_carry_server_and_command(
    world: Any, json_log: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    env, channel, alice, _ = world
    guild_id = channel.guild.id
    result = await alice.slash(channel, "papers search", query="federated learning")
    await alice.click(result.response.message, label="Next")

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the index is on fire")

    monkeypatch.setattr(env.bot.services.papers, "random", broken)
    failed = await alice.slash(channel, "papers random")
    assert "Error reference" in failed.response.content

    assert [type(e.original).__name__ for e in env.errors] == ["RuntimeError"]  # expected: acknowledged

    lines = paperbot_lines(json_log)
    assert [line["message"] for line in lines][:3] == [
        "command /papers search",
        "component Next of /papers search",
        "command /papers random",
    ]
    for line in lines:
        assert line["guild"] == guild_id and line["user"] == alice.id, line
    assert [line["command"] for line in lines][:3] == [
        "papers search",
        "papers search [Next]",
        "papers random",
    ]
    [failure] = [line for line in lines if line["level"] == "ERROR"]
    assert failure["command"] == "papers random" and "the index is on fire" in failure["exception"]


async def test_lines_logged_before_the_command_runs_carry_its_context_too(
    world: Any, json_log: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Admission control may answer "busy" or drop an interaction before the command's own checks
    run; those lines name the interaction as well."""
    from bot.domain.admission import Verdict

    env, channel, alice, _ = world

    async def too_late(ticket: Any) -> Verdict:
        return Verdict.BUSY

    monkeypatch.setattr(env.bot.tree.admission, "turn", too_late)
    monkeypatch.setattr(type(env.bot.tree), "_say_busy", _log_busy)
    answer = await alice.slash(channel, "papers random")
    assert answer.ephemeral
    [busy] = [line for line in paperbot_lines(json_log) if line["message"] == "told busy"]
    assert (busy["guild"], busy["user"], busy["command"]) == (channel.guild.id, alice.id, "papers random")


async def _log_busy(tree: Any, interaction: Any) -> None:
    logging.getLogger("bot.client").info("told busy")
    await interaction.response.send_message("busy", ephemeral=True)

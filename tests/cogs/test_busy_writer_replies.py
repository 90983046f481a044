"""Every command that writes still answers when the writer is busy (another process's ingest, a
background job): the write defers the interaction first ("thinking…", within Discord's 3 s), so
the answer must complete that deferral as a follow-up. A command that sent a fresh response
instead told the member "something went wrong" although its write had happened (found by a
trial: the first /library save after a start, while the start-up jobs held the writer)."""

from __future__ import annotations

import asyncio
from typing import Any

import discord
import pytest

from bot.services.container import Services
from bot.storage.database import Database

# (command, options, a phrase of the answer); {paper} is a stored paper's id. Run in this order
# for one member, so that remove/read/tag/note find the paper the first row saved.
WRITING_COMMANDS: list[tuple[str, dict[str, str], str]] = [
    ("library save", {"paper": "{paper}"}, "Saved"),
    ("library read", {"paper": "{paper}"}, "as read"),
    ("library unread", {"paper": "{paper}"}, "as unread"),
    ("library tag", {"paper": "{paper}", "tags": "survey"}, "survey"),
    ("library note", {"paper": "{paper}", "text": "read section 3"}, "on “"),
    ("library digest", {"state": "on"}, "once a week"),
    ("library remove", {"paper": "{paper}"}, "Removed"),
    ("follow add", {"keyword": "diffusion"}, "diffusion"),
    ("follow pause", {}, "ause"),
    ("follow resume", {}, "again"),
    ("follow remove", {"keyword": "diffusion"}, "diffusion"),
]


@pytest.mark.parametrize(
    ("command", "options", "answer"), WRITING_COMMANDS, ids=[c[0] for c in WRITING_COMMANDS]
)
async def test_a_command_whose_write_waited_for_the_writer_still_answers(
    world: Any,
    services: Services,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    options: dict[str, str],
    answer: str,
) -> None:
    env, channel, alice, _ = world
    [(paper_id, _title)] = await services.papers.repository.newest_titles(1, ("hf-page",))
    chosen = {name: value.format(paper=paper_id) for name, value in options.items()}
    # What the earlier rows of the same group did (the library rows need the paper saved first).
    for earlier, earlier_options, _ in WRITING_COMMANDS[: [c[0] for c in WRITING_COMMANDS].index(command)]:
        if earlier.split()[0] == command.split()[0]:
            await alice.slash(
                channel, earlier, **{k: v.format(paper=paper_id) for k, v in earlier_options.items()}
            )

    deferred = asyncio.Event()
    original_defer = discord.InteractionResponse.defer

    async def defer_and_tell(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = await original_defer(self, *args, **kwargs)
        deferred.set()
        return result

    monkeypatch.setattr(discord.InteractionResponse, "defer", defer_and_tell)
    held = asyncio.Event()

    async def hold_the_writer_until_deferred() -> None:
        async with database.transaction():
            held.set()
            await deferred.wait()

    holder = asyncio.create_task(hold_the_writer_until_deferred())
    await held.wait()
    result = await alice.slash(channel, command, **chosen)
    await holder

    assert deferred.is_set(), "the write did not wait: the test proves nothing"
    assert result.ephemeral
    assert "went wrong" not in result.response.content
    assert answer in result.response.content
    assert not env.errors

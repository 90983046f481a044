"""The command tree's admission glue: busy answers as Discord sees them (through the emulator),
served commands free their slot, an overrunning unanswered command is cut short."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any
from unittest.mock import AsyncMock

import discord
import pytest

from bot.client import PaperTree
from bot.domain.admission import BUSY_MESSAGE, Admission, AdmissionPolicy
from bot.sandbox.emulator import DiscordEmulator

NOW = 1_800_000_000.0


def gate(**policy: Any) -> Admission:
    return Admission(AdmissionPolicy(**{"initial_service": 0.1, **policy}), clock=lambda: NOW)


def tree_with(admission: Admission) -> Any:
    tree: Any = PaperTree.__new__(PaperTree)
    tree.admission = admission
    tree._session = None
    tree._call = AsyncMock()
    return tree


def interaction(
    kind: discord.InteractionType, *, snowflake: int = 1, token: str = "t", done: bool = False
) -> Any:
    response = SimpleNamespace(is_done=lambda: done)
    return SimpleNamespace(id=snowflake, token=token, type=kind, response=response)


@pytest.fixture
async def emu(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[DiscordEmulator]:
    emulator = await DiscordEmulator().start()
    monkeypatch.setattr(discord.http.Route, "BASE", emulator.api_base)
    yield emulator
    await emulator.stop()


async def test_busy_answers_reach_discord_as_a_private_message_and_as_no_choices(
    emu: DiscordEmulator,
) -> None:
    guild = emu.create_guild("g")
    channel = emu.create_channel(guild, "c")
    member = emu.add_member(guild, "m")
    command = emu._interaction(2, member, channel, {"name": "papers"})
    typing = emu._interaction(4, member, channel, {"name": "papers"})
    tree = tree_with(gate(slots=1, max_queued=0))
    tree.admission.arrive(NOW, "command")  # the one slot is taken: both get busy
    try:
        for record, kind in (
            (command, discord.InteractionType.application_command),
            (typing, discord.InteractionType.autocomplete),
        ):
            await tree._admitted(
                interaction(kind, snowflake=record.id, token=record.token), tree.admission.arrive(NOW, "x")
            )
    finally:
        await tree.close()
    assert command.response is not None and command.response["content"] == BUSY_MESSAGE
    assert command.ephemeral and not emu.messages(channel)  # private: nobody else sees it
    assert typing.callback_type == 8 and typing.choices == []
    tree._call.assert_not_awaited()


async def test_a_served_command_frees_its_slot_even_when_it_fails() -> None:
    tree = tree_with(gate(slots=1))
    tree._call.side_effect = RuntimeError("boom")
    command = interaction(discord.InteractionType.application_command)
    with pytest.raises(RuntimeError):
        await tree._admitted(command, tree.admission.arrive(NOW, "command"))
    assert tree.admission.in_service == 0
    tree._call.assert_awaited_once_with(command)


async def test_a_command_still_unanswered_when_time_runs_out_is_cut_short_and_told_busy() -> None:
    tree = tree_with(gate(slots=1))
    tree._say_busy = AsyncMock()
    never = asyncio.Event()

    async def stuck(_: object) -> None:
        await never.wait()

    tree._call = stuck
    command = interaction(discord.InteractionType.application_command, done=False)
    ticket = tree.admission.arrive(NOW, "command")  # a fresh ticket: served...
    ticket.created = NOW - 2.9  # ...whose handler then overran: no time left
    await tree._admitted(command, ticket)
    tree._say_busy.assert_awaited_once_with(command)
    assert tree.admission.in_service == 0


async def test_a_command_that_answered_in_time_runs_to_the_end_past_the_deadline() -> None:
    tree = tree_with(gate(slots=1))
    tree._say_busy = AsyncMock()
    finished = []

    async def deferred_then_long_work(_: object) -> None:
        await asyncio.sleep(0)  # the watchdog (no time left) fires here: answered, so nothing happens
        await asyncio.sleep(0)
        finished.append(True)

    tree._call = deferred_then_long_work
    command = interaction(discord.InteractionType.application_command, done=True)
    ticket = tree.admission.arrive(NOW, "command")
    ticket.created = NOW - 10
    await tree._admitted(command, ticket)
    assert finished == [True]
    tree._say_busy.assert_not_awaited()


async def test_a_busy_answer_that_could_only_arrive_late_is_not_sent() -> None:
    tree = tree_with(gate(slots=1, max_queued=0))
    tree._say_busy = AsyncMock()
    tree.admission.arrive(NOW, "command")
    ticket = tree.admission.arrive(NOW, "command")  # busy...
    ticket.created = NOW - 2.8  # ...but its task only runs now, past the last useful moment
    await tree._admitted(interaction(discord.InteractionType.application_command), ticket)
    tree._say_busy.assert_not_awaited()

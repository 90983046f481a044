"""The command tree's admission glue: busy answers as Discord sees them (through the emulator),
served commands free their slot, an overrunning unanswered command is cut short."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any
from unittest.mock import AsyncMock, Mock

import discord
import pytest

from bot.client import PaperTree
from bot.domain.admission import BUSY_MESSAGE, DISCORD_EPOCH_MS, Admission, AdmissionPolicy
from bot.sandbox.emulator import DiscordEmulator
from bot.sandbox.model import Channel, User

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


# ---- judged from the gateway payload, before discord.py builds anything --------------------------


def raw_payloads(emu: DiscordEmulator) -> list[dict[str, Any]]:
    """INTERACTION_CREATE payloads the emulator sends, as the bot's gateway would receive them."""
    sent: list[dict[str, Any]] = []
    emu.dispatch = lambda event, payload, **_: sent.append(payload)  # type: ignore[method-assign]
    return sent


def with_age(payload: dict[str, Any], seconds: float) -> dict[str, Any]:
    created_ms = int((time.time() - seconds) * 1000) - DISCORD_EPOCH_MS
    return {**payload, "id": str((created_ms << 22) | 1)}


def server_with_a_member(emu: DiscordEmulator) -> tuple[Channel, User, list[dict[str, Any]]]:
    """A channel, a member in its server, and the payloads the emulator will send the bot."""
    guild = emu.create_guild("g")
    return emu.create_channel(guild, "c"), emu.add_member(guild, "m"), raw_payloads(emu)


async def judge_all(tree: Any, parse: Any, payloads: list[dict[str, Any]]) -> None:
    """Feed the payloads to the tree's raw judge and wait for the answers it sends itself."""
    judge = tree.judging_raw_payloads(parse)
    for payload in payloads:
        judge(payload)
    await asyncio.gather(*tree._refusals)
    await tree.close()


def raw_tree(**policy: Any) -> Any:
    tree = tree_with(Admission(AdmissionPolicy(**{"initial_service": 0.1, **policy})))
    tree._tickets, tree._refusals = {}, set()
    return tree


async def test_an_interaction_too_old_to_answer_gets_no_call_and_nothing_is_built(
    emu: DiscordEmulator,
) -> None:
    channel, member, sent = server_with_a_member(emu)
    record = emu._interaction(2, member, channel, {"name": "papers"})
    tree = raw_tree()
    parse = Mock()
    await judge_all(tree, parse, [with_age(sent[0], 2.9)])  # past the last useful moment
    parse.assert_not_called()  # no Interaction, Member or User objects for it
    assert record.callback_type is None and not emu.requests
    assert tree.admission.counts.dropped == 1


async def test_an_interaction_the_bot_has_no_room_for_is_told_busy_from_its_payload_alone(
    emu: DiscordEmulator,
) -> None:
    channel, member, sent = server_with_a_member(emu)
    command = emu._interaction(2, member, channel, {"name": "papers"})
    typing = emu._interaction(4, member, channel, {"name": "papers"})
    tree = raw_tree(slots=1, max_queued=0)
    tree.admission.arrive(time.time(), "command")  # the one slot is taken
    parse = Mock()
    await judge_all(tree, parse, sent)
    parse.assert_not_called()
    assert command.response is not None and command.response["content"] == BUSY_MESSAGE
    assert command.ephemeral and not emu.messages(channel)
    assert typing.callback_type == 8 and typing.choices == []


async def test_a_fresh_interaction_reaches_its_command_with_the_ticket_judged_from_its_payload(
    emu: DiscordEmulator,
) -> None:
    channel, member, sent = server_with_a_member(emu)
    emu._interaction(2, member, channel, {"name": "papers"})
    tree = raw_tree(slots=1)
    built: list[Any] = []

    def discord_parses(data: dict[str, Any]) -> None:  # what discord.py's parser then does
        command = interaction(discord.InteractionType.application_command, snowflake=int(data["id"]))
        command.command, command.guild_id, command.user = None, int(data["guild_id"]), SimpleNamespace(id=1)
        built.append(command)
        tree._from_interaction(command)

    tree.client = SimpleNamespace(loop=asyncio.get_running_loop())
    tree.judging_raw_payloads(discord_parses)(sent[0])
    await asyncio.sleep(0)  # the command's task runs
    await asyncio.sleep(0)
    await tree.close()
    tree._call.assert_awaited_once_with(built[0])
    assert tree.admission.counts.served == 1 and tree.admission.in_service == 0  # one ticket, freed


async def test_a_payload_discord_py_cannot_read_gives_its_slot_back(emu: DiscordEmulator) -> None:
    channel, member, sent = server_with_a_member(emu)
    emu._interaction(2, member, channel, {"name": "papers"})
    tree = raw_tree(slots=1)
    with pytest.raises(KeyError):
        tree.judging_raw_payloads(Mock(side_effect=KeyError("member")))(sent[0])
    assert tree.admission.in_service == 0 and not tree._tickets

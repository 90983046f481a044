"""A gateway address that cannot be reached is named in a warning on each failed try, with the
wait before the next one, and never with a user, password or query that could hold a secret."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot import gateway_reach
from bot.domain.urls import shown_url
from bot.gateway_reach import wait_until_reachable
from tests.loopback import closed_port

SECRET_URL = "ws://paperbot:hunter2@127.0.0.1:{port}/gateway?token=s3cr3t"


async def test_each_failed_connect_warns_with_the_address_and_the_wait_then_it_connects(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = closed_port()
    waits: list[float] = []
    servers: list[asyncio.Server] = []

    async def sleep(delay: float) -> None:  # a virtual clock: the gateway comes back on the 2nd wait
        waits.append(delay)
        if len(waits) == 2:
            servers.append(await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", port))

    with caplog.at_level(logging.INFO, logger="bot.gateway_reach"):
        await wait_until_reachable(SECRET_URL.format(port=port), answer_within=5, shard_id=0, sleep=sleep)
    for server in servers:
        server.close()
        await server.wait_closed()
    assert waits == [5, 10]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    for message, wait in zip(warnings, waits, strict=True):
        assert (
            f"cannot connect to the Discord gateway at ws://127.0.0.1:{port}/gateway for shard 0" in message
        )
        assert f"trying again in {wait:g} s" in message and "refused" in message.lower()
    assert "hunter2" not in caplog.text and "s3cr3t" not in caplog.text and "paperbot:" not in caplog.text


async def test_an_address_that_never_answers_is_named_after_the_connect_timeout(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def never_answers(host: str, port: int) -> tuple[object, object]:
        await asyncio.Event().wait()  # a black-holed address: the SYN goes unanswered
        raise AssertionError("unreachable")

    monkeypatch.setattr(gateway_reach.asyncio, "open_connection", never_answers)
    waits: list[float] = []

    async def sleep(delay: float) -> None:
        waits.append(delay)
        if len(waits) == 3:
            raise asyncio.CancelledError  # the bot stopping: the loop ends with it

    with caplog.at_level(logging.WARNING, logger="bot.gateway_reach"), pytest.raises(asyncio.CancelledError):
        await wait_until_reachable("wss://gateway.example:443", answer_within=0.01, sleep=sleep)
    assert waits == [5, 10, 20]
    assert [r.getMessage().split(";")[0] for r in caplog.records] == [
        "cannot connect to the Discord gateway at wss://gateway.example:443/ (no answer within 0.01 s)"
    ] * 3


def test_waits_double_up_to_a_minute() -> None:
    delays = gateway_reach.retry_delays()
    assert [next(delays) for _ in range(7)] == [5, 10, 20, 40, 60, 60, 60]


def test_shown_address_keeps_only_scheme_host_port_and_path() -> None:
    assert shown_url("wss://u:p@gateway.discord.gg/?v=10&encoding=json") == "wss://gateway.discord.gg/"

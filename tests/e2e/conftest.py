"""Drive the real ``paperbot`` process against the loopback Discord emulator."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.sandbox.emulator import DiscordEmulator
from bot.sandbox.model import Channel, Guild, User

TOKEN = "e2e-throwaway-token-0f7c2d9b"  # checked to never appear in any log


class BotProcess:
    """``paperbot run`` as a child process, its log lines collected as they come."""

    def __init__(self, env: dict[str, str], cwd: Path, args: tuple[str, ...] = ()) -> None:
        self.env, self.cwd, self.args = env, cwd, args
        self.lines: list[str] = []
        self.process: asyncio.subprocess.Process | None = None
        self._new_line = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> BotProcess:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            *self.args,
            env=self.env,
            cwd=self.cwd,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        async for raw in self.process.stdout:
            self.lines.append(raw.decode(errors="replace").rstrip())
            self._new_line.set()

    async def wait_for_log(self, text: str, *, after: int = 0, wait: float = 15.0) -> str:
        """The first log line (from index ``after``) containing ``text``."""
        async with asyncio.timeout(wait):
            while True:
                for line in self.lines[after:]:
                    if text in line:
                        return line
                self._new_line.clear()
                await self._new_line.wait()

    def send(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    async def wait(self, wait: float = 15.0) -> int:
        assert self.process is not None
        async with asyncio.timeout(wait):
            code = await self.process.wait()
            if self._reader is not None:
                await self._reader
        return code

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.send(signal.SIGKILL)
            await self.wait()


@pytest.fixture
async def emulator() -> AsyncIterator[DiscordEmulator]:
    emu = await DiscordEmulator().start()
    yield emu
    await emu.stop()
    # Nothing the bot sent would Discord have refused (Invalid Form Body: limits, components, choices).
    assert emu.rejections == []


@pytest.fixture
def bot_env(emulator: DiscordEmulator, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERBOT_", "DISCORD_"))}
    env.update(
        DISCORD_TOKEN=TOKEN,
        DISCORD_API_BASE=emulator.api_base,
        DISCORD_GATEWAY_URL=emulator.gateway_url,
        PAPERBOT_DB=str(tmp_path / "e2e.db"),
        PAPERBOT_LOG_LEVEL="INFO",
        PAPERBOT_DIGEST__TICK_SECONDS="0.5",
        PAPERBOT_FOLLOWS__POLL_SECONDS="0.5",
        PAPERBOT_FOLLOWS__DM_INTERVAL_SECONDS="0",
        # Live sources stay on this machine: a closed loopback port fails fast.
        PAPERBOT_SOURCES__HF_API_URL="http://127.0.0.1:9/daily_papers",
        PAPERBOT_SOURCES__RETRY_ATTEMPTS="1",
        PYTHONUNBUFFERED="1",
    )
    return env


async def run_cli(env: dict[str, str], cwd: Path, *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()
    return output.decode()


@pytest.fixture
async def bots(bot_env: dict[str, str], tmp_path: Path) -> AsyncIterator[list[BotProcess]]:
    started: list[BotProcess] = []
    yield started
    for bot in started:
        await bot.kill()


@dataclass(frozen=True)
class Lab:
    """A server with a #papers channel, an admin (Manage Server) and a member."""

    guild: Guild
    channel: Channel
    admin: User
    alice: User


@pytest.fixture
def lab(emulator: DiscordEmulator) -> Lab:
    guild = emulator.create_guild("Research Lab")
    channel = emulator.create_channel(guild, "papers")
    return Lab(
        guild,
        channel,
        emulator.add_member(guild, "admin", manage_server=True),
        emulator.add_member(guild, "alice"),
    )


async def start_bot(
    env: dict[str, str], cwd: Path, bots: list[BotProcess], *args: str, wait: float = 30
) -> BotProcess:
    """A `paperbot run` process (``args``: its options), once it has connected and caught up."""
    bot = await BotProcess(env, cwd, args).start()
    bots.append(bot)
    await bot.wait_for_log("digest catch-up at start", wait=wait)
    return bot

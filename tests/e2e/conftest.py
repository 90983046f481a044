"""Drive the real ``paperbot`` process against the loopback Discord emulator."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.domain.admission import BUSY_MESSAGE
from bot.sandbox.emulator import DiscordEmulator
from bot.sandbox.model import Channel, Guild, InteractionRecord, User

TOKEN = "e2e-throwaway-token-0f7c2d9b"  # checked to never appear in any log
# Waits on the bot process end on events: the awaited log line, or the process ending (which fails
# at once, with its log). This bound only stops a hung process; it is no measure of speed: on a
# loaded 2-core machine importing the bot alone can take 10 s, and starting it more than 15.
HANG_GUARD = 180.0


class BotProcess:
    """``paperbot run`` as a child process, its log lines collected as they come."""

    def __init__(self, env: dict[str, str], cwd: Path, args: tuple[str, ...] = ()) -> None:
        self.env, self.cwd, self.args = env, cwd, args
        self.lines: list[str] = []
        self.process: asyncio.subprocess.Process | None = None
        self._new_line = asyncio.Event()
        self._ended = False  # its output closed: it exited
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
        self._ended = True
        self._new_line.set()

    async def wait_for_log(self, text: str, *, after: int = 0, wait: float = HANG_GUARD) -> str:
        """The first log line (from index ``after``) containing ``text``; AssertionError with the
        log at once if the process ends without it (``wait`` only guards a process that hangs)."""
        try:
            async with asyncio.timeout(wait):
                while True:
                    for line in self.lines[after:]:
                        if text in line:
                            return line
                    if self._ended:
                        raise AssertionError(f"the bot ended without logging {text!r}:\n{self.log()}")
                    self._new_line.clear()
                    await self._new_line.wait()
        except TimeoutError:
            raise AssertionError(f"no {text!r} logged within {wait} s:\n{self.log()}") from None

    def log(self) -> str:
        return "\n".join(self.lines)

    def send(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    async def wait(self, wait: float = HANG_GUARD) -> int:
        assert self.process is not None
        try:
            async with asyncio.timeout(wait):
                code = await self.process.wait()
                if self._reader is not None:
                    await self._reader
        except TimeoutError:
            raise AssertionError(f"the bot did not exit within {wait} s:\n{self.log()}") from None
        return code

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.send(signal.SIGKILL)
            await self.wait()


@pytest.fixture
async def emulator() -> AsyncIterator[DiscordEmulator]:
    emu = await DiscordEmulator(token=TOKEN).start()
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
    env: dict[str, str], cwd: Path, bots: list[BotProcess], *args: str, wait: float = HANG_GUARD
) -> BotProcess:
    """A `paperbot run` process (``args``: its options), once it has connected and caught up."""
    bot = await BotProcess(env, cwd, args).start()
    bots.append(bot)
    await bot.wait_for_log("digest catch-up at start", wait=wait)
    return bot


def answer_text(record: InteractionRecord) -> str:
    """What the member reads last: the final follow-up, else the first answer."""
    return str((record.followups[-1] if record.followups else record.response or {}).get("content") or "")


async def served(
    emu: DiscordEmulator, user: User, channel: Channel, command: str, /, **options: Any
) -> InteractionRecord:
    """``/command`` as a member sends it, and again while the bot answers "busy" (it says to try
    again) or does not answer within Discord's 3 s (the member sees "The application did not
    respond": a bot stalled on a loaded machine drops what it can no longer answer in time): whether
    a loaded machine can start a command in time is the bot's admission control's call
    (tests/test_client_admission), not what these tests are about. The commands sent this way do
    the same when sent twice. Positional-only, as the emulator's ``slash``: a command's own option
    may be called ``channel`` (/digest setup)."""
    while True:
        record = emu.send_slash(user, channel, command, **options)
        await emu.wait_for(lambda sent=record: sent.done() or sent.unanswered(), wait=HANG_GUARD)
        if record.done() and BUSY_MESSAGE not in answer_text(record):
            return record

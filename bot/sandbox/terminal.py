"""`paperbot sandbox`: the real bot against the loopback Discord, driven from a terminal prompt.

Type slash commands as a pretend member (``/papers search diffusion``, ``/follow add pruning``,
``/digest preview``); replies, channel posts and DMs are printed as they arrive. Options go as
``name:value``; free text fills the command's first text option. With no terminal attached, a
short scripted tour runs and the sandbox exits (so it can be smoke-tested).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shlex
import sys
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

from bot.client import PaperBot, use_endpoints
from bot.data import bundled_sample
from bot.domain.models import Paper, Source
from bot.parsing.formats import parse_file
from bot.parsing.hf_page import render_hf_page
from bot.sandbox.emulator import DiscordEmulator, InteractionRecord
from bot.sandbox.model import Channel, Json, User
from bot.services.container import Services, open_services
from bot.settings import Settings

TOKEN = "sandbox-token-not-a-secret"
BANNER = (
    "[bold]paperbot sandbox[/bold]: DISCORD_TOKEN is not set, so the real bot runs against a pretend "
    "Discord on this machine (server 'Sandbox Lab', channel #papers; you are an admin).\n"
    "Try [cyan]/papers search diffusion[/cyan], [cyan]/papers show paper:federated[/cyan], "
    "[cyan]/follow add pruning[/cyan], [cyan]/digest setup time:09:00 timezone:UTC[/cyan], "
    "[cyan]/digest preview[/cyan], [cyan]click Next[/cyan], [cyan]ingest FILE[/cyan], [cyan]quit[/cyan]."
)
TOUR = (
    "/papers search learning",
    "click Next",
    "/papers show paper:federated learning",
    "/follow add diffusion",
    "ingest <tour papers>",
    "/follow list",
    "/digest setup time:{now} timezone:UTC",
    "/digest preview",
    "/digest post-now",
    "/papers today",
)
_UNESCAPE = re.compile(r"\\([\\*_~`|\[\]#>-])")
_LINK = re.compile(r"\[(?P<text>(?:\\.|[^\]\\])*)\]\(<?(?P<url>[^)>]+)>?\)")
_TIMESTAMP = re.compile(r"<t:(?P<seconds>\d+)(?::\w)?>")
_CHANNEL = re.compile(r"<#\d+>")


class Sandbox:
    def __init__(self, settings: Settings, console: Console) -> None:
        self.settings = settings
        self.console = console
        self.emulator = DiscordEmulator()
        self.channel: Channel
        self.you: User
        self.last_message: Json | None = None
        self._seen_channel = 0
        self._seen_dms = 0

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Sandbox]:
        emulator = await self.emulator.start()
        guild = emulator.create_guild("Sandbox Lab")
        self.channel = emulator.create_channel(guild, "papers")
        self.you = emulator.add_member(guild, "you", manage_server=True)
        use_endpoints(emulator.api_base, emulator.gateway_url)
        try:
            async with open_services(self.settings) as services:
                await _load_bundled(services)
                async with PaperBot(services=services, settings=self.settings) as bot:
                    await bot.login(TOKEN)
                    await bot.publish_commands()  # the sandbox acts as the owner syncing once
                    runner = asyncio.create_task(bot.connect(reconnect=False))
                    await emulator.wait_for(emulator.identified.is_set, wait=30)
                    self.services, self.bot = services, bot
                    try:
                        yield self
                    finally:
                        await bot.close()
                        with contextlib.suppress(Exception):
                            await runner
        finally:
            await emulator.stop()

    # ---- commands ------------------------------------------------------------------------------

    async def run_line(self, line: str, *, echo: bool = False) -> bool:
        """Run one line (typed, or from the tour with ``echo``); False to quit."""
        line = line.strip()
        if not line:
            return True
        if line in ("quit", "exit"):
            return False
        if echo:  # at a prompt the terminal already shows what was typed
            self.console.print(f"[bold green]you>[/bold green] {line}", highlight=False)
        try:
            if line == "help":
                self.console.print(BANNER)
            elif line.startswith("click "):
                await self._click(line[len("click ") :].strip())
            elif line.startswith("ingest "):
                await self._ingest(line[len("ingest ") :].strip())
            elif line.startswith("/"):
                await self._slash(line[1:])
            else:
                self.console.print("Commands start with /, or: click LABEL, ingest FILE, help, quit.")
        except (LookupError, ValueError, TimeoutError) as exc:
            self.console.print(f"[red]{exc}[/red]")
        await self._show_news()
        return True

    async def _slash(self, text: str) -> None:
        words = shlex.split(text)
        commands = {c["name"]: c for c in self.emulator.global_commands}
        if not words or words[0] not in commands:
            raise LookupError(f"unknown command; try one of: {', '.join('/' + n for n in sorted(commands))}")
        definition, path = commands[words[0]], [words[0]]
        rest = words[1:]
        while rest and any(
            o["name"] == rest[0] and o["type"] in (1, 2) for o in definition.get("options", [])
        ):
            definition = next(o for o in definition["options"] if o["name"] == rest[0])
            path.append(rest.pop(0))
        options = self._options(definition, rest)
        if "paper" in options and path[:2] == ["papers", "show"]:
            typed = options["paper"]
            choices = await self.emulator.autocomplete(self.you, self.channel, "papers show", "paper", typed)
            if choices:
                options["paper"] = choices[0]["value"]
        record = await self.emulator.slash(self.you, self.channel, " ".join(path), **options)
        self._show_interaction(record)

    def _options(self, definition: Json, words: list[str]) -> dict[str, Any]:
        known = {o["name"]: o for o in definition.get("options", [])}
        options: dict[str, Any] = {}
        free: list[str] = []
        for word in words:
            name, sep, value = word.partition(":")
            if sep and name in known:
                options[name] = value
            else:
                free.append(word)
        text_option = next((o["name"] for o in definition.get("options", []) if o["type"] == 3), None)
        if free and text_option and text_option not in options:
            options[text_option] = " ".join(free)
        for name, option in known.items():
            if option["type"] == 7:  # a channel: the sandbox has one
                options[name] = self.channel
            elif name in options and option["type"] == 4:
                options[name] = int(options[name])
            elif name in options and option["type"] == 5:
                options[name] = str(options[name]).lower() in ("1", "true", "yes", "on")
        return options

    async def _click(self, label: str) -> None:
        if self.last_message is None:
            raise LookupError("no message with buttons yet")
        record = await self.emulator.click(self.you, self.last_message, label)
        self._show_interaction(record)

    async def _ingest(self, name: str) -> None:
        if name == "<tour papers>":
            data, source = _tour_page(), "tour"
        else:
            data, source = await asyncio.to_thread(_read, name), name
        counts = await self.services.papers.ingest(parse_file(data, source=source, today=date.today()))
        summary = f"{counts.new} new, {counts.updated} updated, {counts.unchanged} unchanged"
        self.console.print(f"[dim]ingested: {summary}[/dim]")
        if counts.new and await self.services.pending_alerts():
            self.bot.dispatch("papers_ingested")  # as the bot's own fetch job does
            with contextlib.suppress(TimeoutError):
                await self.emulator.wait_for(
                    lambda: len(self.emulator.dms(self.you)) > self._seen_dms, wait=10
                )

    # ---- rendering -----------------------------------------------------------------------------

    def _show_interaction(self, record: InteractionRecord) -> None:
        messages = [m for m in [record.response, *record.followups] if m and m.get("id")]
        for message in dict((m["id"], m) for m in messages).values():
            note = "only you can see this" if message.get("flags", 0) & 64 else "in #papers"
            self.console.print(_render(message, f"paperbot · {note}"))
            if message.get("components"):
                self.last_message = message

    async def _show_news(self) -> None:
        posts = self.emulator.messages(self.channel)
        interaction_ids = {
            r.response["id"] for r in self.emulator.interactions.values() if r.response and "id" in r.response
        }
        for message in posts[self._seen_channel :]:
            if message["id"] not in interaction_ids:
                self.console.print(_render(message, "paperbot posted in #papers"))
        self._seen_channel = len(posts)
        dms = self.emulator.dms(self.you)
        for message in dms[self._seen_dms :]:
            self.console.print(_render(message, "paperbot · direct message to you"))
        self._seen_dms = len(dms)


def _read(name: str) -> bytes:
    return Path(name).expanduser().read_bytes()


def _plain(text: str) -> str:
    """Discord markdown made readable in a terminal: links as their text, bold marks and escapes gone,
    timestamps and channel mentions spelled out."""
    text = _LINK.sub(lambda m: m["text"], text).replace("**", "")
    text = _TIMESTAMP.sub(
        lambda m: datetime.fromtimestamp(int(m["seconds"]), UTC).strftime("%a %d %b %H:%M UTC"), text
    )
    text = _CHANNEL.sub("#papers", text)
    return _UNESCAPE.sub(r"\1", text).replace("\u200b", "")


def _render(message: Json, title: str) -> Panel:
    parts: list[Any] = []
    if message.get("content"):
        parts.append(Text(_plain(message["content"])))
    for embed in message.get("embeds", []):
        if embed.get("title"):
            parts.append(Text(_plain(embed["title"]), style="bold"))
        if embed.get("description"):
            parts.append(Text(_plain(embed["description"])))
        for field in embed.get("fields", []):
            parts.append(Text.assemble((f"{field['name']}: ", "bold"), _plain(field["value"])))
        if embed.get("footer"):
            parts.append(Text(embed["footer"]["text"], style="dim"))
    buttons = [c.get("label") for row in message.get("components", []) for c in row.get("components", [])]
    if buttons:
        parts.append(Text("  ".join(f"[{b}]" for b in buttons if b), style="cyan"))
    return Panel(Group(*parts) if parts else Text("(empty)"), title=title, title_align="left", expand=False)


async def _load_bundled(services: Services) -> None:
    name, data = bundled_sample()
    await services.papers.ingest(parse_file(data, source=name, today=date.today()))


def _tour_page() -> bytes:
    abstract = (
        "We study video diffusion models trained with a new noise schedule. Our method improves temporal "
        "consistency on three benchmarks while halving sampling cost. Extensive ablations show that the "
        "schedule matters most for long clips, and we release code and checkpoints for the community."
    )
    title = "Faster Video Diffusion with Learned Noise Schedules"
    paper = Paper(title=title, abstract=abstract, source=Source.HF_PAGE)
    return render_hf_page([(date.today(), [paper])]).encode()


async def run_sandbox(
    settings: Settings, *, interactive: bool | None = None, console: Console | None = None
) -> int:
    console = console or Console(highlight=False)
    interactive = sys.stdin.isatty() if interactive is None else interactive
    console.print(Panel(BANNER, border_style="yellow"))
    sandbox = Sandbox(settings, console)
    async with sandbox.running():
        if not interactive:
            console.print("[dim]No terminal attached: running the scripted tour.[/dim]")
            now = datetime.now(UTC).strftime("%H:%M")
            for line in TOUR:
                await sandbox.run_line(line.format(now=now), echo=True)
            console.print("[bold]Tour done.[/bold] Run `paperbot sandbox` in a terminal to try it yourself.")
            return 0
        while True:
            try:
                line = await asyncio.to_thread(input, "you> ")
            except EOFError:
                break
            if not await sandbox.run_line(line):
                break
    return 0

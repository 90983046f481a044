"""`paperbot sandbox`: the real bot against the loopback Discord, driven from a terminal prompt.

Type slash commands as a pretend member (``/papers search diffusion``, ``/follow add pruning``,
``/digest preview``); replies, channel posts and DMs are printed as they arrive. Options go as
``name:value`` as in Discord: a value runs up to the next ``name:`` and is sent as typed (quotes
included); free text before the first option fills the command's first text option. The emulator
refuses what Discord's client refuses (missing or out-of-range options, disabled buttons, options a
select menu does not have). Attached files show their name, size and first lines. With no
terminal attached, a short scripted tour runs and the sandbox exits (so it can be smoke-tested).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shlex
import signal
import sys
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

from bot.client import PaperBot, endpoints
from bot.data import bundled_sample
from bot.domain.models import ListedPaper, Paper, Source
from bot.domain.printable import printable
from bot.errors import PaperbotError
from bot.parsing.formats import parse_file
from bot.parsing.hf_page import render_hf_page
from bot.runner import keep_shards
from bot.sandbox.emulator import DiscordEmulator, InteractionRecord
from bot.sandbox.model import Channel, Json, User
from bot.sandbox.rules import BOOLEAN, CHANNEL, INTEGER, NUMBER, STRING, Refused, buttons, menu_name, menus
from bot.services.container import Services, open_services
from bot.settings import Settings
from bot.sources.files import read_papers_file

TOKEN = "sandbox-token-not-a-secret"
NO_TOKEN_NOTE = "DISCORD_TOKEN is not set, so the real bot runs against a pretend Discord on this machine"
TOKEN_NOTE = (
    "DISCORD_TOKEN is set, but the sandbox never uses it: the real bot runs against a pretend Discord on "
    "this machine (`paperbot run` connects to Discord)"
)
TRY = (
    "Try [cyan]/papers search diffusion[/cyan], [cyan]/papers show paper:federated[/cyan], "
    "[cyan]/follow add pruning[/cyan], [cyan]/digest setup time:09:00 timezone:UTC[/cyan], "
    "[cyan]/digest preview[/cyan], [cyan]click Next[/cyan], [cyan]ingest FILE[/cyan], [cyan]help[/cyan], "
    "[cyan]quit[/cyan]."
)


def banner(token_set: bool) -> str:
    note = TOKEN_NOTE if token_set else NO_TOKEN_NOTE
    return (
        f"[bold]paperbot sandbox[/bold]: {note} (server 'Sandbox Lab', channel #papers; you are an admin; "
        "the bundled sample's list days are moved so that its newest is today).\n" + TRY
    )


OPTION_SYNTAX = (
    "Options go as name:value, as in Discord: a value runs up to the next name: and is sent as typed, "
    'quotes included (paper:Value Kaleid, query:"reward model" -video). Text before the first option '
    "fills the command's first text option. [optional] options may be left out; channel options are "
    "#papers. Also: click LABEL (a button on the last message with buttons), pick MENU OPTION (a "
    "select menu there: MENU its first word, OPTION a label or its start; OPTION | OPTION for "
    "several), ingest FILE... "
    '(paths split as a shell does: "my papers.json", ~/papers.json), help, quit (or Ctrl-C, Ctrl-D).'
)
TYPE_HINTS = {
    STRING: "text",
    INTEGER: "whole number",
    NUMBER: "number",
    BOOLEAN: "true|false",
    CHANNEL: "#papers",
}
TOUR_PAPERS = "<tour papers>"  # the tour's own page of papers, never a file name
TOUR = (
    "/papers search learning",
    "click Next",
    "/papers show paper:federated learning",
    "/follow add diffusion",
    f"ingest {TOUR_PAPERS}",
    "/follow list",
    "/digest setup time:{now} timezone:UTC",
    "/digest preview",
    "/digest post-now",
    "/papers today",
)
# One left-to-right pass, as Discord reads markdown: an escape (a backslash before punctuation) is
# taken first, so an escaped bracket or angle bracket never starts a link, timestamp or mention.
_MARKUP = re.compile(
    r"\\(?P<escaped>[^0-9A-Za-z\s])"
    r"|\[(?P<text>(?:\\.|[^\]\\])*)\]\(<?(?P<url>[^)>\s]+)>?\)"
    r"|<t:(?P<seconds>\d+)(?::\w)?>"
    r"|(?P<channel><#\d+>)"
    r"|(?P<bold>\*\*)"
)


@contextlib.asynccontextmanager
async def _claimed(services: Services) -> AsyncIterator[None]:
    """The shards the sandbox's bot runs, claimed as `paperbot run` claims them: /papers stats
    counts the servers of live claims."""
    await services.shards.claim()
    try:
        yield
    finally:
        await services.shards.release()


class Sandbox:
    def __init__(self, settings: Settings, console: Console) -> None:
        self.settings = settings
        self.console = console
        self.emulator = DiscordEmulator(token=TOKEN)
        self.channel: Channel
        self.you: User
        self.last_message: Json | None = None
        self._seen_channel = 0
        self._seen_dms = 0
        self._seen_rejections = 0
        self.idle = asyncio.Event()
        self.idle.set()
        self.news_shown = asyncio.Event()  # set when news printed while the prompt waited

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Sandbox]:
        emulator = await self.emulator.start()
        guild = emulator.create_guild("Sandbox Lab")
        self.channel = emulator.create_channel(guild, "papers")
        self.you = emulator.add_member(guild, "you", manage_server=True)
        try:
            with endpoints(emulator.api_base, emulator.gateway_url):
                async with open_services(self.settings) as services, _claimed(services):
                    await _load_bundled(services)
                    async with PaperBot(services=services, settings=self.settings) as bot:
                        await bot.login(TOKEN)
                        await bot.publish_commands()  # the sandbox acts as the owner syncing once
                        runner = asyncio.create_task(bot.connect(reconnect=False))
                        keeping = asyncio.create_task(keep_shards(bot, services.shards))
                        await emulator.wait_for(emulator.identified.is_set, wait=30)
                        self.services, self.bot = services, bot
                        try:
                            yield self
                        finally:
                            keeping.cancel()
                            await bot.close()
                            with contextlib.suppress(Exception):
                                await runner
        finally:
            await emulator.stop()

    # ---- commands ------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return not self.idle.is_set()

    async def run_line(self, line: str, *, echo: bool = False) -> bool:
        """Run one line (typed, or from the tour with ``echo``); False to quit."""
        self.idle.clear()
        try:
            return await self._run_line(line, echo=echo)
        finally:
            self.idle.set()

    async def _run_line(self, line: str, *, echo: bool) -> bool:
        line = line.strip()
        if not line:
            return True
        if line in ("quit", "exit"):
            return False
        if echo:  # at a prompt the terminal already shows what was typed
            self.console.print(Text.assemble(("you> ", "bold green"), line))
        try:
            if line == "help":
                self.console.print(self.help())
            elif line == "click" or line.startswith("click "):
                await self._click(line[len("click") :].strip())
            elif line == "pick" or line.startswith("pick "):
                await self._pick(line[len("pick") :].strip())
            elif line == "ingest" or line.startswith("ingest "):
                await self._ingest(_file_names(line[len("ingest") :]))
            elif line.startswith("/"):
                await self._slash(line[1:])
            else:
                self.console.print(
                    "Commands start with /, or: click LABEL, pick MENU OPTION, ingest FILE..., help, quit."
                )
        except (LookupError, ValueError, TimeoutError, PaperbotError) as exc:
            # Refused (what Discord's client would not send) is a ValueError; text is never markup.
            self.console.print(Text(str(exc) or type(exc).__name__, style="red"))
        self._show_rejections()
        await self._show_news()
        return True

    async def _slash(self, text: str) -> None:
        commands = {c["name"]: c for c in self.emulator.global_commands}
        name, _, rest = text.strip().partition(" ")
        if name not in commands:
            raise LookupError(f"unknown command; try one of: {', '.join('/' + n for n in sorted(commands))}")
        definition, path = commands[name], [name]
        while True:
            word, _, after = rest.strip().partition(" ")
            subs = {o["name"]: o for o in definition.get("options", []) if o["type"] in (1, 2)}
            if word in subs:
                definition, rest = subs[word], after
                path.append(word)
            elif subs:
                hint = ", ".join(f"/{' '.join(path)} {s}" for s in subs)
                raise LookupError(f"/{' '.join(path)} needs a subcommand: {hint}")
            else:
                break
        # Sent as typed, as Discord does unless a suggestion is picked: the bot resolves part of a
        # title the same way for every command that takes a paper.
        options = self._options(definition, rest)
        record = await self.emulator.slash(self.you, self.channel, " ".join(path), **options)
        self._show_interaction(record)

    def _options(self, definition: Json, text: str) -> dict[str, Any]:
        """``name:value`` pairs as Discord takes them: each value up to the next known ``name:``."""
        known = {o["name"]: o for o in definition.get("options", [])}
        values = split_options(text, known)
        free = values.pop("", "")
        text_option = next(
            (o["name"] for o in known.values() if o["type"] == STRING and o["name"] not in values), None
        )
        if free:
            if text_option is None:
                syntax = self._syntax(definition) or "no options"
                raise Refused(f"{free!r} is not an option here; write name:value ({syntax})")
            values[text_option] = free
        options: dict[str, Any] = {}
        for name, value in values.items():
            _refuse_unknown_options(known, name, value)
            options[name] = _typed(known[name], value)
        for name, option in known.items():
            if option["type"] == CHANNEL:  # a channel: the sandbox has one
                options[name] = self.channel
        return options

    def help(self) -> Group:
        lines: list[Any] = [Text.from_markup(TRY), Text(OPTION_SYNTAX)]
        for command in sorted(self.emulator.global_commands, key=lambda c: c["name"]):
            for path, leaf in _leaves(command, [command["name"]]):
                usage = f"/{' '.join(path)} {self._syntax(leaf)}".rstrip()
                lines.append(Text.assemble((usage, "cyan"), "  ", (leaf.get("description", ""), "dim")))
        return Group(*lines)

    @staticmethod
    def _syntax(definition: Json) -> str:
        parts = []
        for option in definition.get("options", []):
            hint = TYPE_HINTS.get(option["type"], "value")
            if option.get("choices"):
                hint = "|".join(str(c["value"]) for c in option["choices"])
            elif "min_value" in option or "max_value" in option:
                hint = f"{option.get('min_value', '')}..{option.get('max_value', '')}"
            part = f"{option['name']}:<{hint}>"
            parts.append(part if option.get("required") else f"[{part}]")
        return " ".join(parts)

    async def _click(self, label: str) -> None:
        if not label:
            raise LookupError("click which button? e.g. click Next")
        if self.last_message is None:
            raise LookupError("no message with buttons yet")
        try:
            record = await self.emulator.click(self.you, self.last_message, label)
        except LookupError as exc:
            if any(menus(self.last_message)):
                raise LookupError(
                    f"{exc}; to choose in a menu: pick MENU OPTION, e.g. {_pick_example(self.last_message)}"
                ) from None
            raise
        self._show_interaction(record)

    async def _pick(self, text: str) -> None:
        """``pick MENU OPTION[ | OPTION...]``: choose in a select menu of the last message with
        components; MENU is the first word of its placeholder (may be left out when it has one menu),
        an OPTION its label (or a unique start of it) or its value."""
        message = self.last_message
        shown = list(menus(message)) if message else []
        if message is None or not shown:
            raise LookupError("no message with a select menu yet")
        if not text:
            raise LookupError(f"pick what? e.g. {_pick_example(message)}")
        word, _, rest = text.partition(" ")
        named = [m for m in shown if word.casefold() in (_menu_word(m), str(m.get("custom_id")).casefold())]
        if len(named) == 1 and rest.strip():
            menu, text = named[0], rest
        elif len(shown) == 1:
            menu = shown[0]
        else:
            words = ", ".join(f"{_menu_word(m)} ({printable(menu_name(m))})" for m in shown)
            raise LookupError(f"which menu? This message has {words}: e.g. {_pick_example(message)}")
        picks = [_option_value(menu, pick.strip()) for pick in text.split(" | ")]
        record = await self.emulator.choose(self.you, message, menu["custom_id"], picks)
        self._show_interaction(record)

    async def _ingest(self, names: list[str]) -> None:
        """Read and parse every file first, then store them all in one transaction (as `paperbot
        ingest` does): a file that cannot be read or parsed stores none of them."""
        listed: list[ListedPaper] = []
        for name in names:
            if name == TOUR_PAPERS:
                data, source = _tour_page(), "tour"
            else:
                try:
                    data, source = await asyncio.to_thread(_read, name), name
                except OSError as exc:  # the session (follows, settings) stays as it was
                    raise LookupError(
                        f"cannot read {name}: {exc.strerror or exc}; nothing ingested"
                    ) from None
            listed += parse_file(data, source=source, today=date.today())
        counts = await self.services.papers.ingest(listed)
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
            self._print(message, f"paperbot · {note}")

    def _print(self, message: Json, title: str) -> None:
        """Show ``message``; the last one with buttons or menus is the one click and pick act on."""
        self.console.print(_render(message, title, self.emulator.attachment_bytes))
        if message.get("components"):
            self.last_message = message

    def _show_rejections(self) -> None:
        for route, problems in self.emulator.rejections[self._seen_rejections :]:
            detail = "; ".join(f"{path}: {message}" for path, message in problems)
            self.console.print(Text(f"Discord would refuse the bot's {route}: {detail}", style="red"))
        self._seen_rejections = len(self.emulator.rejections)

    def has_news(self) -> bool:
        return (
            len(self.emulator.messages(self.channel)) > self._seen_channel
            or len(self.emulator.dms(self.you)) > self._seen_dms
        )

    async def _show_news(self) -> None:
        posts = self.emulator.messages(self.channel)
        interaction_ids = {
            m["id"]
            for r in self.emulator.interactions.values()
            for m in [r.response or {}, *r.followups]
            if "id" in m
        }
        for message in posts[self._seen_channel :]:
            if message["id"] not in interaction_ids:
                self._print(message, "paperbot posted in #papers")
        self._seen_channel = len(posts)
        dms = self.emulator.dms(self.you)
        for message in dms[self._seen_dms :]:
            self._print(message, "paperbot · direct message to you")
        self._seen_dms = len(dms)


# ``name:`` at the start of a word, as an option is written (Discord's names: letters, digits, - and _).
_OPTION_MARK = re.compile(r"(?:^|(?<=\s))([\w-]+):")


def split_options(text: str, known: dict[str, Json]) -> dict[str, str]:
    """``name:value`` pairs as Discord takes them: each value runs up to the next known ``name:``,
    exactly as typed (inner quotes and spaces kept). Text before the first option is under ``""``."""
    if not known:
        return {"": text.strip()} if text.strip() else {}
    names = "|".join(re.escape(n) for n in sorted(known, key=len, reverse=True))
    marks = list(re.finditer(rf"(?:^|(?<=\s))({names}):", text))
    values: dict[str, str] = {}
    free = text[: marks[0].start()] if marks else text
    if free.strip():
        values[""] = free.strip()
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        name = mark[1]
        if name in values:
            raise Refused(f"{name} is given twice")
        values[name] = text[mark.end() : end].strip()
    return values


def _refuse_unknown_options(known: dict[str, Json], name: str, value: str) -> None:
    """Refuse ``bogus:1`` that would run into the value of a number, a choice or a flag: only free
    text holds words with colons (Discord's client keeps them in the text it is filling, as
    ``query:a:b time: 09:00`` or a link does); anything else is an option the command does not have."""
    option = known[name]
    if option["type"] == STRING and not option.get("choices"):
        return
    unknown = _OPTION_MARK.search(value)
    if unknown:
        raise Refused(f"there is no option {unknown[1]!r} here (the options: {', '.join(known)})")


def _typed(option: Json, value: str) -> Any:
    """The typed value Discord's client would send for ``value``, or Refused as it would."""
    name, kind = option["name"], option["type"]
    if kind == INTEGER:
        if not re.fullmatch(r"[+-]?\d{1,16}", value):
            raise Refused(f"{name} must be a whole number (got {value!r})")
        return int(value)
    if kind == NUMBER:
        try:
            number = float(value)
        except ValueError:
            raise Refused(f"{name} must be a number (got {value!r})") from None
        return number
    if kind == BOOLEAN:
        lowered = value.lower()
        if lowered not in ("true", "false", "yes", "no", "on", "off", "1", "0"):
            raise Refused(f"{name} must be true or false (got {value!r})")
        return lowered in ("true", "yes", "on", "1")
    return value


def _leaves(command: Json, path: list[str]) -> list[tuple[list[str], Json]]:
    subs = [o for o in command.get("options", []) if o["type"] in (1, 2)]
    if not subs:
        return [(path, command)]
    return [leaf for sub in subs for leaf in _leaves(sub, [*path, sub["name"]])]


def _button(button: Json) -> Text:
    label = f"[{printable(button['label'], keep_newlines=False)}]"
    if button.get("style") == 5:
        return Text(label + "↗", style="blue underline")  # a link: opens its URL in Discord
    if button.get("disabled"):
        return Text(label, style="dim strike")
    return Text(label, style="cyan")


def _file_names(rest: str) -> list[str]:
    """The files after ``ingest``, split as a shell would: quotes keep spaces, ``~`` is home."""
    if rest.strip() == TOUR_PAPERS:
        return [TOUR_PAPERS]
    try:
        names = shlex.split(rest)
    except ValueError as exc:  # an unclosed quote
        raise LookupError(f'ingest: {exc}; quote a path with spaces, e.g. ingest "my papers.json"') from None
    if not names:
        raise LookupError("ingest which file? e.g. ingest papers.json, or several: ingest a.json b.txt")
    return names


def _read(name: str) -> bytes:
    return read_papers_file(Path(name).expanduser())


def _plain(text: str) -> str:
    """Discord markdown made readable in a terminal: links as their text, bold marks gone, escapes
    shown as the plain characters, timestamps and channel mentions spelled out; escape sequences and
    control characters from the data never reach the terminal."""
    return printable(_markup_read(text).replace("\u200b", ""))


def _markup_read(text: str) -> str:
    return _MARKUP.sub(_token_read, text)


def _token_read(match: re.Match[str]) -> str:
    if match["escaped"] is not None:
        return match["escaped"]
    if match["text"] is not None:
        return _markup_read(match["text"])
    if match["seconds"] is not None:
        return datetime.fromtimestamp(int(match["seconds"]), UTC).strftime("%a %d %b %H:%M UTC")
    if match["channel"] is not None:
        return "#papers"
    return ""  # bold marks


def _menu_word(menu: Json) -> str:
    """How a menu is named at the prompt: the first word of its placeholder ("save" for
    "🔖 Save a paper to your library…")."""
    words = re.findall(r"[^\W\d_]+", str(menu.get("placeholder") or ""))
    return words[0].casefold() if words else str(menu.get("custom_id")).casefold()


def _pick_example(message: Json) -> str:
    menu = next(menus(message))
    options = menu.get("options") or [{"label": "OPTION"}]
    return f"pick {_menu_word(menu)} {printable(options[0]['label'], keep_newlines=False)}"


def _option_value(menu: Json, typed: str) -> str:
    """The option ``typed`` means: its value, its label (any case) or the one label it starts; else
    ``typed`` as it is (the emulator refuses it, as Discord's client offers no such option)."""
    options = menu.get("options") or []
    folded = typed.casefold()
    for matches in (
        [o for o in options if typed in (o["value"], o["label"])],
        [o for o in options if o["label"].casefold() == folded],
        [o for o in options if folded and o["label"].casefold().startswith(folded)],
    ):
        if len(matches) == 1:
            return str(matches[0]["value"])
    return typed


def _menu(menu: Json) -> Text:
    labels = " · ".join(printable(o["label"], keep_newlines=False) for o in menu.get("options") or [])
    line = f"▾ {printable(menu_name(menu), keep_newlines=False)} (pick {_menu_word(menu)} …): {labels}"
    return Text(line, style="dim strike" if menu.get("disabled") else "cyan")


FILE_LINES, FILE_LINE_CHARS = 5, 160  # what of an attached file is shown: its first lines, clipped


def _clipped(line: str) -> str:
    line = printable(line, keep_newlines=False)
    return line if len(line) <= FILE_LINE_CHARS else line[: FILE_LINE_CHARS - 1] + "…"


def _attachment(attachment: Json, data: bytes) -> Group:
    size = attachment["size"]
    shown = f"{size} bytes" if size < 1024 else f"{size / 1024:.1f} KB"
    name = printable(attachment["filename"], keep_newlines=False)
    parts: list[Any] = [Text(f"📎 {name} ({shown})", style="bold")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return Group(*parts, Text("(not text)", style="dim"))
    lines = text.splitlines()
    parts += [Text(_clipped(line), style="dim") for line in lines[:FILE_LINES]]
    if len(lines) > FILE_LINES:
        more = len(lines) - FILE_LINES
        parts.append(Text(f"… {more} more line{'s' if more > 1 else ''}", style="dim"))
    return Group(*parts)


def _render(message: Json, title: str, attachment_bytes: Callable[[Json], bytes] | None = None) -> Panel:
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
            parts.append(Text(printable(embed["footer"]["text"]), style="dim"))
    shown = [_button(b) for b in buttons(message) if b.get("label")]
    if shown:
        parts.append(Text("  ").join(shown))
    parts += [_menu(menu) for menu in menus(message)]
    if attachment_bytes is not None:
        parts += [_attachment(a, attachment_bytes(a)) for a in message.get("attachments", [])]
    return Panel(Group(*parts) if parts else Text("(empty)"), title=title, title_align="left", expand=False)


async def _load_bundled(services: Services) -> None:
    """The bundled sample, its list days moved so that its newest is today. The capture is months
    old, so a fresh sandbox's first digest said only "No new papers: the newest list is N days old";
    the sandbox's store is its own (never the bot's), so dating its demo list today misleads no one
    (the banner says so). The real bot stores every list under the day it was listed."""
    name, data = bundled_sample()
    await services.papers.ingest(
        listed_as_of(parse_file(data, source=name, today=date.today()), date.today())
    )


def listed_as_of(listed: list[ListedPaper], newest: date) -> list[ListedPaper]:
    """``listed`` with every list day shifted by one offset so that the newest is ``newest``."""
    days = [item.list_date for item in listed if item.list_date is not None]
    if not days:
        return listed
    shift = newest - max(days)
    return [
        replace(item, list_date=item.list_date + shift) if item.list_date is not None else item
        for item in listed
    ]


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
    console.print(Panel(banner(settings.discord_token is not None), border_style="yellow"))
    sandbox = Sandbox(settings, console)
    async with sandbox.running():
        if not interactive:
            console.print("[dim]No terminal attached: running the scripted tour.[/dim]")
            now = datetime.now(UTC).strftime("%H:%M")
            for line in TOUR:
                await sandbox.run_line(line.format(now=now), echo=True)
            console.print("[bold]Tour done.[/bold] Run `paperbot sandbox` in a terminal to try it yourself.")
            return 0
        await prompt(sandbox, console)
    return 0


async def prompt(sandbox: Sandbox, console: Console) -> None:
    """Read lines until quit, Ctrl-D or Ctrl-C; posts and DMs that arrive meanwhile print at once."""
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    interrupted = asyncio.Event()

    def read() -> None:  # a daemon thread: a pending input() never holds up the exit
        while True:
            try:
                line: str | None = input()
            except (EOFError, OSError, ValueError):
                line = None
            loop.call_soon_threadsafe(lines.put_nowait, line)
            if line is None:
                return

    threading.Thread(target=read, name="sandbox-prompt", daemon=True).start()
    with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread (tests)
        loop.add_signal_handler(signal.SIGINT, interrupted.set)
    watcher = asyncio.create_task(_watch_news(sandbox, console))
    try:
        while True:
            console.print("you> ", end="")
            next_line = asyncio.ensure_future(lines.get())
            stop = asyncio.ensure_future(interrupted.wait())
            await asyncio.wait({next_line, stop}, return_when=asyncio.FIRST_COMPLETED)
            stop.cancel()
            if interrupted.is_set():
                next_line.cancel()
                console.print("\n[dim]Interrupted: leaving the sandbox.[/dim]")
                return
            line = next_line.result()
            if line is None or not await sandbox.run_line(line):
                console.print()
                return
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGINT)


async def _watch_news(sandbox: Sandbox, console: Console) -> None:
    """Scheduled digests and alert DMs appear while the prompt waits, not only after the next command."""
    while True:
        with contextlib.suppress(TimeoutError):
            await sandbox.emulator.wait_for(sandbox.has_news, wait=3600)
        if sandbox.busy:  # the running command prints its own news when it ends
            await sandbox.idle.wait()
            continue
        console.print()
        await sandbox._show_news()
        console.print("you> ", end="")
        sandbox.news_shown.set()

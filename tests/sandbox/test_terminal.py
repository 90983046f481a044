"""The sandbox terminal takes commands as Discord does and answers every mistake in a sentence."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from rich.console import Console

from bot.domain.layout import escape, md_link
from bot.sandbox.rules import Refused, chosen_values, menus
from bot.sandbox.store import reset_sandbox_store
from bot.sandbox.terminal import TOUR_PAPERS, Sandbox, _plain, _watch_news, banner, run_sandbox
from bot.settings import Settings


def sandbox_settings(path: Path) -> Settings:
    settings = Settings(db=path, digest={"tick_seconds": 2.0}, follows={"poll_seconds": 1.0})
    return settings.model_copy(
        update={"sources": settings.sources.model_copy(update={"hf_api_url": "http://127.0.0.1:9/x"})}
    )


class Session:
    def __init__(self, sandbox: Sandbox, buffer: io.StringIO) -> None:
        self.sandbox, self.buffer = sandbox, buffer

    async def say(self, line: str) -> str:
        start = len(self.buffer.getvalue())
        assert await self.sandbox.run_line(line) is True  # the session goes on, whatever was typed
        return self.buffer.getvalue()[start:]

    def options(self, command: str, text: str) -> dict[str, object]:
        name, *path = command.split()
        definition = next(c for c in self.sandbox.emulator.global_commands if c["name"] == name)
        return self.sandbox._options(self.sandbox.emulator.leaf(definition, path), text)


@pytest.fixture
async def session(tmp_path: Path) -> AsyncIterator[Session]:
    buffer = io.StringIO()
    console = Console(file=buffer, width=200, highlight=False)
    reset_sandbox_store(tmp_path / "sandbox.db")
    sandbox = Sandbox(sandbox_settings(tmp_path / "sandbox.db"), console)
    async with sandbox.running():
        yield Session(sandbox, buffer)
    assert sandbox.emulator.rejections == []


async def test_a_value_runs_to_the_next_option_and_keeps_its_quotes(session: Session) -> None:
    assert session.options("papers today", "day:Jul 30") == {"day": "Jul 30"}
    assert session.options("papers search", 'query:"reward model" -video limit:5') == {
        "query": '"reward model" -video',
        "limit": 5,
    }
    assert session.options("papers search", '"reward model" limit:5') == {
        "query": '"reward model"',
        "limit": 5,
    }
    assert session.options("papers search", "query:a:b time: 09:00") == {"query": "a:b time: 09:00"}
    # Free text holds words with colons, as Discord's client keeps them in the text being typed:
    # search's own syntax and links among them.
    assert session.options("papers search", "query:diffusion title:survey") == {
        "query": "diffusion title:survey"
    }
    assert session.options("papers search", "query:x bogus:1 limit:2") == {"query": "x bogus:1", "limit": 2}
    shown = await session.say("/papers show paper:Value Kaleid")
    assert "Value Kaleidoscope: Engaging AI with Pluralistic Human Values" in shown


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("/papers search learning limit:abc", "limit must be a whole number (got 'abc')"),
        ("/papers search learning limit:0", "between 1 and 25"),
        ("/papers search learning limit:26", "between 1 and 25"),
        ("/follow pause days:-5", "between 1 and 365"),
        ("/papers search", "needs query"),
        ("/papers search limit:3", "needs query"),
        ("/papers search learning limit:3 limit:4", "limit is given twice"),
        (
            "/papers search learning limit:5 bogus:1",
            "there is no option 'bogus' here (the options: query, limit)",
        ),
        ("/follow mode mode:daily bogus:1", "there is no option 'bogus' here"),
        ("/papers show paper:", "cannot be empty"),
        ("/papers show paper:   ", "cannot be empty"),
        ("/follow mode mode:weekly", "one of: instant, daily"),
        ("/papers", "needs a subcommand"),
        ("/papers find x", "needs a subcommand"),
        ("/nope", "unknown command"),
        ("/digest show now please", "is not an option here"),
        ("/digest pause now please", "Pick the digest's channel from the list"),
        ("click Next", "no message with buttons yet"),
        ("click", "click which button"),
        ("ingest", "ingest which file"),
        ("ingest /nonexistent/papers.json", "cannot read /nonexistent/papers.json"),
        ("hello", "Commands start with /"),
    ],
)
async def test_mistakes_get_a_sentence_and_the_session_goes_on(
    session: Session, line: str, says: str
) -> None:
    shown = await session.say(line)
    assert says in shown
    assert "Traceback" not in shown and "CommandSignatureMismatch" not in shown


async def test_a_lone_quote_is_sent_as_typed_and_answered(session: Session) -> None:
    shown = await session.say('/papers search "')
    assert "paperbot" in shown and "Traceback" not in shown and "No closing quotation" not in shown


async def test_a_bad_file_keeps_follows_and_settings(session: Session, tmp_path: Path) -> None:
    await session.say("/follow add pruning")
    bad = tmp_path / "bad.json"
    bad.write_text('{"not": "papers"')
    shown = await session.say(f"ingest {bad}")
    assert str(bad) in shown
    assert "pruning" in await session.say("/follow list")


async def test_disabled_and_link_buttons_are_explained(session: Session) -> None:
    await session.say("/papers search learning")
    assert "is disabled" in await session.say("click Previous")  # page 1 of n
    assert "Page 2/" in await session.say("click Next")
    fixture = Path(__file__).parent.parent / "fixtures" / "hf_daily_2024-07-31.json"
    await session.say(f"ingest {fixture}")
    shown = await session.say("/papers show paper:2407.21018")  # ThinK, with arXiv and code links
    assert "ThinK" in shown and "[Code]" in shown
    shown = await session.say("click Code")
    assert "Code is a link: in Discord it opens https://github.com/SalesforceAIResearch/ThinK" in shown


async def test_help_lists_every_command_with_its_option_syntax(session: Session) -> None:
    shown = await session.say("help")
    assert "/papers search query:<text> [limit:<1..25>]" in shown
    assert "/follow mode mode:<instant|daily>" in shown
    assert "/follow pause [days:<1..365>]" in shown
    assert "up to the next name:" in shown
    for command in session.sandbox.emulator.global_commands:
        assert f"/{command['name']}" in shown


async def test_posts_appear_while_the_prompt_waits(session: Session) -> None:
    sandbox = session.sandbox
    watcher = __import__("asyncio").create_task(_watch_news(sandbox, sandbox.console))
    try:
        channel = sandbox.bot.get_channel(sandbox.channel.id)
        await channel.send("Today's digest, as the schedule posts it")  # type: ignore[union-attr]
        await __import__("asyncio").wait_for(sandbox.news_shown.wait(), 10)
    finally:
        watcher.cancel()
    assert "Today's digest, as the schedule posts it" in session.buffer.getvalue()


def test_the_banner_tells_the_truth_about_the_token() -> None:
    assert "DISCORD_TOKEN is not set" in banner(False)
    assert "never uses it" in banner(True) and "not set" not in banner(True)


async def test_the_banner_reads_the_settings(tmp_path: Path) -> None:
    buffer = io.StringIO()
    reset_sandbox_store(tmp_path / "s.db")
    settings = sandbox_settings(tmp_path / "s.db").model_copy(update={"discord_token": "x"})
    console = Console(file=buffer, width=200)
    task = run_sandbox(settings, interactive=False, console=console)
    assert await task == 0
    assert "never uses it" in buffer.getvalue()


def test_ctrl_c_at_the_prompt_leaves_cleanly(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERBOT_", "DISCORD_"))}
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "sandbox", "--interactive", "--db", str(tmp_path / "s.db")],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        cwd=tmp_path,
        env=env,
    )
    os.close(terminal)
    seen = b""
    try:
        while b"you> " not in seen:
            ready, _, _ = select.select([controller], [], [], 60)
            assert ready, seen.decode(errors="replace")
            seen += os.read(controller, 65536)
        process.send_signal(signal.SIGINT)  # what Ctrl-C at the prompt sends
        assert process.wait(timeout=60) == 0
        while select.select([controller], [], [], 0)[0]:
            try:
                seen += os.read(controller, 65536)
            except OSError:
                break
    finally:
        if process.poll() is None:
            process.kill()
        os.close(controller)
    assert b"Interrupted: leaving the sandbox." in seen
    assert b"Traceback" not in seen


def test_rendered_messages_never_pass_escapes_to_the_terminal() -> None:
    from bot.sandbox.terminal import _render

    hostile = "Title \x1b]0;pwned\x07[/INST] \x1b[2J\r"
    message = {
        "content": hostile,
        "embeds": [{"title": hostile, "description": hostile, "footer": {"text": hostile}}],
        "components": [
            {"type": 1, "components": [{"type": 2, "style": 1, "label": hostile, "custom_id": "x"}]}
        ],
    }
    buffer = io.StringIO()
    Console(file=buffer, width=200, color_system=None).print(_render(message, "t"))
    shown = buffer.getvalue()
    assert "[/INST]" in shown and "\x1b" not in shown and "\x07" not in shown and "\r" not in shown


@pytest.mark.parametrize(
    ("discord", "shown"),
    [
        ("\\[/INST\\] see [Paper](<https://x.org/1>)", "[/INST] see Paper"),
        ("[a \\] b](https://x.org/2) then \\[c\\](d)", "a ] b then [c](d)"),
        ("\\\\[x](https://x.org/3)", "\\x"),  # an escaped backslash, then a real link
        ("\\<t:0:R> at <t:0:R>", "<t:0:R> at Thu 01 Jan 00:00 UTC"),
        ("\\<@\u200b&1> \\<#1> <#1>", "<@&1> <#1> #papers"),
        ("**bold** \\*\\*not\\*\\* \\# \\- \\> \\_", "bold **not** # - > _"),
    ],
)
def test_escapes_show_as_the_plain_characters_and_never_start_or_end_links(discord: str, shown: str) -> None:
    assert _plain(discord) == shown


@pytest.mark.parametrize("title", ["Prompt \\[/INST\\] [/INST] tuning", "See <t:0:R> & <@&1> [x](y) **z**"])
def test_a_linked_title_shows_as_typed(title: str) -> None:
    assert _plain(md_link(escape(title), "https://arxiv.org/abs/2501.00001")) == title


FIXTURES = Path(__file__).parent.parent / "fixtures"


async def _paper_count(session: Session) -> int:
    return (await session.sandbox.services.papers.stats()).papers


async def test_ingest_takes_quoted_paths_home_and_several_files(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spaced = tmp_path / "my papers" / "daily page.json"
    spaced.parent.mkdir()
    spaced.write_bytes((FIXTURES / "hf_daily_2024-07-31.json").read_bytes())
    monkeypatch.setenv("HOME", str(tmp_path))
    before = await _paper_count(session)
    shown = await session.say(f'ingest "{spaced}" ~/"my papers/daily page.json"')
    assert "ingested:" in shown and "cannot read" not in shown
    assert await _paper_count(session) > before


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ('"unclosed.json', "No closing quotation"),
        ("   ", "ingest which file"),
        ("{good} /nonexistent/more.json", "cannot read /nonexistent/more.json"),
        ("{good} {bad}", "bad.json"),
        ("{good} {huge}", "huge.txt is over 64 MiB"),
    ],
)
async def test_ingest_of_several_files_stores_none_when_one_fails(
    session: Session, tmp_path: Path, args: str, says: str
) -> None:
    good = FIXTURES / "hf_daily_2024-07-31.json"
    bad = tmp_path / "bad.json"
    bad.write_text('{"not": "papers"')
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as sparse:  # 300 MiB of zeros that take no disk: read whole, it fills memory
        sparse.truncate(300 * 1024 * 1024)
    before = await _paper_count(session)
    shown = await session.say("ingest " + args.format(good=good, bad=bad, huge=huge))
    assert says in shown and "Traceback" not in shown and "ingested:" not in shown
    assert await _paper_count(session) == before  # one transaction: the good file is not stored either


async def test_select_menus_take_a_pick_by_label_or_value_and_refuse_what_discord_would(
    session: Session,
) -> None:
    shown = await session.say("/papers search learning")
    assert "▾ 🔖 Save a paper to your library… (pick save …)" in shown
    menu = next(menus(session.sandbox.last_message or {}))
    first, second = menu["options"][:2]
    shown = await session.say("click Save")
    assert "select menus: 🔖 Save a paper to your library…" in shown and "pick save " in shown
    assert "(it has: None" not in shown
    shown = await session.say(f"pick save {first['label'][:12].lower()}")  # a unique start, any case
    assert "Saved" in shown and first["label"][:20] in shown
    assert "Saved" in await session.say(f"pick save {second['value']}")
    assert "`2.`" in await session.say("/library list")  # both picks were saved
    shown = await session.say("pick save No Such Paper")
    assert "has no option 'No Such Paper' (it has: " in shown
    shown = await session.say(f"pick save {first['value']} | {second['value']}")
    assert "takes 1 option, not 2" in shown


def test_a_menu_pick_is_refused_as_discords_client_refuses_it() -> None:
    menu = {
        "type": 3,
        "custom_id": "tags",
        "placeholder": "Tags…",
        "options": [{"label": "Vision", "value": "v"}, {"label": "Audio", "value": "a"}],
        "max_values": 2,
    }
    assert chosen_values(menu, ["Vision", "a"]) == ["v", "a"]
    for picks, says in (
        (["Video"], "has no option 'Video'"),
        (["v", "Vision"], "picked twice"),
        ([], "takes 1 to 2 options, not 0"),
    ):
        with pytest.raises(Refused, match=says):
            chosen_values(menu, picks)
    with pytest.raises(Refused, match="disabled"):
        chosen_values(menu | {"disabled": True}, ["v"])


async def test_an_exported_file_shows_its_name_size_and_first_lines(session: Session) -> None:
    await session.say("/papers search learning")
    menu = next(menus(session.sandbox.last_message or {}))
    await session.say(f"pick save {menu['options'][0]['value']}")
    shown = await session.say("/library export format:bibtex")
    assert "Your library: 1 paper as bibtex." in shown
    assert re.search(r"📎 library\.bib \(\d+\.\d KB\)", shown)
    assert "@misc{" in shown.split("📎", 1)[1]  # the entry's first line, as a reference manager reads it


async def test_a_digest_posts_vote_and_save_menus_are_picked_by_name(session: Session) -> None:
    await session.say(f"ingest {TOUR_PAPERS}")  # a paper listed today
    await session.say("/digest setup time:23:59 timezone:UTC")
    shown = await session.say("/digest post-now")
    assert "(pick save …)" in shown and "(pick vote …)" in shown
    menu = next(m for m in menus(session.sandbox.last_message or {}) if m["custom_id"] == "vote-menu")
    title = menu["options"][0]["label"]
    assert "which menu? This message has save (" in await session.say(f"pick {title}")
    shown = await session.say(f"pick vote {title}")
    assert "👍" in shown and "Traceback" not in shown


async def test_a_fresh_sandboxs_first_digest_posts_the_bundled_list(session: Session) -> None:
    """The bundled capture is months old; without its days moved the first post of a fresh sandbox
    only said "No new papers: the newest list is N days old"."""
    await session.say("/digest setup time:23:59 timezone:UTC")
    shown = await session.say("/digest post-now")
    assert "No new papers" not in shown and "days old" not in shown
    assert "(pick save …)" in shown  # a post with papers to save
    assert "list days are moved so that its newest is today" in banner(token_set=False)

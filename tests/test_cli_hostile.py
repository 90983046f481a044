"""The CLI on hostile text, bad configuration, bad paths and refused tokens: a sentence, never a traceback.

Exit codes: 0 done, 1 nothing found or the job failed, 2 bad usage or configuration (README).
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.sandbox.emulator import DiscordEmulator
from bot.storage.database import Database, bundled_migrations
from tests.loopback import closed_port

FIXTURE = Path(__file__).parent / "fixtures" / "hf_daily_2024-07-31.json"
HOSTILE_TITLES = {
    "2407.21018": "Prompting with [/INST] and [INST] tags",
    "2407.20001": "Masked [cls] and [mask] tokens over sets [a, b] :smile: [bold red]x[/bold red]",
}
ESCAPES = "\x1b[2J\x1b]0;pwned title\x07\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\\r\x9b31m\u202e"


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback: the bug these tests exist to catch
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def hostile_db(tmp_path: Path) -> Path:
    papers = json.loads(FIXTURE.read_text())
    for item in papers:
        paper = item["paper"]
        paper["title"] = HOSTILE_TITLES.get(paper["id"], paper["title"])
        paper["summary"] = f"Abstract with {ESCAPES} escapes and [/INST] inside. " + paper["summary"]
        item["title"] = paper["title"]
    source = tmp_path / "hostile.json"
    source.write_text(json.dumps(papers))
    db = tmp_path / "hostile.db"
    assert invoke("ingest", str(source), "--db", str(db))[0] == 0
    return db


@pytest.mark.parametrize("arxiv_id", sorted(HOSTILE_TITLES))
def test_paper_text_is_shown_literally_never_as_markup(hostile_db: Path, arxiv_id: str) -> None:
    code, shown, _ = invoke("show", arxiv_id, "--db", str(hostile_db))
    assert code == 0
    assert HOSTILE_TITLES[arxiv_id] in shown  # brackets, colons and markup-like tags all kept
    assert "[/INST] inside" in shown


def test_search_tables_show_titles_literally(hostile_db: Path) -> None:
    # Wide enough that the title is on one line (a narrow table may wrap it between "[a," and "b]").
    code, shown, _ = invoke("search", "tokens", "--db", str(hostile_db), env={"COLUMNS": "200"})
    assert code == 0 and "[cls]" in shown and "[mask]" in shown and "[a, b]" in shown


@pytest.mark.parametrize("command", [("show", "2407.21018"), ("search", "tokens"), ("random",)])
def test_escapes_from_data_never_reach_the_terminal(hostile_db: Path, command: tuple[str, ...]) -> None:
    _, shown, _ = invoke(*command, "--db", str(hostile_db))
    assert not any(ch in shown for ch in "\x1b\x07\r\x9b\u202e")


def test_an_error_quoting_a_markup_like_reference_prints(hostile_db: Path) -> None:
    code, _, said = invoke("show", "[/INST] no such [bold]paper", "--db", str(hostile_db))
    assert code == 1 and "No paper matches '[/INST] no such [bold]paper'." in said


@pytest.mark.parametrize(
    ("command", "default"),
    [
        ("sandbox", "[default: data/sandbox.db]"),
        ("search", "[default: $PAPERBOT_DB, else data/paperbot.db]"),
        ("ingest", "[default:"),
    ],
)
def test_help_keeps_bracketed_defaults(command: str, default: str) -> None:
    code, shown, _ = invoke(command, "--help")
    assert code == 0 and default in " ".join(shown.split())


BAD_CONFIG = [
    ({"PAPERBOT_DIGEST__GRACE_MINUTES": "abc"}, None, "digest.grace_minutes"),
    ({"PAPERBOT_DIGEST__GRACE_MINUTES": "-5"}, None, "digest.grace_minutes"),
    ({"PAPERBOT_SEARCH__PAGE_SIZE": "1e9"}, None, "search.page_size"),
    ({"PAPERBOT_LOG_LEVEL": "LOUD"}, None, "log_level"),
    ({"PAPERBOT_SHARD_COUNT": "6", "PAPERBOT_SHARDS": "0-6"}, None, "there is no shard 6 with shard_count 6"),
    ({"PAPERBOT_SHARDS": "0-1"}, None, "shards needs shard_count"),
    ({"PAPERBOT_SHARD_COUNT": "2", "PAPERBOT_SHARDS": "0,0"}, None, "shards: shard 0 is given twice"),
    ({"PAPERBOT_SHARD_COUNT": "0"}, None, "shard_count"),
    ({"PAPERBOT_OWNER_IDS": "[not json"}, None, "owner_ids"),
    ({"PAPERBOT_HEALTH__INTERVAL_SECONDS": "nan"}, None, "health.interval_seconds"),
    ({}, "[search]\nrefresh_seconds = inf\n", "search.refresh_seconds"),
    ({}, "[digest]\ngrace_minutes = 'soon'\n", "digest.grace_minutes"),
    ({}, "[digest]\ngrace_minute = 5\n", "'digest.grace_minute'"),
    ({}, "grace_minutes = 5\n", "'grace_minutes'"),
    ({}, "log_level = 'chatty'\n", "log_level"),
    ({}, "[search\npage_size = 5\n", "not valid TOML"),
    ({}, "db = \n", "not valid TOML"),
    ({}, "search = 5\n", "search"),
    ({}, 'discord_token = "from-a-committed-file"\n', "not read from config files"),
    # Addresses that reached aiohttp as a traceback, and a heartbeat "file" that is a folder.
    # Each named as the variable the user set (Discord's own name or paperbot's).
    ({"DISCORD_API_BASE": "notaurl"}, None, " DISCORD_API_BASE)"),
    ({"PAPERBOT_DISCORD_API_BASE": "ftp://x"}, None, "PAPERBOT_DISCORD_API_BASE)"),
    ({"DISCORD_API_BASE": "http://127.0.0.1:abc/api/v10"}, None, "bad port"),
    ({"DISCORD_GATEWAY_URL": "garbage"}, None, " DISCORD_GATEWAY_URL)"),
    ({"DISCORD_GATEWAY_URL": "http://127.0.0.1:9"}, None, "ws:// or wss://"),
    ({"PAPERBOT_HEALTH__FILE": "/"}, None, "health.file"),
    ({"PAPERBOT_HEALTH__FILE": "."}, None, "health.file"),
]


@pytest.mark.parametrize(("env", "toml", "names"), BAD_CONFIG)
@pytest.mark.parametrize(
    "command",
    [("stats",), ("doctor",), ("search", "x"), ("sandbox", "--tour"), ("run",), ("sync",), ("ingest",)],
)
def test_bad_configuration_is_one_line_naming_the_key_and_exit_2(
    tmp_path: Path, env: dict[str, str], toml: str | None, names: str, command: tuple[str, ...]
) -> None:
    environment = dict(env)
    if toml is not None:
        (tmp_path / "bad.toml").write_text(toml)
        environment["PAPERBOT_CONFIG"] = str(tmp_path / "bad.toml")
    db = tmp_path / "never.db"
    code, shown, said = invoke(*command, "--db", str(db), env=environment)
    assert code == 2, shown + said
    assert said.startswith("error: ") and said.count("\n") == 1 and names in said
    assert "from-a-committed-file" not in said
    assert not db.exists()


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (("--shard-count", "6", "--shards", "4-7"), "--shards: there is no shard 7 with --shard-count 6"),
        (("--shards", "0,1"), "--shards needs --shard-count"),
        (
            ("--shard-count", "6", "--shards", "1-0"),
            "--shards: the range '1-0' runs backwards; write it 0-1.",
        ),
        (("--shard-count", "0"), "--shard-count must be between 1 and 10000, got 0."),
        (("--shard-count", "3", "--shards", "zero"), "--shards: 'zero' is not a shard id or range"),
        (
            ("--shard-count", "2", "--shards", "0,0"),
            "--shards: shard 0 is given twice; name each shard once.",
        ),
        (("--shard-count", "6", "--shards", "0-2,1"), "--shards: shard 1 is given in '0-2' and in '1'"),
        # The shards setting is kept when only the count is given: it is named as the setting.
        (("--shard-count", "2", "SHARDS=0-3"), "shards: there is no shard 3 with --shard-count 2"),
    ],
)
def test_impossible_shards_for_run_are_one_friendly_line_and_exit_2(
    tmp_path: Path, options: tuple[str, ...], said: str
) -> None:
    env = {"DISCORD_TOKEN": "t"}
    if options[-1].startswith("SHARDS="):
        env |= {"PAPERBOT_SHARD_COUNT": "4", "PAPERBOT_SHARDS": options[-1].removeprefix("SHARDS=")}
        options = options[:-1]
    code, _, told = invoke("run", "--db", str(tmp_path / "x.db"), *options, env=env)
    assert code == 2 and told.startswith("error: ") and said in told and told.count("\n") == 1
    assert not (tmp_path / "x.db").exists()


def test_an_empty_token_is_no_token(tmp_path: Path) -> None:
    code, _, said = invoke("run", "--db", str(tmp_path / "x.db"), env={"DISCORD_TOKEN": ""})
    assert code == 2 and "DISCORD_TOKEN is not set" in said
    code, _, said = invoke("sync", "--db", str(tmp_path / "x.db"), env={"DISCORD_TOKEN": "  "})
    assert code == 2 and "DISCORD_TOKEN is not set" in said


@pytest.mark.parametrize("token", ["Tok3n-part\nrest", "Tok3n-part\x01rest", "Tok3n-part\r\nrest"])
@pytest.mark.parametrize("command", ["run", "sync"])
def test_a_token_with_a_line_break_inside_is_a_config_error_that_never_shows_it(
    tmp_path: Path, command: str, token: str
) -> None:
    """A .env line DISCORD_TOKEN="abc\\nxyz" reached aiohttp, which refused the header with a
    73-line traceback and exit 1 (systemd restarts on 1, not on 2)."""
    loopback = {"DISCORD_API_BASE": "http://127.0.0.1:9/api/v10", "DISCORD_GATEWAY_URL": "ws://127.0.0.1:9"}
    code, _, said = invoke(command, "--db", str(tmp_path / "x.db"), env={"DISCORD_TOKEN": token, **loopback})
    assert code == 2 and said.startswith("error: config key DISCORD_TOKEN") and said.count("\n") == 1, said
    assert "line break" in said and "Tok3n" not in said and "rest" not in said
    assert not (tmp_path / "x.db").exists()


@pytest.mark.parametrize("command", ["run", "sync"])
def test_an_unreachable_discord_api_is_named_in_one_line(tmp_path: Path, command: str) -> None:
    """Was a bare "error: Connect call failed ('127.0.0.1', 9)": no word of Discord or the setting."""
    loopback = {"DISCORD_API_BASE": "http://127.0.0.1:9/api/v10", "DISCORD_GATEWAY_URL": "ws://127.0.0.1:9"}
    env = {"DISCORD_TOKEN": "Tok3n-secret", **loopback}
    code, _, said = invoke(command, "--db", str(tmp_path / "x.db"), env=env)
    line = said.strip().splitlines()[-1]
    assert code == 1  # run: systemd restarts on 1, and the network may come back
    assert line == (
        "error: cannot connect to Discord's API at http://127.0.0.1:9/api/v10 (Connection refused): "
        "check DISCORD_API_BASE and the network"
    )
    assert "Tok3n" not in said


async def against(
    emulator: DiscordEmulator, tmp_path: Path, *args: str, token: str | None = None
) -> tuple[int, str, str]:
    """``paperbot ARGS`` in its own process against the emulator (with the bot's token unless
    ``token`` is given): exit code, stdout, stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERBOT_", "DISCORD_"))}
    env |= {
        "DISCORD_TOKEN": emulator.token if token is None else token,
        "DISCORD_API_BASE": emulator.api_base,
        "DISCORD_GATEWAY_URL": emulator.gateway_url,
        "PAPERBOT_DB": str(tmp_path / "bot.db"),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


@pytest.mark.parametrize("token", ["wr0ng-t0ken-value", "Bot wr0ng-t0ken-value", "wr0ng t0ken value"])
@pytest.mark.parametrize("command", ["run", "sync"])
async def test_a_refused_token_is_one_line_and_exit_2_so_systemd_does_not_loop(
    tmp_path: Path, command: str, token: str
) -> None:
    """It exited 1, and the unit (Restart=always, RestartPreventExitStatus=2) restarted it every 5 s."""
    emulator = await DiscordEmulator(token="the-bots-current-token").start()
    try:
        returncode, stdout, said = await against(emulator, tmp_path, command, token=token)
    finally:
        await emulator.stop()
    assert returncode == 2, said
    assert emulator.unauthorized == 1  # one try: no retry loop inside the process either
    [line] = [line for line in said.splitlines() if line.startswith("error: ")]
    assert line.startswith("error: Discord refused the token in DISCORD_TOKEN (401 Unauthorized)")
    assert "Traceback" not in said and "LoginFailure" not in said
    assert "wr0ng" not in stdout + said and "t0ken" not in stdout + said
    assert "Synced" not in stdout and emulator.global_commands == []


async def test_a_token_refused_after_login_is_one_line_and_exit_2_not_a_retry_loop(tmp_path: Path) -> None:
    """Refused when the bot read its session start limits (before IDENTIFY), discord.py retried the
    shard every 5 s for ever: a 401 loop that gets a bot's IP banned, and a process that never ended."""
    emulator = await DiscordEmulator().start()
    refused = emulator.inject("GET", "/gateway/bot", status=401, times=None)
    try:
        returncode, stdout, said = await against(emulator, tmp_path, "run")
    finally:
        await emulator.stop()
    assert returncode == 2, said
    assert refused.hits == 1 and not emulator.connected
    [error] = [line for line in said.splitlines() if line.startswith("error: ")]
    assert "Discord refused the token in DISCORD_TOKEN (401 Unauthorized)" in error
    assert "Traceback" not in said and emulator.token not in stdout + said


@pytest.mark.parametrize("command", ["run", "sync"])
async def test_a_token_reset_between_login_and_setup_is_one_line_and_exit_2(
    tmp_path: Path, command: str
) -> None:
    """The token is reset in the moment after discord.py's login read the bot's user: its next call
    (the application, before setup_hook) is refused 401, an HTTPException that was a traceback and
    exit 1 (a restart loop under systemd), not the invalid token's one line."""
    emulator = await DiscordEmulator().start()
    refused = emulator.inject("GET", "/oauth2/applications/@me", status=401, times=None)
    try:
        returncode, stdout, said = await against(emulator, tmp_path, command)
    finally:
        await emulator.stop()
    assert returncode == 2, said
    assert refused.hits == 1 and not emulator.connected
    [error] = [line for line in said.splitlines() if line.startswith("error: ")]
    assert "Discord refused the token in DISCORD_TOKEN (401 Unauthorized)" in error
    assert "Traceback" not in said and emulator.token not in stdout + said


async def test_a_token_reset_between_login_and_identify_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """The gateway closes with 4004 (Authentication failed): discord.py raises ConnectionClosed,
    which was a traceback and exit 1 (a restart loop under systemd)."""
    emulator = await DiscordEmulator(token="the-token-before-the-reset").start()
    emulator.hello.clear()  # the bot logs in, then waits for the gateway's HELLO
    try:
        running = asyncio.ensure_future(against(emulator, tmp_path, "run"))
        await emulator.wait_for(lambda: emulator.held_hellos, wait=60)
        emulator.reset_token("the-token-after-the-reset")
        emulator.hello.set()
        returncode, stdout, said = await running
    finally:
        await emulator.stop()
    assert returncode == 2, said
    [error] = [line for line in said.splitlines() if line.startswith("error: ")]
    assert "Discord refused the token in DISCORD_TOKEN (gateway close 4004 Authentication failed)" in error
    assert "Traceback" not in said and "ConnectionClosed" not in said
    assert "the-token-before" not in stdout + said
    assert emulator.identify_count == 0


def test_backup_into_a_missing_folder_says_so(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    invoke("ingest", "--db", str(db))
    code, _, said = invoke("backup", str(tmp_path / "nonexistent-dir" / "x.db"), "--db", str(db))
    assert code == 1 and "nonexistent-dir does not exist" in said


def test_a_file_that_is_not_a_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    passwd = tmp_path / "passwd"
    passwd.write_text("root:x:0:0:root:/root:/bin/bash\n" * 40)
    before = passwd.read_bytes()
    for command in (("ingest",), ("stats",), ("search", "x"), ("backup", str(tmp_path / "b.db"))):
        code, _, said = invoke(*command, "--db", str(passwd))
        assert (code == 1 and f"cannot use {passwd}" in said) or "not a database" in said, said
    code, shown, _ = invoke("doctor", "--db", str(passwd))
    assert code == 1 and "✘ database" in shown
    assert passwd.read_bytes() == before
    assert not (tmp_path / "b.db").exists()


def test_a_directory_as_database_is_refused(tmp_path: Path) -> None:
    for command in (("ingest",), ("stats",), ("doctor",), ("backup", str(tmp_path / "b.db"))):
        code, _, said = invoke(*command, "--db", str(tmp_path))
        assert code == 2 and "is a directory" in said


def test_doctor_never_creates_a_database(tmp_path: Path) -> None:
    typo = tmp_path / "typo" / "x.db"
    code, shown, _ = invoke("doctor", "--db", str(typo))
    assert code == 1 and "✘ database" in shown and "does not exist" in shown
    assert not typo.parent.exists()


async def _old_store(path: Path) -> None:
    database = await Database.open(path, migrations=bundled_migrations()[:2])
    await database.close()


def test_doctor_and_backup_never_migrate(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    asyncio.run(_old_store(db))
    code, shown, _ = invoke("doctor", "--db", str(db))
    assert code == 1 and "✘ schema: version 2" in shown
    code, _, _ = invoke("backup", str(tmp_path / "copy.db"), "--db", str(db))
    assert code == 0
    for path in (db, tmp_path / "copy.db"):
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA user_version").fetchone() == (2,)
        conn.close()


def test_doctor_counts_a_warning_as_a_warning(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    invoke("ingest", "--db", str(db))
    env = {"DISCORD_TOKEN": "", "PAPERBOT_SOURCES__HF_API_URL": "http://127.0.0.1:9/x"}
    _, shown, _ = invoke("doctor", "--db", str(db), env=env)
    assert "! token:" in shown
    assert shown.rstrip().endswith("1 warning, 1 failed") or ", 1 warning" in shown.splitlines()[-1]
    assert "warning" in shown.splitlines()[-1]


def test_stats_reads_as_sentences_not_a_dict(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    invoke("ingest", "--db", str(db))
    code, shown, _ = invoke("stats", "--db", str(db))
    assert code == 0 and "{" not in shown and "'" not in shown
    assert shown.splitlines() == [
        "Papers: 69 (69 from hf-page)",
        "Daily lists: 1 day, from 2026-07-30 to 2026-07-30",
        f"Database: {db} (schema version {len(bundled_migrations())})",
    ]


@pytest.mark.parametrize("year", ["0", "-5", "10000", "abc"])
def test_a_bad_year_blames_the_year(tmp_path: Path, year: str) -> None:
    code, _, said = invoke("ingest", "--year", year, "--db", str(tmp_path / "p.db"))
    assert code == 2 and "'--year'" in said and "Jul 30" not in said


@pytest.mark.parametrize(
    "command", [("search", "zzzqqqxxv"), ("show", "2401.99999"), ("random", "--topic", "zzzqqqxxv")]
)
def test_nothing_found_is_exit_1_with_the_message_on_stderr(tmp_path: Path, command: tuple[str, ...]) -> None:
    db = tmp_path / "p.db"
    invoke("ingest", "--db", str(db))
    code, shown, said = invoke(*command, "--db", str(db))
    assert code == 1 and shown == "" and said.strip()
    code, shown, _ = invoke(*command, "--json", "--db", str(db)) if command[0] == "search" else (1, "[]", "")
    assert code == 1 and json.loads(shown) == []


def test_errors_are_one_line_at_80_columns(tmp_path: Path) -> None:
    long_path = tmp_path / ("a-rather-long-folder-name-" * 4) / "x.db"
    env = {"COLUMNS": "80", "PAPERBOT_DIGEST__GRACE_MINUTES": "not a number of minutes at all"}
    code, _, said = invoke("stats", "--db", str(long_path), env=env)
    assert code == 2 and said.count("\n") == 1 and len(said) > 80
    code, _, said = invoke("backup", str(long_path), "--db", str(tmp_path / "p.db"), env={"COLUMNS": "80"})
    assert code == 1 and said.count("\n") == 1 and len(said) > 80


@pytest.mark.parametrize(
    "command",
    [("show", "\udcff"), ("search", "caf\udce9 x"), ("random", "--topic", "\ud800"), ("show", "[\udcff]")],
)
def test_undecodable_bytes_in_arguments_are_answered(tmp_path: Path, command: tuple[str, ...]) -> None:
    db = tmp_path / "p.db"
    invoke("ingest", "--db", str(db))
    code, _, _ = invoke(*command, "--db", str(db))  # raises if it were a traceback
    assert code in (0, 1)


READ_COMMANDS = [("stats",), ("search", "x"), ("show", "1"), ("random",), ("top",), ("similar", "1")]


def _foreign_database(path: Path) -> bytes:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.execute("INSERT INTO notes VALUES ('another program''s data')")
    conn.close()
    return path.read_bytes()


@pytest.mark.parametrize(
    "command", [*READ_COMMANDS, ("ingest",), ("doctor",), ("backup", "copy.db"), ("sandbox", "--tour")]
)
def test_another_programs_database_is_refused_and_left_byte_for_byte(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    foreign = tmp_path / "foreign.db"
    before = _foreign_database(foreign)
    args = [str(tmp_path / a) if a == "copy.db" else a for a in command]
    code, shown, said = invoke(*args, "--db", str(foreign))
    assert code in (1, 2), shown + said  # the sandbox refuses any database it did not make (2)
    if command[0] not in ("doctor", "sandbox"):
        assert said == f"error: {foreign} is an SQLite database of another program, not a paperbot store\n"
    assert foreign.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["foreign.db"]


@pytest.mark.parametrize("command", [*READ_COMMANDS, ("backup", "copy.db")])
def test_read_commands_never_create_a_store(tmp_path: Path, command: tuple[str, ...]) -> None:
    missing = tmp_path / "nonexistent" / "dir" / "x.db"
    args = [str(tmp_path / a) if a == "copy.db" else a for a in command]
    code, _, said = invoke(*args, "--db", str(missing))
    assert code == 1 and said.count("\n") == 1, said
    if command[0] != "backup":
        assert said == f"error: no paperbot store at {missing} (paperbot ingest creates it)\n"
    assert list(tmp_path.iterdir()) == []


def test_read_commands_still_migrate_an_existing_older_store(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    asyncio.run(_old_store(db))
    code, shown, _ = invoke("stats", "--db", str(db))
    assert code == 0 and f"(schema version {len(bundled_migrations())})" in shown


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs a /proc where SQLite cannot make files")
@pytest.mark.parametrize("command", [("ingest",), ("stats",), ("search", "x"), ("sandbox", "--tour")])
async def test_an_unopenable_path_is_one_line_and_nothing_else(command: tuple[str, ...]) -> None:
    """In a real process: aiosqlite's thread must not report to a closed event loop afterwards."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *command, "--db", "/proc/paperbot-test.db",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    said = stderr.decode()
    assert said.startswith("error: ") and said.count("\n") == 1, said
    assert process.returncode == (2 if command[0] == "sandbox" else 1)


def test_conflicting_periods_are_one_plain_error_line(tmp_path: Path) -> None:
    code, _, said = invoke("top", "--week", "--month", "--db", str(tmp_path / "p.db"))
    assert code == 2 and said == "error: choose one of --week, --month, --day\n"


@pytest.mark.parametrize(("option", "value"), [("--day", "2024-99-01"), ("--until", "last tuesday")])
def test_a_bad_top_date_names_the_option_and_is_bad_usage(tmp_path: Path, option: str, value: str) -> None:
    code, _, said = invoke("top", option, value, "--db", str(tmp_path / "p.db"))
    assert code == 2 and said == f"error: {option} must be YYYY-MM-DD, got {value!r}\n"
    assert "day:" not in said and not (tmp_path / "p.db").exists()


@pytest.mark.parametrize("categories", ["cs LG", "cs.LG,../admin", "cs.LG+math.AP"])
def test_arxiv_categories_that_name_no_feed_are_bad_usage_before_any_fetch(
    tmp_path: Path, categories: str
) -> None:
    code, _, said = invoke(
        "ingest", "--source", "arxiv", "--categories", categories, "--db", str(tmp_path / "p.db"),
        env={"PAPERBOT_SOURCES__ARXIV_RSS_URL": f"http://127.0.0.1:{closed_port()}/rss/"},
    )  # fmt: skip
    assert code == 2 and said.startswith("error: --categories: ") and "arXiv categor" in said, said
    assert said.count("\n") == 1 and not (tmp_path / "p.db").exists()


@pytest.mark.parametrize("period", ["--week", "--month"])
def test_a_window_reaching_before_the_first_date_is_nothing_listed_not_a_traceback(
    tmp_path: Path, period: str
) -> None:
    db = tmp_path / "p.db"
    assert invoke("ingest", "--db", str(db))[0] == 0
    code, _, said = invoke("top", period, "--until", "0001-01-05", "--db", str(db))
    assert code == 1 and said == "error: No daily list is stored for 0001-01-01 to 0001-01-05.\n"


@pytest.mark.parametrize("args", [("search", "x", "--limit", "abc"), ("search", "x", "--limit", "0")])
def test_an_unparsable_option_is_typers_usage_error_exit_2(tmp_path: Path, args: tuple[str, ...]) -> None:
    code, _, said = invoke(*args, "--db", str(tmp_path / "p.db"))
    assert code == 2 and "Invalid value for '--limit'" in said and said.startswith("Usage: ")


@pytest.mark.parametrize(
    ("status", "code"),
    # Missing Access (not in that server, or no applications.commands scope); Unknown Guild.
    [(403, 50001), (404, 10004)],
)
async def test_a_server_refusing_the_commands_is_one_line_not_a_traceback(
    tmp_path: Path, status: int, code: int
) -> None:
    emulator = await DiscordEmulator(token="a-token-value").start()
    try:
        if status == 404:  # 403 is the emulator's own answer: the bot is not in server 1234567890123
            emulator.inject("PUT", "/applications/*/guilds/*/commands", status=status, code=code, times=None)
        exit_code, printed, said = await against(emulator, tmp_path, "sync", "--guild", "1234567890123")
    finally:
        await emulator.stop()
    assert exit_code == 1, said
    [error] = [line for line in said.splitlines() if line.startswith("error: ")]
    assert f"Discord refused the commands for server 1234567890123 ({status} " in error
    assert "applications.commands" in error
    assert "Traceback" not in said and "a-token-value" not in printed + said


async def test_a_server_without_the_commands_scope_is_one_line_naming_the_scope(tmp_path: Path) -> None:
    emulator = await DiscordEmulator().start()
    guild = emulator.create_guild("invited with the bot scope only", commands_scope=False)
    try:
        exit_code, _, said = await against(emulator, tmp_path, "sync", "--guild", str(guild.id))
    finally:
        await emulator.stop()
    assert exit_code == 1, said
    [error] = [line for line in said.splitlines() if line.startswith("error: ")]
    assert f"Discord refused the commands for server {guild.id} (403 Missing Access)" in error
    assert "applications.commands" in error and "Traceback" not in said
    assert emulator.guild_commands == {}


@pytest.mark.parametrize("guild", ["18446744073709551616", "99999999999999999999999"])
async def test_a_server_id_over_64_bits_is_refused_before_asking_discord(tmp_path: Path, guild: str) -> None:
    """Discord answers 400 Invalid Form Body (not a snowflake): it was a traceback and exit 1."""
    emulator = await DiscordEmulator().start()
    try:
        exit_code, printed, said = await against(emulator, tmp_path, "sync", "--guild", guild)
    finally:
        await emulator.stop()
    assert exit_code == 2 and "--guild" in said and "Traceback" not in said, said
    assert "Synced" not in printed and emulator.requests == [] and emulator.rejections == []


async def test_sync_to_server_zero_is_refused_and_publishes_nothing(tmp_path: Path) -> None:
    """It read as no server at all: every server got the commands, "Synced 8 commands to every server"."""
    emulator = await DiscordEmulator().start()
    try:
        exit_code, printed, said = await against(emulator, tmp_path, "sync", "--guild", "0")
    finally:
        await emulator.stop()
    assert exit_code == 2 and "--guild" in said and "Synced" not in printed + said, said
    assert emulator.global_commands == []

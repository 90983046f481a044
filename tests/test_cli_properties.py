"""Property: whatever file, option or configuration value a user gives, the CLI answers with output
and an exit code (0, 1 or 2), never a traceback."""

from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from bot.cli import app
from tests.process_globals import process_globals_restored
from tests.property_budget import examples

FIXTURE = Path(__file__).parent / "fixtures" / "hf_daily_2024-07-31.json"
PROPERTY = settings(max_examples=examples(40), suppress_health_check=[HealthCheck.function_scoped_fixture])

# Text a user might type or a file might hold: markup-like brackets, quotes, escapes, odd Unicode.
HOSTILE = st.sampled_from(
    [
        "[/INST]",
        "[cls]",
        '"',
        "'",
        "\\",
        "\x1b[31m",
        "\x00",
        "\ud800",
        "Ɑ",
        "ß",
        "%s",
        "{}",
        "--",
        "-",
        "NOT",
        "*",
    ]
)
TEXT = st.one_of(st.text(max_size=40), st.lists(HOSTILE | st.text(max_size=5), max_size=6).map(" ".join))
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)
PAPER_KEYS = [
    "id",
    "title",
    "summary",
    "authors",
    "publishedAt",
    "submittedOnDailyAt",
    "githubRepo",
    "projectPage",
    "ai_keywords",
    "ai_summary",
    "upvotes",
    "thumbnail",
]


@st.composite
def hf_like(draw: st.DrawFn) -> bytes:
    """An HF API answer with some fields replaced by anything at all."""
    items = json.loads(FIXTURE.read_text())
    for item in items:
        for key in draw(st.lists(st.sampled_from(PAPER_KEYS), max_size=4)):
            item["paper"][key] = draw(JSON)
    if draw(st.booleans()):
        items = draw(
            st.sampled_from([items[:1], [{"paper": items[0]["paper"], "x": draw(JSON)}], {"items": items}])
        )
    return json.dumps(items).encode()


@st.composite
def page_like(draw: st.DrawFn) -> bytes:
    lines = draw(
        st.lists(st.sampled_from(["Jul 30", "Feb 29", "", "A title", "x" * 300, "Submitted by x"]) | TEXT)
    )
    return "\n".join(lines).encode("utf-8", "surrogatepass")


FILES = st.one_of(st.binary(max_size=300), JSON.map(lambda v: json.dumps(v).encode()), hf_like(), page_like())


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("store") / "p.db"
    assert CliRunner().invoke(app, ["ingest", "--db", str(db)]).exit_code == 0
    return db


def check(args: list[str], env: dict[str, str] | None = None) -> None:
    runner = CliRunner()
    # Relative paths from generated config (PAPERBOT_DB=x, health.file) land in a scratch folder.
    # Each command starts as in its own process: no log handler or endpoint left by the one before.
    with (
        tempfile.TemporaryDirectory() as scratch,
        contextlib.chdir(scratch),
        process_globals_restored(),
    ):
        result = runner.invoke(
            app, args, env={"PAPERBOT_SOURCES__HF_API_URL": "http://127.0.0.1:9/x", **(env or {})}
        )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # the traceback a user would have seen
    assert result.exit_code in (0, 1, 2), (args, result.output)
    assert "Traceback" not in result.output


def test_each_command_starts_from_the_logging_of_a_fresh_process(store: Path) -> None:
    """A user runs one command per process. The properties run many in one: a command that set up
    logging (sync, run) left a handler on its own, since closed, output, and the next command's
    first log line printed "--- Logging error ---" and a traceback (stress seed 12)."""
    check(
        ["sync", "--db", str(store)], {"DISCORD_TOKEN": "x", "DISCORD_API_BASE": "http://127.0.0.1:9/api/v10"}
    )
    check(["ingest"], {"PAPERBOT_DB": ""})  # a new store: its migrations are logged


@PROPERTY
@given(data=FILES, date=st.none() | TEXT, year=st.none() | st.integers(-10, 20000).map(str) | TEXT)
def test_ingest_any_file_with_any_options(
    store: Path, tmp_path: Path, data: bytes, date: str | None, year: str | None
) -> None:
    path = tmp_path / "input"
    path.write_bytes(data)
    args = ["ingest", str(path), "--db", str(store)]
    args += ["--date", date] if date is not None else []
    args += ["--year", year] if year is not None else []
    check(args)
    check(["follows", "match", str(path), "--db", str(store)])


@PROPERTY
@given(
    command=st.sampled_from(["search", "show", "random", "stats", "backup"]),
    text=TEXT,
    limit=st.none() | st.integers(-5, 500).map(str) | TEXT,
    as_json=st.booleans(),
)
def test_any_query_and_option(
    store: Path, tmp_path: Path, command: str, text: str, limit: str | None, as_json: bool
) -> None:
    args = [command]
    if command in ("search", "show"):
        args += ["--", text] if text.startswith("-") else [text]
    elif command == "random" and text:
        args += ["--topic", text]
    elif command == "backup":
        args += [str(tmp_path / (text.replace("/", "_").replace("\x00", "") or "copy"))]
    if command == "search" and limit is not None:
        args += ["--limit", limit]
    if as_json and command != "backup":
        args.append("--json")
    check([*args[:1], "--db", str(store), *args[1:]])


KEYS = [
    "PAPERBOT_DIGEST__GRACE_MINUTES",
    "PAPERBOT_SEARCH__PAGE_SIZE",
    "PAPERBOT_LOG_LEVEL",
    "PAPERBOT_OWNER_IDS",
    "PAPERBOT_SOURCES__ENABLED",
    "PAPERBOT_FOLLOWS__POLL_SECONDS",
    "PAPERBOT_HEALTH__FILE",
    "DISCORD_TOKEN",
    "PAPERBOT_DIGEST__EMPTY_NOTE",
    "PAPERBOT_DB",
]
TOML_KEYS = ["grace_minutes", "page_size", "log_level", "db", "enabled", "grace_minute", "discord_token"]


TOML_VALUE = st.one_of(st.integers(), st.text(max_size=10), st.booleans(), st.floats(allow_nan=False))


@st.composite
def toml_text(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        return draw(st.text(max_size=60))  # probably not TOML at all
    lines = []
    for section in draw(
        st.lists(st.sampled_from(["", "digest", "search", "sources", "follows", "nope"]), max_size=3)
    ):
        if section:
            lines.append(f"[{section}]")
        for key in draw(st.lists(st.sampled_from(TOML_KEYS), max_size=3)):
            lines.append(f"{key} = {json.dumps(draw(TOML_VALUE))}")
    return "\n".join(lines)


@PROPERTY
@given(
    # As a real environment holds them: any bytes but NUL, undecodable ones as lone surrogates.
    env=st.dictionaries(
        st.sampled_from(KEYS),
        (TEXT.map(lambda t: t.encode("utf-8", "replace")) | st.binary(max_size=20)).map(
            lambda b: b.replace(b"\x00", b"").decode("utf-8", "surrogateescape")
        ),
        max_size=3,
    ),
    toml=st.none() | toml_text(),
    command=st.sampled_from([["stats"], ["doctor"], ["search", "x"], ["run"], ["sync"], ["ingest"]]),
)
def test_any_configuration(
    store: Path, tmp_path: Path, env: dict[str, str], toml: str | None, command: list[str]
) -> None:
    environment = dict(env)
    if toml is not None:
        (tmp_path / "c.toml").write_text(toml.encode("utf-8", "replace").decode("utf-8"))
        environment["PAPERBOT_CONFIG"] = str(tmp_path / "c.toml")
    if "DISCORD_TOKEN" in environment and command[0] in ("run", "sync"):
        environment["DISCORD_API_BASE"] = "http://127.0.0.1:9/api/v10"  # never Discord itself
    environment.setdefault("PAPERBOT_DB", str(store))
    check(command if "PAPERBOT_DB" in env else [*command, "--db", str(store)], environment)

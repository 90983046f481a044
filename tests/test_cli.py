"""The CLI end to end, on a temporary database, as a user runs it."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bot.cli import app
from tests.loopback import loopback_server

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "cli.db"


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_ingest_twice_then_stats(db: Path) -> None:
    assert run("ingest", "--db", str(db)) == (0, "69 new, 0 updated, 0 unchanged\n")
    assert run("ingest", "--db", str(db))[1].startswith("0 new")
    code, output = run("stats", "--json", "--db", str(db))
    assert code == 0 and json.loads(output)["papers"] == 69


def test_search_json_and_typos(db: Path) -> None:
    run("ingest", "--db", str(db))
    code, output = run("search", "federated learning", "--json", "--db", str(db))
    results = json.loads(output)
    assert code == 0
    assert {"id", "title", "authors", "published", "url", "score"} <= set(results[0])
    assert all("Federated" in r["title"] for r in results[:5])
    code, output = run("search", "federatd lerning", "--json", "--db", str(db))
    assert code == 0 and "Federated" in json.loads(output)[0]["title"]
    code, output = run("search", '"global magnitude pruning', "--json", "--db", str(db))
    assert code == 0 and isinstance(json.loads(output), list)


def test_show_and_random(db: Path) -> None:
    run("ingest", "--db", str(db))
    _, output = run("random", "--json", "--db", str(db))
    paper = json.loads(output)
    code, shown = run("show", paper["id"], "--json", "--db", str(db))
    assert code == 0 and json.loads(shown)["title"] == paper["title"]
    code, output = run("show", "nope", "--db", str(db))
    assert code == 1 and "No paper matches 'nope'" in output


def _content_digest(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT id, content_hash FROM papers ORDER BY id").fetchall()
        listings = conn.execute("SELECT * FROM listings ORDER BY 1, 2, 3").fetchall()
    return hashlib.sha256(repr((rows, listings)).encode()).hexdigest()


@pytest.mark.parametrize(
    ("content", "line"),
    [
        (
            b"Jul 30\n\nA title\n\nAn abstract that is long enough to count as one. " * 1
            + b"x" * 400
            + b"\n\nCut off",
            7,
        ),
        (b"\x89PNG\r\n\x1a\n\x00\x00garbage", 1),
    ],
)
def test_bad_file_names_the_line_and_writes_nothing(
    db: Path, tmp_path: Path, content: bytes, line: int
) -> None:
    run("ingest", "--db", str(db))
    before = _content_digest(db)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    code, output = run("ingest", str(bad), "--db", str(db))
    assert code == 1
    assert f"line {line}" in output and "bad.txt" in output
    assert _content_digest(db) == before


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"Nothing here looks like a paper\n", "bad.txt, line 1: title 'Nothing here looks like a paper'"),
        (b"\x00\x01", "bad.txt, line 1: control characters"),
        (b"[]", "bad.txt: no papers in it: nothing stored"),
    ],
)
def test_an_ingest_with_nothing_parseable_names_the_line_and_creates_no_store(
    db: Path, tmp_path: Path, content: bytes, says: str
) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    code, output = run("ingest", str(bad), "--db", str(db))
    assert code == 1 and says in output
    assert not db.exists() and list(tmp_path.iterdir()) == [bad]  # no store, no -wal or -shm beside it


@pytest.mark.parametrize(
    ("start", "size_mib", "says"),
    [
        (b"", 300, "over 64 MiB, the size limit for Daily Papers page text files"),
        (b"[", 300, "over 256 MiB, the size limit for HF API JSON files"),
    ],
)
def test_a_file_over_its_format_limit_is_refused_after_a_bounded_read(
    db: Path, tmp_path: Path, start: bytes, size_mib: int, says: str
) -> None:
    run("ingest", "--db", str(db))
    before = _content_digest(db)
    huge = tmp_path / "huge"
    with huge.open("wb") as sparse:  # zeros that take no disk; read whole, a bigger one exhausts memory
        sparse.write(start)
        sparse.truncate(size_mib * 1024 * 1024)
    code, output = run("ingest", str(huge), "--db", str(db))
    assert code == 2
    assert output.startswith("error: ") and says in " ".join(output.split())
    assert _content_digest(db) == before


def test_installed_script_runs(db: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "ingest", "--db", str(db)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "69 new, 0 updated, 0 unchanged"


def test_run_without_a_token_explains_and_exits_2(db: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "PAPERBOT_DISCORD_TOKEN")}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--db", str(db)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,  # no .env here
        env=env,
    )
    assert done.returncode == 2
    assert "DISCORD_TOKEN is not set" in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1  # one paragraph


FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize(
    ("name", "count", "paper_id", "field", "value"),
    [
        (
            "hf_daily_2024-07-31.json",
            3,
            "2407.21018",
            "code_url",
            "https://github.com/SalesforceAIResearch/ThinK",
        ),
        ("arxiv_rss_cs.LG.xml", 3, "2405.18443", "pdf_url", "https://arxiv.org/pdf/2405.18443"),
        ("arxiv_atom_query.xml", 2, "2405.18443", "url", "https://arxiv.org/abs/2405.18443"),
    ],
)
def test_ingest_detects_recorded_formats_and_keeps_links(
    db: Path, name: str, count: int, paper_id: str, field: str, value: str
) -> None:
    code, output = run("ingest", str(FIXTURES / name), "--db", str(db))
    assert code == 0 and output.startswith(f"{count} new")
    shown = json.loads(run("show", paper_id, "--json", "--db", str(db))[1])
    assert shown[field] == value


async def test_ingest_live_from_loopback_sources(tmp_path: Path) -> None:
    from aiohttp import web

    hf = (FIXTURES / "hf_daily_2024-07-31.json").read_bytes()
    rss = (FIXTURES / "arxiv_rss_cs.LG.xml").read_bytes()
    seen: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(str(request.rel_url))
        body, kind = (hf, "application/json") if request.path.startswith("/api") else (rss, "application/xml")
        return web.Response(body=body, content_type=kind)

    async with loopback_server(handle) as base:
        await _ingest_live(tmp_path, base, seen)


async def _ingest_live(tmp_path: Path, base: str, seen: list[str]) -> None:
    env = {
        **os.environ,
        "PAPERBOT_SOURCES__HF_API_URL": base + "/api/daily_papers",
        "PAPERBOT_SOURCES__ARXIV_RSS_URL": base + "/rss/",
    }
    outputs = []
    for args in (
        ["--source", "hf", "--date", "2024-07-31"],
        ["--source", "arxiv", "--categories", "cs.LG,cs.CL"],
    ):
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "ingest", *args, "--db", str(tmp_path / "live.db"),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env, cwd=tmp_path,
        )  # fmt: skip
        stdout, stderr = await process.communicate()
        assert process.returncode == 0, stderr.decode()
        outputs.append(stdout.decode().strip())
    assert outputs == ["3 new, 0 updated, 0 unchanged", "3 new, 0 updated, 0 unchanged"]
    assert seen[0].startswith("/api/daily_papers?date=2024-07-31") and seen[1] == "/rss/cs.LG+cs.CL"


def test_follows_match_shows_which_follows_a_file_would_trigger(db: Path) -> None:
    from bot.services.container import Services
    from bot.settings import Settings
    from bot.storage.database import Database

    async def follow() -> None:
        database = await Database.open(db)
        services = await Services.open(database, Settings())
        await services.follows.add(1001, 42, "KV cache")
        await services.follows.add(1002, 42, "diffusion -federated")
        await database.close()

    asyncio.run(follow())
    code, output = run(
        "follows", "match", str(FIXTURES / "hf_daily_2024-07-31.json"), "--json", "--db", str(db)
    )
    assert code == 0
    assert json.loads(output) == [
        {
            "id": "2407.21018",
            "title": "ThinK: Thinner Key Cache by Query-Driven Pruning",
            "members": {"1001": ["KV cache"]},
        }
    ]
    assert run("stats", "--json", "--db", str(db))[1].count('"papers": 0') == 1  # nothing was stored


def test_backup_makes_a_consistent_copy_and_never_overwrites(db: Path, tmp_path: Path) -> None:
    run("ingest", "--db", str(db))
    target = tmp_path / "copy.db"
    code, output = run("backup", str(target), "--db", str(db))
    assert code == 0 and "schema version" in output
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT count(*) FROM papers").fetchone() == (69,)
    code, output = run("backup", str(target), "--db", str(db))
    assert code == 1 and "exists" in output


def test_a_file_created_under_the_backup_name_during_the_copy_is_left_intact(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run("ingest", "--db", str(db))
    target = tmp_path / "copy.db"
    flush = os.fsync

    def another_writer_first(descriptor: int) -> None:
        # The copy is whole and being flushed, after the command checked that the name was free.
        if not target.exists():
            target.write_text("someone else's file")
        flush(descriptor)

    monkeypatch.setattr(os, "fsync", another_writer_first)
    code, output = run("backup", str(target), "--db", str(db))
    assert code == 1
    assert (
        output.strip()
        == f"error: {target} appeared while the backup was written and was left as it is; choose a new path"
    )
    assert target.read_text() == "someone else's file"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".copy.db")] == []  # copy discarded


def doctor(db: Path, cwd: Path, **env_extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERBOT_", "DISCORD_"))}
    env |= {"PAPERBOT_SOURCES__HF_API_URL": "http://127.0.0.1:9/daily_papers", **env_extra}
    return subprocess.run(
        [sys.executable, "-m", "bot", "doctor", "--db", str(db)],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env=env,
    )


def test_doctor_reports_each_check_without_revealing_the_token(db: Path, tmp_path: Path) -> None:
    secret = "doctor-secret-token-123"
    run("ingest", "--db", str(db))
    done = doctor(db, tmp_path, DISCORD_TOKEN=secret)
    assert done.returncode == 1  # the source is unreachable
    assert "✔ token: DISCORD_TOKEN is set" in done.stdout
    assert "✔ database:" in done.stdout and "69 papers" in done.stdout
    assert "✔ schema: version" in done.stdout and "✘ source hf:" in done.stdout
    # The source schedule, from the fetch log: when the running bot fetches next.
    assert re.search(r"schedule hf: .*next (fetch )?(now \(due\)|\d{4}-\d\d-\d\d \d\d:\d\d UTC)", done.stdout)
    # The momentum refresh is a policy of the same schedule: doctor says when it runs next.
    assert re.search(r"schedule hf-refresh: never fetched; next fetch (now|\d{4}-\d\d-\d\d)", done.stdout)
    assert secret not in done.stdout + done.stderr


def test_doctor_says_which_shards_this_process_runs_and_who_runs_the_source_schedule(
    db: Path, tmp_path: Path
) -> None:
    run("ingest", "--db", str(db))
    alone = doctor(db, tmp_path)
    assert "✔ shards: one process runs all shards (as many as Discord recommends)" in alone.stdout
    assert "✔ source schedule: not running (no process holds it)" in alone.stdout
    split = doctor(db, tmp_path, PAPERBOT_SHARD_COUNT="6", PAPERBOT_SHARDS="2,3")
    assert (
        "✔ shards: `paperbot run` here runs shards 2-3 of 6; other processes must run the rest"
        in split.stdout
    )


def test_doctor_never_writes_not_even_a_missing_database(db: Path, tmp_path: Path) -> None:
    done = doctor(db, tmp_path)
    assert done.returncode == 1 and "does not exist" in done.stdout
    assert not db.exists() and list(db.parent.iterdir()) == []

    run("ingest", "--db", str(db))
    before = {path.name: (path.read_bytes(), path.stat().st_mtime_ns) for path in tmp_path.iterdir()}
    assert "✔ database:" in doctor(db, tmp_path).stdout
    after = {path.name: (path.read_bytes(), path.stat().st_mtime_ns) for path in tmp_path.iterdir()}
    assert after == before  # no byte, no timestamp, no -wal/-shm left beside the store


def test_similar_prints_what_the_command_answers(db: Path) -> None:
    assert run("ingest", "--db", str(db))[0] == 0
    code, output = run("search", "global magnitude pruning", "--json", "--limit", "1", "--db", str(db))
    source = json.loads(output)[0]["id"]
    code, output = run("similar", source, "--json", "--limit", "3", "--db", str(db))
    assert code == 0
    similar = json.loads(output)
    assert 1 <= len(similar) <= 3 and all(p["id"] != source for p in similar)
    assert all(p["shared"] for p in similar)
    code, table = run("similar", source, "--limit", "3", "--db", str(db))
    assert code == 0 and similar[0]["id"] in table
    assert run("similar", "no such paper", "--db", str(db))[0] == 1


def test_a_cli_ingest_of_a_new_version_queues_the_savers_update(db: Path, tmp_path: Path) -> None:
    # A member saved 2405.18443 (v1, from the Atom API) in a server; `paperbot ingest` of a feed
    # announcing v2 queues their "new version v2" for the running bot's next alert DM, once.
    atom = Path(__file__).parent / "fixtures" / "arxiv_atom_query.xml"
    assert run("ingest", str(atom), "--db", str(db))[0] == 0
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO members (user_id, created_at) VALUES (7, 'x')")
        conn.execute("INSERT INTO member_guilds (user_id, guild_id) VALUES (7, 70)")
        conn.execute(
            "INSERT INTO library (user_id, paper_pk, saved_at) "
            "SELECT 7, pk, 'x' FROM papers WHERE id = '2405.18443'"
        )
    revised = tmp_path / "revised.xml"
    revised.write_text(atom.read_text().replace("2405.18443v1", "2405.18443v2"))
    for _ in range(2):  # the same version twice: queued once
        assert run("ingest", str(revised), "--db", str(db))[0] == 0
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT user_id, change, state FROM library_updates").fetchall()
    assert rows == [(7, "v2", "pending")]


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop is not installed on Windows")
def test_the_bot_runs_on_uvloop_and_other_commands_on_asyncios_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """`paperbot run` (and `make run`) puts the bot's event loop on libuv; the one-shot commands
    keep asyncio's own, and a job's result and errors come back the same either way."""
    import bot.cli as cli

    async def loop_module() -> str:
        return type(asyncio.get_running_loop()).__module__

    assert cli._run(loop_module(), fast_loop=True).startswith("uvloop")
    assert cli._run(loop_module()).startswith("asyncio")

    async def fails() -> None:
        raise cli.PaperbotError("the store is busy")

    with pytest.raises(typer.Exit):  # `error: the store is busy`, exit 1
        cli._run(fails(), fast_loop=True)


def test_ingest_into_a_missing_folder_is_refused_as_backup_refuses(tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "x.db"
    code, output = run("ingest", "--db", str(target))
    assert (code, " ".join(output.split())) == (
        1,
        f"error: cannot write {target}: the folder {target.parent} does not exist",
    )
    assert not target.parent.exists()
    ingested = run("ingest", "--db", str(tmp_path / "x.db"))
    assert ingested[0] == 0
    assert run("backup", str(target), "--db", str(tmp_path / "x.db"))[1] == output


@pytest.mark.parametrize("command", ["show", "similar"])
@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_paper_reference_is_bad_usage_that_says_part_of_a_title_will_do(
    db: Path, command: str, blank: str
) -> None:
    run("ingest", "--db", str(db))
    code, output = run(command, blank, "--db", str(db))
    # Not "exact title": part of a title finds the paper (`paperbot show "pruning"`).
    assert (code, output.strip()) == (
        2,
        f"error: {command} which paper? give its id, arXiv id or link, or its title (or part of it)",
    )
    assert run("show", "global magnitude", "--db", str(db))[0] == 0

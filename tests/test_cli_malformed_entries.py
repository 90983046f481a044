"""`paperbot ingest` of a feed with entries no real feed sends: the good entries are stored, each
bad one is left out and named (file or feed, entry, why) on stderr, and the fetch log says so."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
from pathlib import Path

from aiohttp import web
from typer.testing import CliRunner

from bot.cli import app
from tests.loopback import loopback_server

runner = CliRunner()

ATOM = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>q</title>
  <entry><id>http://arxiv.org/abs/garbage</id><published>notadate</published>
    <title>A Mangled Entry</title><summary>x</summary><author><name>A</name></author></entry>
  <entry><id>http://arxiv.org/abs/2405.18443v1</id><published>2024-05-28T17:59:59Z</published>
    <title>A Good Entry</title><summary>y</summary><author><name>B</name></author></entry>
  <entry><id>http://arxiv.org/abs/2405.18444v1</id><published>notadate</published>
    <title>An Undated Entry</title><summary>z</summary><author><name>C</name></author></entry>
</feed>"""
RSS = b"""<?xml version='1.0' encoding='UTF-8'?>
<rss version="2.0"><channel><title>t</title><pubDate>Thu, 30 May 2024 00:00:00 -0400</pubDate>
  <item><title>No Link Here</title><description>Abstract: x</description></item>
  <item><title>Good</title><link>https://arxiv.org/abs/2405.18001</link>
    <description>Abstract: y</description></item>
</channel></rss>"""


def hf_answer() -> bytes:
    def item(paper_id: str, published: str) -> dict[str, object]:
        paper = {"id": paper_id, "title": f"Paper {paper_id}", "summary": "s", "publishedAt": published}
        return {"paper": paper | {"authors": [{"name": "A"}]}}

    return json.dumps(
        [
            item("2607.00001", "2026-13-45T00:00:00.000Z"),
            item("2607.00002", "2026-07-01T00:00:00.000Z"),
            item("not-an-id", "2026-07-01T00:00:00.000Z"),
            item("2607.00004", "2026-07-01T00:00:00.000Z"),
        ]
    ).encode()


def stored_ids(db: Path) -> list[str]:
    with sqlite3.connect(db) as connection:
        return [row[0] for row in connection.execute("SELECT arxiv_id FROM papers ORDER BY arxiv_id")]


def test_a_feed_file_stores_its_good_entries_and_names_the_skipped_ones(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    for name, data in (("query.atom", ATOM), ("today.rss", RSS)):
        (tmp_path / name).write_bytes(data)
    result = runner.invoke(
        app, ["ingest", str(tmp_path / "query.atom"), str(tmp_path / "today.rss"), "--db", str(db)]
    )
    assert result.exit_code == 0, result.output
    atom, rss = str(tmp_path / "query.atom"), str(tmp_path / "today.rss")
    assert result.stderr.splitlines() == [
        f"skipped: {atom}: entry http://arxiv.org/abs/garbage: its id is not an arXiv id",
        f"skipped: {atom}: entry http://arxiv.org/abs/2405.18444v1: published 'notadate' is not a date",
        f"skipped: {rss}: item titled 'No Link Here': no arXiv id in its link or guid",
    ]
    assert result.stdout == "2 new, 0 updated, 0 unchanged, 3 skipped\n"
    assert stored_ids(db) == ["2405.18001", "2405.18443"]  # no made-up "t-…" id


def test_a_file_of_only_malformed_entries_names_them_and_stores_nothing(tmp_path: Path) -> None:
    path = tmp_path / "bad.atom"
    path.write_bytes(ATOM.replace(b"2405.18443v1", b"nonsense"))
    result = runner.invoke(app, ["ingest", str(path), "--db", str(tmp_path / "s.db")])
    assert result.exit_code == 1
    assert (
        result.stderr.count("skipped: ") == 3 and "error: " in result.stderr and "no papers" in result.stderr
    )
    assert "Traceback" not in result.output
    assert not (tmp_path / "s.db").exists()


async def test_a_live_fetch_stores_the_good_items_and_names_the_skipped_in_output_log_and_fetch_log(
    tmp_path: Path,
) -> None:
    answer = hf_answer()

    async def handle(request: web.Request) -> web.Response:
        return web.Response(body=answer, content_type="application/json")

    async with loopback_server(handle) as base:
        env = {
            **os.environ,
            "PAPERBOT_SOURCES__HF_API_URL": base + "/api/daily_papers",
            "PAPERBOT_LOG_LEVEL": "INFO",
        }
        db = tmp_path / "live.db"
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "ingest", "--source", "hf", "--date", "2026-07-02", "--db", str(db),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env, cwd=tmp_path,
        )  # fmt: skip
        stdout, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    assert stdout.decode() == "2 new, 0 updated, 0 unchanged, 2 skipped\n"
    feed = f"{base}/api/daily_papers?date=2026-07-02"
    named = [line for line in stderr.decode().splitlines() if line.startswith("skipped: ")]
    assert named == [
        f"skipped: {feed}, line 1: item 1 (2607.00001): publishedAt '2026-13-45T00:00:00.000Z' is not a date",
        f"skipped: {feed}, line 1: item 3 (not-an-id): its id is not an arXiv id",
    ]
    assert stored_ids(db) == ["2607.00002", "2607.00004"]
    with sqlite3.connect(db) as connection:
        [(ok, papers, note)] = connection.execute("SELECT ok, papers, error FROM source_fetches").fetchall()
    assert (ok, papers) == (1, 2)
    assert note == (
        "2 malformed entries skipped: item 1 (2607.00001): publishedAt '2026-13-45T00:00:00.000Z'"
        " is not a date (and 1 more)"
    )

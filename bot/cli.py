"""The ``paperbot`` command line: the composition root for every offline job.

Resources (settings, database, services) are opened here and passed in; nothing is opened at
import time.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import ExitStack, asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from bot.data import bundled_sample
from bot.domain.ids import arxiv_category_problem
from bot.domain.models import ListedPaper, Paper
from bot.domain.momentum import Period
from bot.domain.printable import printable
from bot.domain.shards import shard_plan
from bot.domain.text import without_lone_surrogates
from bot.domain.urls import shown_url
from bot.errors import InvalidInput, PaperbotError, PaperNotFound, ParseError, StoreMisconfigured
from bot.network_failure import failure_reason, network_failure
from bot.parsing.formats import parse_file
from bot.parsing.skipped import SkippedEntry
from bot.services.container import open_services
from bot.services.momentum import Ranking
from bot.services.papers import PaperService
from bot.services.search import SearchResults
from bot.services.similar import SimilarPaper
from bot.settings import DEFAULT_DB, ConfigError, Settings, load_settings, postgres_url_problem
from bot.sources.files import FileTooLarge, read_papers_file
from bot.sources.http import FetchError
from bot.storage.database import Database, ForeignDatabase, SchemaTooNew, StoreMissing, bundled_migrations
from bot.storage.folder_claim import FolderClaim, Holder, claim_exclusively, holders
from bot.storage.papers import UpsertCounts
from bot.storage.postgres import PostgresDatabase, redacted
from bot.storage.transfer import CopyFailed, CopyNotVerified, TableCopy, TargetInUse, copy_store

app = typer.Typer(
    name="paperbot",
    help="A Discord bot that keeps research communities on top of the daily papers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help text is plain: "[default: ...]" stays as written
)
# Paper text is data, never markup or emoji codes; soft_wrap: the terminal wraps, never mid-phrase.
out = Console(highlight=False, soft_wrap=True, markup=False, emoji=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False)
T = TypeVar("T")

PROGRESS_THRESHOLD = 5000  # papers; smaller ingests finish before a bar is worth drawing

DbOption = Annotated[
    Path | None,
    typer.Option("--db", help="SQLite database file [default: $PAPERBOT_DB, else data/paperbot.db]"),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")]


def typed(text: str) -> str:
    """A text argument as the store can take it: undecodable bytes (lone surrogates) become U+FFFD."""
    return without_lone_surrogates(text)


def say(text: str) -> None:
    """One line (or block) of data for the user, shown as written and never obeyed."""
    out.print(Text(printable(text)))


def fail(message: str, code: int = 1) -> NoReturn:
    """``error: message`` on stderr, then exit with ``code`` (2: bad usage or configuration)."""
    err.print(Text.assemble(("error: ", "red"), printable(message)))
    raise typer.Exit(code)


NOTHING_FOUND = 1  # search, show and random: like grep, finding nothing exits 1 (README: exit codes)


def nothing_found(message: str) -> NoReturn:
    """No paper matched: the message on stderr (stdout stays clean for scripts), exit 1."""
    err.print(Text(printable(message)))
    raise typer.Exit(NOTHING_FOUND)


def _settings(db: Path | None) -> Settings:
    try:
        settings = load_settings(**({"db": db} if db else {}))
    except ConfigError as exc:
        fail(str(exc), 2)
    if settings.db.is_dir():
        fail(f"the database {settings.db} is a directory; give a database file path (--db or PAPERBOT_DB)", 2)
    return settings


def _progress_bar(*, disable: bool = False) -> Progress:
    """A progress bar on stderr (stdout stays the command's data)."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=disable,
    )


def _fast_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop where it is installed (not on Windows): the bot's loop does every
    interaction's Python work on one core, and libuv makes its sockets and callbacks cheaper."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _store_name(settings: Settings) -> str:
    """The store as shown to the user: the SQLite path, or the PostgreSQL URL without its password."""
    store = settings.store
    return redacted(store) if isinstance(store, str) else str(store)


def _run(
    job: Awaitable[T], *, db: Path | None = None, fast_loop: bool = False, settings: Settings | None = None
) -> T:
    """Run ``job``; its failure becomes one line and an exit code. ``settings``: the job talks to
    Discord's REST API (run, sync), so a failed connect names the API address."""
    try:
        with asyncio.Runner(loop_factory=_fast_loop_factory() if fast_loop else None) as runner:
            return runner.run(job)  # type: ignore[arg-type]
    except typer.Exit:
        raise
    except StoreMisconfigured as exc:  # a setting to fix, as a ConfigError is
        fail(str(exc), 2)
    except (PaperbotError, FetchError, SchemaTooNew, ForeignDatabase, StoreMissing) as exc:
        fail(str(exc))
    except sqlite3.DatabaseError as exc:
        fail(_database_error(db, exc))
    except Exception as exc:
        refusal = _token_refusal(exc)
        if refusal is not None:
            # 2, as for no token at all: restarting cannot fix it (the unit's RestartPreventExitStatus=2).
            fail(refused_token(refusal), 2)
        if settings is not None and (unreachable := _discord_unreachable(settings, exc)):
            fail(unreachable)  # 1: the network may come back, and systemd restarts on 1
        if isinstance(exc, OSError):
            fail(f"{exc.strerror or exc}{f': {exc.filename}' if exc.filename else ''}")
        raise


def _token_refusal(exc: BaseException) -> str | None:
    """How Discord refused the bot's token, if that is what ``exc`` (or what it wraps: a cog that
    failed to load) is: a 401 at login (discord.py's LoginFailure) or on any call after it (the
    token reset between login and setup_hook: discord.py's plain HTTPException), or the gateway
    closing with 4004 (a token reset between login and IDENTIFY)."""
    # discord.py imported only here, where a token was used.
    from discord import ConnectionClosed, HTTPException, LoginFailure

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, LoginFailure) or (isinstance(seen, HTTPException) and seen.status == 401):
            return "401 Unauthorized"
        if isinstance(seen, ConnectionClosed) and seen.code == GATEWAY_AUTHENTICATION_FAILED:
            return "gateway close 4004 Authentication failed"
        seen = seen.__cause__
    return None


def _discord_unreachable(settings: Settings, exc: BaseException) -> str | None:
    """The line for a network failure on the way to Discord's REST API (a refused connect, a name
    that does not resolve, TLS, a timeout, a connection closed mid-answer), or None for any other
    error. The libraries' own text named an IP and port, or nothing (a timeout's is empty)."""
    import aiohttp
    from discord.http import Route  # discord.py imported only here, where Discord was called

    failure = network_failure(exc)
    if failure is None:
        return None
    configured = settings.discord_api_base
    check = "DISCORD_API_BASE and the network" if configured else "the network, a firewall or a proxy"
    reached = "connect to" if isinstance(failure, aiohttp.ClientConnectorError) else "reach"
    return (
        f"cannot {reached} Discord's API at {shown_url(configured or Route.BASE)} "
        f"({failure_reason(failure)}): check {check}"
    )


def _database_error(db: Path | None, exc: sqlite3.DatabaseError) -> str:
    """What SQLite's "unable to open database file" means here: a folder or file this user cannot
    write (SQLite writes its -wal and -shm files beside a store even to read it), else the file."""
    if db is not None and db.is_file():
        folder = read_only_folder(db)
        if folder is not None:
            return (
                f"the folder {folder} is read-only: SQLite needs to write {db.name}-wal and {db.name}-shm "
                f"there to change {db}; copy it somewhere writable (`paperbot backup COPY --db {db}`)"
            )
        if not os.access(db, os.W_OK):
            return f"the database file {db} is read-only: make it writable, or copy it (`paperbot backup`)"
    if db is not None and not db.exists() and (folder := read_only_folder(db)) is not None:
        return cannot_write_in(folder, db)
    where = f"{db}" if db else "the database"
    return f"cannot use {where} as a paperbot database: {exc}"


def cannot_write_in(folder: Path, path: Path) -> str:
    return f"the folder {folder} is read-only: cannot write {path} there"


def read_only_folder(path: Path) -> Path | None:
    """The folder holding ``path`` when this user cannot write in it (a read-only mount, another
    user's folder), else None."""
    folder = path.absolute().parent
    return None if os.access(folder, os.W_OK | os.X_OK) else folder


def _readonly_store(settings: Settings, *, create: bool) -> bool:
    """Whether a command opens an existing SQLite store in a read-only folder read-only: reading
    needs nothing written. A command that would create or write the store there is refused."""
    store = settings.store
    if not isinstance(store, Path) or not store.is_file():
        return False
    folder = read_only_folder(store)
    if folder is not None and create:
        fail(cannot_write_in(folder, store))
    return folder is not None


# A CLI job waits this long for the running bot's short writes (the bot's own writes wait 5 s, and
# its commands defer and wait up to delivery.write_wait_seconds): a batch job can afford to queue.
BATCH_BUSY_TIMEOUT_MS = 60_000


@asynccontextmanager
async def open_service(settings: Settings, *, create: bool = False) -> AsyncIterator[PaperService]:
    """The paper service over the store; ``create``: only commands that load papers make one."""
    readonly = _readonly_store(settings, create=create)
    async with open_services(
        settings, busy_timeout_ms=BATCH_BUSY_TIMEOUT_MS, create=create, readonly=readonly
    ) as services:
        yield services.papers


def paper_json(paper: Paper, **extra: Any) -> dict[str, Any]:
    return {
        "id": paper.id,
        "arxiv_id": paper.arxiv_id,
        "title": paper.title,
        "authors": list(paper.authors),
        "published": paper.published.isoformat() if paper.published else None,
        "first_listed": paper.first_listed.isoformat() if paper.first_listed else None,
        "url": paper.url,
        "pdf_url": paper.pdf_url,
        "hf_url": paper.hf_url,
        "code_url": paper.code_url,
        "project_url": paper.project_url,
        "upvotes": paper.upvotes,
        "source": paper.source,
        **extra,
    }


def _print_json(value: object) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def _counts_line(counts: UpsertCounts, skipped: Sequence[SkippedEntry] = ()) -> str:
    line = f"{counts.new} new, {counts.updated} updated, {counts.unchanged} unchanged"
    cut = sum(1 for entry in skipped if entry.trimmed)
    left_out = len(skipped) - cut
    return line + (f", {left_out} skipped" if left_out else "") + (f", {cut} trimmed" if cut else "")


def _name_skipped(skipped: Sequence[SkippedEntry]) -> None:
    """Each malformed entry left out, and each paper cut to the size limits, on stderr: which file
    or feed, which entry, why."""
    for entry in skipped:
        err.print(Text(printable(f"{entry.done}: {entry.where}: {entry.entry}: {entry.reason}")))


def parsed_files(
    files: list[tuple[str, bytes]],
    *,
    day: date | None,
    year: int | None,
    skipped: list[SkippedEntry] | None = None,
) -> list[ListedPaper]:
    """Every file parsed, before any store is opened: a file with a mistake (ParseError names its
    line) or with no paper at all stops the run having created and written nothing. Feed entries
    a real feed could not hold (no arXiv id, a date that is not one) go to ``skipped``."""
    listed: list[ListedPaper] = []
    for name, data in files:
        listed += parse_file(data, source=name, today=day, year=year, list_date=day, skipped=skipped)
    if not listed:
        names = ", ".join(name for name, _ in files)
        raise ParseError("no papers in it: nothing stored", source=names)
    return listed


async def ingest_files(
    service: PaperService,
    listed: list[ListedPaper],
    *,
    show_progress: bool = True,
    one_transaction: bool = False,
) -> UpsertCounts:
    """Store parsed papers in batches of whole list days, each its own transaction, so a running
    bot's writes get in between (a failure part-way keeps the batches before it: PartlyStored says
    how far it got); ``one_transaction``: all in one, a failure while storing any of them stores none."""
    with _progress_bar(disable=not show_progress or len(listed) < PROGRESS_THRESHOLD) as bar:
        task = bar.add_task("ingesting", total=len(listed))
        store = service.ingest if one_transaction else service.ingest_in_batches
        return await store(listed, progress=lambda n: bar.advance(task, n))


class LiveSource(StrEnum):
    hf = "hf"
    arxiv = "arxiv"


@app.command()
def ingest(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Files to ingest: Daily Papers page text, HF API JSON, arXiv RSS or Atom (detected from "
            "content). None: the bundled sample page."
        ),
    ] = None,
    day: Annotated[
        str | None,
        typer.Option(
            "--date",
            help="List date YYYY-MM-DD: the day to fetch with --source hf; for files, anchors yearless "
            "date lines and is used when a file has none.",
        ),
    ] = None,
    year: Annotated[
        int | None,
        typer.Option("--year", min=1, max=9999, help="Year of yearless date lines such as 'Jul 30'."),
    ] = None,
    source: Annotated[
        LiveSource | None, typer.Option("--source", help="Fetch live instead of reading files: hf or arxiv.")
    ] = None,
    categories: Annotated[
        str | None,
        typer.Option("--categories", help="arXiv categories for --source arxiv, e.g. cs.LG,cs.CL."),
    ] = None,
    one_transaction: Annotated[
        bool,
        typer.Option(
            "--one-transaction",
            help="Store all files in one transaction (a failure while storing stores none) instead of "
            "batches of whole list days; a running bot's writes then wait until it ends.",
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """Load papers into the store. Prints: N new, M updated, K unchanged."""
    settings = _settings(db)
    list_day = _parse_date(day) if day else None
    if source is not None:
        if paths:
            fail("give files or --source, not both", 2)
        wanted = _categories(categories)
        fetched = _run(_fetch_live(settings, source, list_day, wanted))
        _name_skipped(fetched.skipped)
        out.print(_counts_line(fetched, fetched.skipped))
        return
    _require_folder(settings)
    files: list[tuple[str, bytes]] = []
    for path in paths or []:
        files.append((str(path), _read_file(path)))
    skipped: list[SkippedEntry] = []
    try:
        listed = parsed_files(files or [bundled_sample()], day=list_day, year=year, skipped=skipped)
    except ParseError as exc:
        _name_skipped(skipped)
        fail(str(exc))
    _name_skipped(skipped)

    async def job() -> UpsertCounts:
        async with open_service(settings, create=True) as service:
            return await ingest_files(service, listed, one_transaction=one_transaction)

    out.print(_counts_line(_run(job(), db=settings.db), skipped))


def _categories(typed: str | None) -> list[str]:
    """``--categories cs.LG,cs.CL`` as a list (empty: the configured ones); exit 2 for one that is
    no arXiv category, before anything is fetched or created."""
    wanted = [c.strip() for c in (typed or "").split(",") if c.strip()]
    if wanted and (problem := arxiv_category_problem(wanted)):
        fail(f"--categories: {problem}", 2)
    return wanted


async def _fetch_live(
    settings: Settings, source: LiveSource, day: date | None, categories: list[str]
) -> UpsertCounts:
    import aiohttp

    # With a session: the live fetcher.
    async with (
        aiohttp.ClientSession() as session,
        open_services(settings, session=session, busy_timeout_ms=BATCH_BUSY_TIMEOUT_MS) as services,
    ):
        assert services.fetcher is not None
        if source is LiveSource.hf:
            return await services.fetcher.fetch_day(day or datetime.now(UTC).date())
        return await services.fetcher.fetch_arxiv(categories)


@app.command()
def search(
    query: Annotated[
        str,
        typer.Argument(
            help='Words to look for; "exact phrase" in double quotes. A query that starts with "-" '
            '(a word left out) goes after "--", or the shell\'s words are read as options: '
            'paperbot search -- "-video diffusion"'
        ),
    ],
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=100, help="Most results to print.")] = 10,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Full-text search over titles, abstracts and authors, best first; typos tolerated."""
    settings = _settings(db)

    async def job() -> SearchResults:
        async with open_service(settings) as service:
            return await service.search.find(typed(query), limit=limit)

    results = _run(job(), db=settings.db)
    hits = results.hits
    if as_json:
        _print_json(
            [
                paper_json(
                    h.paper, score=round(h.score, 4), snippet=h.snippet, fuzzy=h.fuzzy, phrase=h.phrase
                )
                for h in hits
            ]
        )
        if not hits:
            raise typer.Exit(NOTHING_FOUND)
        return
    if not hits:
        nothing_found("No papers found.")
    # The rank, not the score: BM25 (SQLite) and ts_rank_cd (PostgreSQL) scores have no unit and
    # round to 0.00 where most papers hold the word; the order is what they mean.
    table = Table("#", "id", "title", "published", show_lines=False)
    for rank, hit in enumerate(hits, 1):
        published = hit.paper.published or hit.paper.first_listed
        table.add_row(
            str(rank),
            hit.paper.id,
            Text(printable(hit.paper.title, keep_newlines=False)),
            published.isoformat() if published else "",
        )
    out.print(table)
    notes = [f"{results.count_text()} result{'s' * (results.total != 1)}, best first"]
    if results.correction:
        notes.append(f"spelling corrected to {results.correction!r}")
    if results.some_words:
        notes.append("no paper has every word: papers with some of them")
    err.print("; ".join(notes), markup=False, highlight=False)


def _require_paper(command: str, reference: str) -> None:
    """Bad usage for a blank paper reference, said as the argument's help says it: a title need
    not be exact, part of it is enough."""
    if not reference.strip():
        fail(f"{command} which paper? give its id, arXiv id or link, or its title (or part of it)", 2)


@app.command()
def show(
    paper_id: Annotated[
        str, typer.Argument(metavar="ID", help="Paper id, arXiv id or link, or its title (or part of it).")
    ],
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Print one paper."""
    _require_paper("show", paper_id)
    settings = _settings(db)

    async def job() -> Paper | None:
        async with open_service(settings) as service:
            try:
                return await service.show(typed(paper_id))
            except PaperNotFound:
                return None

    paper = _run(job(), db=settings.db)
    if paper is None:
        nothing_found(str(PaperNotFound(paper_id)))
    _print_paper(paper, as_json)


@app.command()
def similar(
    paper_id: Annotated[
        str, typer.Argument(metavar="ID", help="Paper id, arXiv id or link, or its title (or part of it).")
    ],
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=50, help="Most papers to print.")] = 8,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Papers like one paper (what /papers similar answers), best first, with the words they share."""
    _require_paper("similar", paper_id)
    settings = _settings(db)

    async def job() -> list[SimilarPaper]:
        async with open_services(
            settings, create=False, readonly=_readonly_store(settings, create=False)
        ) as services:
            source = await services.papers.show(paper_id)
            return await services.similar.similar(source, limit=limit)

    hits = _run(job(), db=settings.db)
    if as_json:
        _print_json([paper_json(h.paper, score=round(h.score, 4), shared=list(h.shared)) for h in hits])
        return
    if not hits:
        out.print("No similar papers found.")
        return
    table = Table("score", "id", "title", "shares", show_lines=False)
    for hit in hits:
        table.add_row(f"{hit.score:.2f}", hit.paper.id, hit.paper.title, ", ".join(hit.shared))
    out.print(table)


@app.command()
def random(
    topic: Annotated[str | None, typer.Option("--topic", help="Only papers matching these words.")] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Print a random paper."""
    settings = _settings(db)

    async def job() -> Paper | None:
        async with open_service(settings) as service:
            return await service.random(typed(topic) if topic else None)

    paper = _run(job(), db=settings.db)
    if paper is None:
        nothing_found("No papers found." if topic else "The store is empty: run `paperbot ingest` first.")
    _print_paper(paper, as_json)


@app.command()
def top(
    week: Annotated[bool, typer.Option("--week", help="The last 7 days of lists (the default).")] = False,
    month: Annotated[bool, typer.Option("--month", help="The last 30 days of lists.")] = False,
    day: Annotated[
        str | None, typer.Option("--day", help="One list, YYYY-MM-DD (or 'latest').", metavar="DATE")
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            "--until", help="The week or month ends at this list [default: the newest].", metavar="DATE"
        ),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=500, help="Most papers to print.")] = 50,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """The most upvoted papers of the recent lists: the same ranking as /papers top."""
    if sum((week, month, day is not None)) > 1:
        fail("choose one of --week, --month, --day", 2)
    if day is not None:
        period, on = Period.DAY, None if day == "latest" else _parse_date(day, option="--day")
    else:
        period = Period.MONTH if month else Period.WEEK
        on = _parse_date(until, option="--until") if until else None
    settings = _settings(db)

    async def job() -> Ranking:
        async with open_services(
            settings, warm=False, create=False, readonly=_readonly_store(settings, create=False)
        ) as services:
            return await services.momentum.top(period, on, limit=limit)

    ranking = _run(job(), db=settings.db)
    updated = ranking.updated_at.isoformat(timespec="seconds") if ranking.updated_at else None
    if as_json:
        _print_json(
            {
                "title": ranking.title,
                "covers": ranking.covers,
                "listed": ranking.listed,
                "updated_at": updated,
                "papers": [
                    paper_json(e.paper, rank=rank, upvotes=e.upvotes, comments=e.comments, stars=e.stars)
                    for rank, e in enumerate(ranking.entries, 1)
                ],
            }
        )
        return
    out.print(f"{ranking.title} · {ranking.covers} · counts updated {updated or 'never'}")
    table = Table("#", "upvotes", "id", "title", show_lines=False)
    for rank, entry in enumerate(ranking.entries, 1):
        votes = "" if entry.upvotes is None else str(entry.upvotes)
        table.add_row(str(rank), votes, entry.paper.id, entry.paper.title)
    out.print(table)


@app.command()
def stats(as_json: JsonOption = False, db: DbOption = None) -> None:
    """Counts of papers, sources and daily lists."""
    settings = _settings(db)

    async def job() -> Any:
        async with open_service(settings) as service:
            return await service.stats()

    result = _run(job(), db=settings.db)
    data = {
        "papers": result.papers,
        "sources": result.by_source,
        "list_days": result.list_days,
        "first_list": result.first_list.isoformat() if result.first_list else None,
        "latest_list": result.latest_list.isoformat() if result.latest_list else None,
        "schema_version": result.schema_version,
        "database": _store_name(settings),
    }
    if as_json:
        _print_json(data)
        return
    sources = ", ".join(f"{count} from {name}" for name, count in sorted(result.by_source.items()))
    say(f"Papers: {result.papers}" + (f" ({sources})" if sources else ""))
    if result.first_list and result.latest_list:
        days = f"{result.list_days} day{'s' * (result.list_days != 1)}"
        say(f"Daily lists: {days}, from {result.first_list.isoformat()} to {result.latest_list.isoformat()}")
    else:
        say("Daily lists: none yet")
    say(f"Database: {_store_name(settings)} (schema version {result.schema_version})")


GATEWAY_AUTHENTICATION_FAILED = 4004


def refused_token(how: str) -> str:
    """The one line for a token Discord refused (never the token itself)."""
    return (
        f"Discord refused the token in DISCORD_TOKEN ({how}): it is mistyped, or was reset or revoked. "
        "Copy the bot's current token from https://discord.com/developers/applications (Bot, Reset Token) "
        "into DISCORD_TOKEN."
    )


NO_TOKEN = (
    "paperbot needs a Discord bot token to connect, and DISCORD_TOKEN is not set. Create an application at "
    "https://discord.com/developers/applications, add a Bot, copy its token and put DISCORD_TOKEN=... in the "
    "environment or in a .env file here (git-ignored: never commit it). Invite the bot with the bot and "
    "applications.commands scopes, then run `paperbot sync` once to publish the slash commands. Meanwhile "
    'the offline commands work without a token: `paperbot ingest`, `paperbot search "federated learning"`.'
)


@app.command()
def start(db: DbOption = None) -> None:
    """The job behind `make run`: load the bundled papers, then the bot (DISCORD_TOKEN set) or the sandbox."""
    settings = _settings(db)
    _configure_logging(settings)

    listed = parsed_files([bundled_sample()], day=None, year=None)

    async def job() -> tuple[UpsertCounts, int]:
        async with open_service(settings, create=True) as service:
            counts = await ingest_files(service, listed)
            return counts, (await service.stats()).papers

    counts, total = _run(job(), db=settings.db)
    say(f"Bundled sample: {_counts_line(counts)}. The store at {settings.db} holds {total} papers.")
    if settings.discord_token is None:
        # The sandbox gets its own database beside the store, never the store itself.
        sandbox(db=settings.db.with_name("sandbox.db"), interactive=None)
        return
    run(db)


@app.command()
def sandbox(
    db: Annotated[
        Path | None,
        typer.Option(
            "--db",
            help="Sandbox database [default: data/sandbox.db]: made afresh each run; only ever one "
            "the sandbox made is reset.",
        ),
    ] = None,
    interactive: Annotated[
        bool | None,
        typer.Option(
            "--interactive/--tour",
            help="Prompt, or the scripted tour [default: prompt on a terminal]; given both, the last wins.",
        ),
    ] = None,
) -> None:
    """Try the bot without Discord: the real bot against a local pretend Discord, from this terminal."""
    from bot.sandbox.store import NotASandboxStore, SandboxBusy, reset_sandbox_store, sandbox_session
    from bot.sandbox.terminal import run_sandbox

    settings = _settings(None)
    _configure_logging(settings.model_copy(update={"log_level": "WARNING"}))
    path = db or Path("data/sandbox.db")
    sandboxed = settings.model_copy(
        update={
            "db": path,
            "digest": settings.digest.model_copy(update={"tick_seconds": 2.0}),
            "follows": settings.follows.model_copy(update={"poll_seconds": 1.0, "dm_interval_seconds": 0.0}),
            # Offline: live sources point at a closed local port.
            "sources": settings.sources.model_copy(update={"hf_api_url": "http://127.0.0.1:9/daily_papers"}),
        }
    )
    with ExitStack() as session:
        try:
            # The lock is held from before the reset until the session ends: a second sandbox on
            # the same path refuses here and deletes nothing.
            session.enter_context(sandbox_session(path))
            reset_sandbox_store(path)
        except (SandboxBusy, NotASandboxStore) as exc:
            fail(str(exc), 2)
        except OSError as exc:
            fail(f"cannot make the sandbox database {path}: {exc.strerror or exc}", 2)
        except sqlite3.Error as exc:  # SQLite's own "unable to open database file" (e.g. under /proc)
            fail(f"cannot make the sandbox database {path}: {exc}", 2)
        code = _run(run_sandbox(sandboxed, interactive=interactive))
    raise typer.Exit(code)


@app.command()
def run(
    db: DbOption = None,
    shard_count: Annotated[
        int | None,
        typer.Option(
            "--shard-count",
            help="Discord shards in all, over every process [default: shard_count, else as Discord "
            "recommends]",
            show_default=False,
        ),
    ] = None,
    shards: Annotated[
        str | None,
        typer.Option(
            "--shards",
            help="The shards this process runs: 0,1 or a range 0-2 [default: shards, else all]",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the Discord bot (needs DISCORD_TOKEN). Never syncs commands: see `paperbot sync`.

    Several processes can share the bot: `paperbot run --shard-count 6 --shards 0-1` here,
    `--shards 2-3` and `--shards 4-5` elsewhere, all on one database."""
    settings = _settings(db)
    if shard_count is not None or shards is not None:
        count = shard_count if shard_count is not None else settings.shard_count
        # Each value is named as the user gave it: a setting when it came from one, else the option.
        from_settings = (shard_count is None and count is not None, shards is None and settings.shards)
        names = (
            "shard_count" if from_settings[0] else "--shard-count",
            "shards" if from_settings[1] else "--shards",
        )
        try:
            shard_plan(count, shards if shards is not None else settings.shards, names=names)
        except InvalidInput as exc:
            fail(str(exc), 2)
        settings = settings.model_copy(update={"shard_count": count, "shards": shards or settings.shards})
    if settings.discord_token is None:
        sys.stderr.write(NO_TOKEN + "\n")
        raise typer.Exit(2)
    _configure_logging(settings)
    from bot.runner import run_bot

    _run(run_bot(settings), fast_loop=True, settings=settings)


@app.command()
def sync(
    guild: Annotated[
        int | None,
        # min: 0 would read as "no server" and publish to every server instead; max: a server id is
        # a snowflake (64 bits), and Discord answers a bigger one 400 Invalid Form Body.
        typer.Option(
            "--guild",
            min=1,
            max=2**64 - 1,
            help="Only this server id: instant, for testing. Default: global.",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Publish the slash commands to Discord (globally, or to one server)."""
    settings = _settings(db)
    if settings.discord_token is None:
        sys.stderr.write(NO_TOKEN + "\n")
        raise typer.Exit(2)
    _configure_logging(settings)
    from bot.runner import sync_commands

    names = _run(sync_commands(settings, guild), settings=settings)
    everywhere = "every server (global commands can take a while to appear)"
    where = f"server {guild}" if guild is not None else everywhere
    out.print(f"Synced {len(names)} commands to {where}: {', '.join(sorted(names))}")


def _print_paper(paper: Paper, as_json: bool) -> None:
    if as_json:
        _print_json(paper_json(paper, abstract=paper.abstract))
        return
    out.print(Text(printable(paper.title, keep_newlines=False), style="bold"))
    say(f"id: {paper.id}")
    if paper.authors:
        say("authors: " + ", ".join(paper.authors))
    for label, value in (
        ("published", paper.published),
        ("listed", paper.first_listed),
        ("url", paper.url),
        ("code", paper.code_url),
        ("project", paper.project_url),
        ("upvotes", paper.upvotes),
    ):
        if value is not None:
            say(f"{label}: {value}")
    out.print()
    say(paper.abstract)


def _require_folder(settings: Settings) -> None:
    """A store given by --db or PAPERBOT_DB goes in a folder that exists (as backup's target must):
    a typo in the path is refused, not made into new folders. Only the default data/ is created."""
    target = settings.db
    if settings.store == target and target != DEFAULT_DB:
        _require_parent_folder(target)


def _require_parent_folder(target: Path) -> None:
    """A file is written only into a folder that exists (ingest's store, backup's copy)."""
    if not target.parent.is_dir():
        fail(f"cannot write {target}: the folder {target.parent} does not exist")


def _read_file(path: Path) -> bytes:
    try:
        return read_papers_file(path)
    except FileTooLarge as exc:
        fail(str(exc), 2)
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror or exc}")


def _parse_date(text: str, *, option: str = "--date") -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{option} must be YYYY-MM-DD, got {text!r}", 2)


def _configure_logging(settings: Settings) -> None:
    from bot.logging_context import configure

    log = settings.log
    try:
        configure(
            settings.log_level,
            format=log.format,
            file=log.file,
            max_bytes=log.max_bytes,
            backups=log.backups,
            scheduler_level=log.scheduler_level,
        )
    except OSError as exc:
        fail(f"cannot write the log file {log.file} (log.file): {exc.strerror}", 2)


follows_app = typer.Typer(help="Keyword follows (admin tools).", no_args_is_help=True)
app.add_typer(follows_app, name="follows")


@follows_app.command("match")
def follows_match(
    path: Annotated[Path, typer.Argument(help="A papers file (any format `ingest` reads).")],
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Which stored follows the papers of FILE would trigger (nothing is stored or sent)."""
    settings = _settings(db)
    data = _read_file(path)

    async def job() -> list[tuple[Paper, dict[int, list[str]]]]:
        listed = parse_file(data, source=str(path))
        async with open_services(
            settings, create=False, readonly=_readonly_store(settings, create=False)
        ) as services:
            return await services.follows.preview_matches(listed)

    results = [(paper, found) for paper, found in _run(job(), db=settings.db) if found]
    if as_json:
        _print_json(
            [
                {"id": p.id, "title": p.title, "members": {str(u): k for u, k in found.items()}}
                for p, found in results
            ]
        )
        return
    if not results:
        out.print("No stored follow matches these papers.")
        return
    for paper, found in results:
        out.print(Text(printable(paper.title, keep_newlines=False), style="bold"))
        for user, keywords in found.items():
            say(f"  member {user}: {', '.join(keywords)}")


@app.command("migrate-store")
def migrate_store(
    source: Annotated[Path, typer.Option("--from", help="The SQLite store to copy (it is not changed).")],
    target: Annotated[str, typer.Option("--to", help="postgresql://user:password@host:port/database")],
    while_running: Annotated[
        bool,
        typer.Option(
            "--while-running",
            help="Copy even though a paperbot process uses the store: a snapshot of this moment "
            "(what the bot writes later is carried over by the next run).",
        ),
    ] = False,
) -> None:
    """Make a PostgreSQL store hold exactly an SQLite store's data (again: carries every change over)."""
    problem = postgres_url_problem(target.strip(), scheme_hint="the PostgreSQL database to copy into")
    if problem is not None:
        fail(f"--to {problem}", 2)
    if source.is_dir():
        fail(f"{source} is a directory; give the SQLite store's file", 2)
    # Held while copying: a bot starting meanwhile waits, so the copy is the store as it stays.
    claim = claim_exclusively(source.absolute().parent) if source.is_file() else None
    if source.is_file() and claim is None and not while_running:
        fail(
            _in_use(
                source,
                stop="Stop it and run migrate-store again, or pass --while-running to copy a snapshot "
                "of this moment (a later run carries over what it writes meanwhile).",
                wait="Wait until it has finished, then run migrate-store again (it carries over any change).",
            ),
            2,
        )
    try:
        read_only = source.is_file() and read_only_folder(source) is not None
        results = _run(_migrate(source, target, claim, read_only=read_only), db=source)
    finally:
        if claim is not None:
            claim.release()
    _report_copy(results)
    say(f"{redacted(target)} now holds exactly the data of {source}: every table's digest matches.")


_EXCLUSIVE_WORK = {"migrate-store": "is copying", "restore": "is restoring"}


def _in_use(store: Path, *, stop: str, wait: str) -> str:
    """Why ``store`` cannot be copied or restored now: the paperbot processes holding their claim
    on its folder (bot.storage.folder_claim), each by command and pid, and what to do (``stop``:
    for processes that use a store there; ``wait``: for one copying or restoring, which ends)."""
    folder = store.absolute().parent
    present = holders(folder)
    copying = [h for h in present if h.exclusive]
    if copying:  # another migrate-store (or a restore): named, not "a running bot or command"
        doing = _EXCLUSIVE_WORK.get(_paperbot_command(copying[0].argv) or "", "holds")
        return f"{store} is in use: {_holder_named(copying[0])} {doing} a store in {folder} now. {wait}"
    using = ", ".join(_holder_named(h) for h in present) or "a paperbot process (a running bot or command)"
    return f"{store} is in use: {using} uses a store in {folder}. {stop}"


def _holder_named(holder: Holder) -> str:
    """A process in the way, by the paperbot command it runs (never its arguments: a --to URL can
    carry a password) and its pid on this machine."""
    command = _paperbot_command(holder.argv)
    where = f"pid {holder.pid} on {socket.gethostname()}"
    if command == "migrate-store":
        return f"another `paperbot migrate-store` ({where})"
    if command in ("run", "start"):
        return f"a running bot (`paperbot {command}`, {where})"
    return f"`paperbot {command}` ({where})" if command else f"a paperbot process ({where})"


def _paperbot_command(argv: tuple[str, ...]) -> str | None:
    names = {
        c.name or (c.callback.__name__.replace("_", "-") if c.callback else "")
        for c in app.registered_commands
    }
    return next((arg for arg in argv if arg in names), None)


async def _migrate(
    source: Path, target: str, claim: FolderClaim | None, *, read_only: bool
) -> list[TableCopy]:
    if read_only:
        # Copying only reads: a store on a read-only mount is read as it is, if it needs no migration.
        origin = await Database.open_readonly(source)
        version, latest = await origin.schema_version(), bundled_migrations()[-1].number
        if version != latest:
            await origin.close()
            fail(
                f"{source} has schema version {version} (this paperbot: {latest}) and its folder is "
                "read-only, so it cannot be brought up to date: copy it somewhere writable first"
            )
    else:  # brings an older file to the newest schema
        origin = await Database.open(source, create=False, claim=claim)
    try:
        destination = await PostgresDatabase.open(target)
        try:
            with _progress_bar() as bar:
                tasks: dict[str, TaskID] = {}

                def advance(table: str, done: int, total: int) -> None:
                    if table not in tasks:
                        tasks[table] = bar.add_task(table, total=total)
                    bar.update(tasks[table], completed=done)

                return await copy_store(origin, destination, advance)
        except TargetInUse as exc:
            fail(str(exc), 2)
        except CopyFailed as exc:
            fail(f"{exc}: nothing was changed in PostgreSQL (the whole copy was rolled back)")
        except CopyNotVerified as exc:
            _report_copy(exc.results)
            wrong = next(r for r in exc.results if not r.verified)
            if wrong.wrong_search and wrong.source_digest == wrong.target_digest:
                what = (
                    f"the search column of {wrong.wrong_search} differs in PostgreSQL after the copy "
                    "from the document of its title, abstract and authors"
                )
            else:
                where = wrong.first_difference or "its row count"
                what = f"{wrong.table} differs in PostgreSQL after the copy, first at {where}"
            fail(f"{what}: nothing was changed there (the whole copy was rolled back)")
        finally:
            await destination.close()
    finally:
        await origin.close()


def _report_copy(results: list[TableCopy]) -> None:
    for r in results:
        if r.verified:
            state = "ok, every paper's search column checked" if r.table == "papers" else "ok"
        elif r.wrong_search and r.source_digest == r.target_digest:
            state = f"MISMATCH: the search column of {r.wrong_search}"
        else:
            state = f"MISMATCH: PostgreSQL {r.target_rows} rows, digest {r.target_digest[:16]}"
        say(
            f"{r.table}: {r.source_rows} rows, {r.added} added, {r.changed} changed, {r.removed} removed; "
            f"digest {r.source_digest[:16]} ({state})"
        )


@app.command()
def backup(
    target: Annotated[Path, typer.Argument(metavar="PATH", help="Where to write the copy (must not exist).")],
    db: DbOption = None,
) -> None:
    """A consistent copy of the database, safe while the bot runs (SQLite's online backup)."""
    settings = _settings(db)
    if target.exists():
        fail(f"{target} exists; choose a new path")
    _require_parent_folder(target)

    async def job() -> int:
        # Read-only: a backup copies the store as it is, never creating or migrating it.
        async with open_services(settings, warm=False, readonly=True) as services:
            database = services.database
            if not isinstance(database, Database):
                fail("backup copies an SQLite store; back up PostgreSQL with pg_dump", 2)
            version = await database.schema_version()  # fails first if it is not a database
            try:
                await database.backup(target)
            except FileExistsError:
                # Created while the copy was written (the check above came first): never replaced.
                fail(
                    f"{target} appeared while the backup was written and was left as it is; choose a new path"
                )
            except (sqlite3.Error, OSError) as exc:
                # Database.backup left nothing under the target name: the copy appears only when whole.
                folder = read_only_folder(target)
                # The copy is what could not be written: never blame the store it reads.
                fail(
                    f"cannot write the backup {target}: "
                    + (f"the folder {folder} is read-only" if folder else str(exc))
                )
            return version

    version = _run(job(), db=settings.db)
    say(f"Backed up {settings.db} to {target} (schema version {version}).")


@app.command()
def restore(
    backup_file: Annotated[
        Path, typer.Argument(metavar="BACKUP", help="A copy `paperbot backup` wrote.", show_default=False)
    ],
    db: DbOption = None,
) -> None:
    """Put a backup back in place of the SQLite store (the bot stopped; the old store is kept)."""
    from bot.storage.restore import FolderInUse, RestoreRefused, restore_store

    settings = _settings(db)
    if settings.store != settings.db:
        fail(
            "restore replaces an SQLite store; for PostgreSQL use pg_restore (or psql) with a pg_dump file", 2
        )
    try:
        restored = restore_store(backup_file, settings.db)
    except FolderInUse as exc:
        fail(
            _in_use(
                exc.store, stop="Stop it, then restore.", wait="Wait until it has finished, then restore."
            )
        )
    except RestoreRefused as exc:
        fail(str(exc))
    except OSError as exc:
        fail(
            f"restore stopped: {exc.strerror or exc}. The store is whole (the old one or the backup); "
            "run the same restore again to finish"
        )
    kept = f"; the previous store is kept as {restored.previous}" if restored.previous else ""
    for leftover in restored.leftovers:
        kept += f"; the deleted store's leftover log is kept as {leftover} (it is not replayed)"
    say(
        f"Restored {backup_file} into {settings.db}: schema version {restored.schema_version}, "
        f"{restored.papers} papers{kept}. Start the bot; `paperbot doctor` checks it."
    )


@app.command()
def health(
    file: Annotated[
        Path | None,
        typer.Option("--file", help="Heartbeat file [default: health.file, data/heartbeat.json]."),
    ] = None,
) -> None:
    """Is the running bot healthy? Reads the heartbeat `paperbot run` writes; exit 0 yes, 1 no."""
    from bot.health import NotAHeartbeat, assess, read_heartbeat, utcnow

    settings = _settings(None)
    path = file or settings.health.file
    unhealthy = ("✘", "red")
    if path is None:
        err.print(
            Text.assemble(unhealthy, " no heartbeat: health.file is empty, so `paperbot run` writes none")
        )
        raise typer.Exit(1)
    try:
        heartbeat = read_heartbeat(path)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        reason = (
            "missing"
            if isinstance(exc, FileNotFoundError)
            else f"unreadable ({exc if isinstance(exc, NotAHeartbeat) else type(exc).__name__})"
        )
        err.print(
            Text.assemble(
                unhealthy, " ", printable(f"heartbeat {path}: {reason}; is `paperbot run` running?")
            )
        )
        raise typer.Exit(1) from None
    grace = timedelta(seconds=settings.health.disconnect_grace_seconds)
    findings = assess(heartbeat, utcnow(), disconnect_grace=grace)
    for finding in findings:
        mark = ("✔", "green") if finding.ok else unhealthy
        # Details carry a source's own error text: printed as written, never obeyed as markup.
        out.print(Text.assemble(mark, " ", printable(f"{finding.name}: {finding.detail}")))
    healthy = all(finding.ok for finding in findings)
    say("healthy" if healthy else "unhealthy")
    if not healthy:
        raise typer.Exit(1)


@app.command()
def doctor(db: DbOption = None) -> None:
    """Check configuration, database, schema, token presence and source reachability."""
    from bot.doctor import run_checks

    settings = _settings(db)
    results = _run(run_checks(settings))
    marks = {"ok": ("✔", "green"), "warn": ("!", "yellow"), "fail": ("✘", "red")}
    for result in results:
        out.print(Text.assemble(marks[result.status], " ", printable(f"{result.name}: {result.detail}")))
    passed, warned, failed = (sum(r.status == s for r in results) for s in ("ok", "warn", "fail"))
    say(f"{passed} passed, {warned} warning{'s' * (warned != 1)}, {failed} failed")
    if failed:
        raise typer.Exit(1)

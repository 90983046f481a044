"""Reads that stop when nobody waits for them any more.

aiosqlite runs each statement on its connection's thread; cancelling the task that awaits one
leaves the statement running to the end, its rows thrown away, and every later read queued on that
connection waits for it. A search runs its phrase query and its ranked query at once, on two read
connections, and gives the ranked one up when the phrase alone fills the page: that work should
stop where it is, not finish for nothing (the 300 interactions/s load pays for every CPU
millisecond). ``sqlite3_interrupt`` stops whatever statement its connection is running, so it is
only called while this read's own statement runs (a lock orders the two threads).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, cast

import aiosqlite


class _Read:
    """One statement on a connection's thread, which the event loop may stop while it runs."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection
        self._lock = threading.Lock()
        self._running = False
        self._stopped = False

    def fetch_all(self, sql: str, parameters: tuple[Any, ...]) -> list[Any]:
        """On the connection's thread: every row, or sqlite3.OperationalError when stopped."""
        with self._lock:
            if self._stopped:  # given up while it waited behind other reads: never started
                raise sqlite3.OperationalError("interrupted")
            self._running = True
        try:
            return self._connection.execute(sql, parameters).fetchall()
        finally:
            with self._lock:
                self._running = False

    def stop(self) -> None:
        """From the event loop: stop the statement if it runs, or keep it from starting."""
        with self._lock:
            self._stopped = True
            if self._running:
                self._connection.interrupt()


async def fetch_all(
    connection: aiosqlite.Connection, sql: str, parameters: Iterable[Any] | None
) -> list[Any]:
    """Every row of one statement in one hand-off to the connection's thread (as
    ``execute_fetchall``); cancelled, the statement stops where it is."""
    # aiosqlite has no public way to run a function on its thread, nor to reach the sqlite3
    # connection there: ``_execute`` and ``_conn`` are what its own methods use.
    read = _Read(connection._conn)
    on_its_thread = cast(Callable[..., Awaitable[list[Any]]], connection._execute)
    queued = on_its_thread(read.fetch_all, sql, () if parameters is None else tuple(parameters))
    try:
        rows = await queued
    except asyncio.CancelledError:
        read.stop()
        raise
    return rows

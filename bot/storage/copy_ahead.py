"""A cold load's papers COPY streams, each left to finish on the server while the next batch is made.

From a COPY's last chunk sent to the server's answer (the server storing the last chunks and running
the title table's statement trigger) the event loop's thread used to sleep: about 20 ms a batch of
2,000 papers, a tenth of a 100,000-paper load's stream (docs/performance.md, "Twelfth session:
PostgreSQL ingest (tails)"). In a cold load nothing the next batch does before its own COPY needs an
answer from the server (its dedup reads bot.storage.loaded_papers, its pks are reserved for the
whole load, its counts and links are held), so each COPY runs as a task, the write returns once its
last chunk is handed to asyncpg, and the next batch's placement and first chunks are made while the
server finishes. The chunks made ahead are ``bytes``, which the garbage collector does not walk
(holding a batch's row tuples alive cost about 17 us a paper: ``PaperService._store``).

One connection runs one statement at a time: every later statement of the load awaits ``free``
first, which also raises the COPY's failure. A load that fails settles its COPY (``abandon``) before
its transaction rolls back, so no failure is left unheard in a task.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from itertools import chain

# Sends a COPY's chunks (bot.storage.postgres's ``copy_binary``), returning the rows written.
Send = Callable[[AsyncIterator[bytes]], Awaitable[int]]


class CopyAhead:
    """The COPY a cold load has in flight on its connection, if any."""

    def __init__(self) -> None:
        self._running: asyncio.Task[int] | None = None

    async def free(self) -> None:
        """Return once no COPY runs on the connection; a COPY that failed raises its error here."""
        running = self._running
        if running is None:
            return
        try:
            await running
        finally:
            if running.done():
                self._running = None

    async def send(self, chunks: Iterator[bytes], send: Send) -> None:
        """Make ``chunks`` while the COPY before runs, then send them with ``send`` on a task of its
        own; return once the last chunk is taken (the task then only waits for the server's answer),
        or raise the error that ended the stream before."""
        ahead = await self._made_ahead(chunks)
        await self.free()
        taken = asyncio.get_running_loop().create_future()
        running = asyncio.ensure_future(send(_noting_end(chain(ahead, chunks), taken)))
        self._running = running
        await asyncio.wait((taken, running), return_when=asyncio.FIRST_COMPLETED)
        if not taken.done():  # the stream ended early: a row that could not be made, a refusal
            await self.free()

    async def abandon(self, failure: BaseException) -> None:
        """The load failed with ``failure``: stop the COPY in flight (asyncpg cancels it on the
        server, as it does a COPY whose caller is cancelled) and wait until it has, so that the
        transaction can roll back. The COPY's own error, when it had failed unheard, is added to
        ``failure`` as a note."""
        running, self._running = self._running, None
        if running is None:
            return
        running.cancel()
        await asyncio.wait((running,))
        if not running.cancelled() and (error := running.exception()) is not None:
            failure.add_note(f"The papers COPY before it failed too: {error!r}")

    async def _made_ahead(self, chunks: Iterator[bytes]) -> list[bytes]:
        """Chunks made while the COPY before is still running, looking between two whether it ended."""
        ahead: list[bytes] = []
        while self._running is not None and not self._running.done():
            chunk = next(chunks, None)
            if chunk is None:
                break
            ahead.append(chunk)
            await asyncio.sleep(0)  # the server's answer is read by the event loop
        return ahead


async def _noting_end(chunks: Iterable[bytes], taken: asyncio.Future[None]) -> AsyncIterator[bytes]:
    """``chunks`` for asyncpg, yielding to the event loop after each (rows are made as they are
    asked for: the running bot's other work must not wait for the whole stream); ``taken`` is set
    once asyncpg asks for a chunk past the last."""
    for chunk in chunks:
        yield chunk
        await asyncio.sleep(0)
    taken.set_result(None)

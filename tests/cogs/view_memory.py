"""What discord.py keeps in memory for the messages the bot sent with buttons."""

from __future__ import annotations

import asyncio
from typing import Any


def view_timers() -> list[asyncio.Task[Any]]:
    """discord.py's timeout tasks of live views: each holds its view (items, options, the
    interaction's state) until it fires."""
    return [
        task
        for task in asyncio.all_tasks()
        if not task.done() and "timeout_task_impl" in task.get_coro().__qualname__  # type: ignore[union-attr]
    ]


def views_kept(env: Any) -> dict[str, Any]:
    """Views discord.py's view store keeps (per message or waiting for a component), and the
    timeout tasks of views: all empty when every button carries its own state."""
    store = env.bot._connection._view_store
    return {
        "by message": dict(store._synced_message_views),
        "dispatch": dict(store._views),
        "timers": view_timers(),
    }


NOTHING_KEPT = {"by message": {}, "dispatch": {}, "timers": []}

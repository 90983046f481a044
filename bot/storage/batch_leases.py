"""The statements every frozen, leased delivery batch shares (alert DMs in ``alert_batches``,
missed-day notices in ``notice_batches``): a batch is sent by the process holding its lease, part
by part, and each part's message id is recorded under the lease, so a resume knows what arrived.

``table`` is always one of the batch tables named in code, never input."""

from __future__ import annotations

import json
from datetime import datetime

from bot.storage.connection import Connection
from bot.storage.digests import instant


def parts_sent(text: str) -> dict[int, int]:
    """A batch row's ``parts_sent`` (JSON ``{"part": message id}``) as part -> message id."""
    return {int(k): int(v) for k, v in json.loads(text).items()}


async def renew(db: Connection, table: str, batch_id: int, *, owner: str, lease_until: datetime) -> bool:
    """Extend ``owner``'s lease on a batch still sending; False when another process took it."""
    cursor = await db.execute(
        f"UPDATE {table} SET lease_until = ? WHERE id = ? AND owner = ? AND state = 'sending'",
        (instant(lease_until), batch_id, owner),
    )
    return cursor.rowcount == 1


async def record_part(
    db: Connection,
    table: str,
    batch_id: int,
    part: int,
    message_id: int,
    *,
    owner: str,
    lease_until: datetime,
) -> bool:
    """Record that ``part`` arrived as ``message_id``, renewing the lease; False when ``owner`` lost it
    (the caller then writes nothing else for the part)."""
    with_part = db.dialect.json_put("parts_sent")
    cursor = await db.execute(
        f"UPDATE {table} SET parts_sent = {with_part}, lease_until = ? "
        "WHERE id = ? AND owner = ? AND state = 'sending'",
        (str(part), message_id, instant(lease_until), batch_id, owner),
    )
    return cursor.rowcount == 1

"""The one resume algorithm behind digests and alert DMs.

A multi-message delivery is a fixed list of parts. Parts already recorded in the ledger are never
sent again; when resuming an interrupted delivery, the destination is asked first which parts
arrived without being recorded (a crash between the send and the record). Every other part is sent
in order, and each is recorded as soon as it is sent, so a failure at part k leaves exactly parts
1..k-1 recorded and the rest to a later resume.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from bot.domain.digest import DigestMessage

FindSent = Callable[[], Awaitable[dict[int, int]]]
SendPart = Callable[[int, DigestMessage], Awaitable[int]]
RecordPart = Callable[[int, int], Awaitable[None]]


async def send_remaining(
    parts: Sequence[DigestMessage],
    sent: dict[int, int],
    *,
    send: SendPart,
    record: RecordPart,
    find_sent: FindSent | None = None,
) -> dict[int, int]:
    """Deliver the parts missing from ``sent`` (part number -> message id, updated in place, so a
    caller that catches an error still knows what arrived). ``find_sent``: resuming, ask first."""
    if find_sent is not None:
        for part, message_id in sorted((await find_sent()).items()):
            if part not in sent and 1 <= part <= len(parts):
                sent[part] = message_id
                await record(part, message_id)
    for part, message in enumerate(parts, 1):
        if part in sent:
            continue
        message_id = await send(part, message)
        sent[part] = message_id
        await record(part, message_id)
    return sent

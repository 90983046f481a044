"""The one resume algorithm behind digests and alert DMs.

A multi-message delivery is a fixed list of parts. Parts already recorded in the ledger are never
sent again; when resuming an interrupted delivery, the destination is asked first which parts
arrived without being recorded (a crash between the send and the record). Every other part is sent
in order, and each is recorded as soon as it is sent, so a failure at part k leaves exactly parts
1..k-1 recorded and the rest to a later resume.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.digest import DigestMessage

DEFAULT_LEASE_SECONDS = 90.0


def new_instance_id() -> str:
    """Who owns a lease: this process, distinguishable from its restarted self and from others."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class LeaseLost(Exception):
    """The delivery is no longer this process's (another took it over after this one's lease
    expired, or its recipient asked to be forgotten): stop sending."""


@dataclass(frozen=True, slots=True)
class Lease:
    """A process's claim on a delivery: ``owner`` holds it until ``until(now)``, renewed part by part.
    It must outlast sending one part (with Discord's rate-limit waits); a dead owner's delivery is
    taken over that long after its last renewal."""

    owner: str
    seconds: float = DEFAULT_LEASE_SECONDS

    def until(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.seconds)


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

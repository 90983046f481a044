"""Ids in REST paths, judged as Discord judges them: where a route takes an id, anything that is not
a snowflake (a whole number from 0 to 2^64 - 1, in ASCII digits) is refused with 400 Invalid Form
Body (50035), naming the id: ``{"guild_id": {"_errors": [{"code": "NUMBER_TYPE_COERCE", ...}]}}``."""

from __future__ import annotations

from bot.sandbox.model import Problems

SNOWFLAKE_MAX = 2**64 - 1
# The id after each collection in a path, as Discord names it in its answer.
ID_NAMES = {
    "applications": "application_id",
    "guilds": "guild_id",
    "channels": "channel_id",
    "users": "user_id",
    "members": "user_id",
    "messages": "message_id",
    "commands": "command_id",
    "interactions": "interaction_id",
    "webhooks": "webhook_id",
}
NOT_IDS = frozenset({"@me", "@original"})  # the words Discord takes in an id's place


def is_snowflake(text: str) -> bool:
    return text.isascii() and text.isdigit() and int(text) <= SNOWFLAKE_MAX


def _id_places(parts: list[str]) -> list[int]:
    # Walk the path in step: the part after a collection is its id, and an id is never itself a
    # collection, even when it spells one (/channels/commands/messages has one bad id, not two).
    places: list[int] = []
    n = 1
    while n < len(parts):
        if parts[n - 1] in ID_NAMES:
            if parts[n] not in NOT_IDS:
                places.append(n)
            n += 2
        else:
            n += 1
    return places


def path_id_problems(parts: list[str]) -> Problems:
    """The ids in ``parts`` (a path below /api/v10, split) that are not snowflakes."""
    return [
        (ID_NAMES[parts[n - 1]], f'Value "{parts[n]}" is not snowflake.')
        for n in _id_places(parts)
        if not is_snowflake(parts[n])
    ]


def with_ids_as_numbers(parts: list[str]) -> list[str]:
    """``parts`` with every id replaced by a number: the route it was meant for."""
    places = set(_id_places(parts))
    return ["0" if n in places else part for n, part in enumerate(parts)]

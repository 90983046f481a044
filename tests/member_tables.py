"""How a test finds a member's rows in each table that holds member data (bot.domain.about)."""

from __future__ import annotations

# A missed-day DM's batch names its admin as its target; every other table as ``user_id``.
_NAMED_OTHERWISE = {"notice_batches": "target = 'dm' AND target_id = ?"}


def member_condition(table: str) -> str:
    """The WHERE condition (one parameter: the user id) selecting the member's rows of ``table``."""
    return _NAMED_OTHERWISE.get(table, "user_id = ?")

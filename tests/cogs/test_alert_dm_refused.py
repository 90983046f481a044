"""An alert DM part Discord refuses for good (a 4xx but 403/401/408/429: an invalid form body, an
empty message, a filter) is refused once: its papers are given up with one WARNING naming Discord's
code, the rest of the DM arrives in the next batch, every other paper once, and the member keeps
getting alerts. Before, the batch was resumed every poll, part k refused again with a traceback and
the parts after it never sent."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.cogs.test_delivery_matrix import Deployment, _deliver, alice_dms, counted, deployment, papers
from tests.delivery_cells import ALERT_PAPERS, TITLE, numbers

__all__ = ["deployment"]  # the delivery matrix's fixture, used here
SAMPLE_PAPERS = False  # the papers these tests alert on are their own

REFUSALS = {
    50035: "Invalid Form Body",
    50006: "Cannot send an empty message",
    200000: "Message was blocked by automatic moderation",
    240000: "Message blocked by harmful links filter",
}


def refuse_part(env: Any, messenger: Any, part: int, code: int) -> list[set[str]]:
    """From the first batch on, Discord refuses any DM carrying one of the papers of its ``part``-th
    message (the refusal is about what the part says, so the same papers are refused every time);
    returns the papers of each refused attempt."""
    original = messenger.send
    refused_papers: set[str] = set()
    refusals: list[set[str]] = []
    calls = {"n": 0}

    async def send(target: int, message: Any, *, nonce: str) -> int:
        calls["n"] += 1
        says = set(TITLE.findall(" ".join(e.description for e in message.embeds)))
        if calls["n"] == part:
            refused_papers.update(says)
        if says & refused_papers:
            refusals.append(says)
            env.inject_error(
                "POST", "/channels/*/messages", status=400, code=code, message=REFUSALS[code], times=1
            )
        return await original(target, message, nonce=nonce)

    messenger.send = send
    return refusals


@pytest.mark.parametrize("code", sorted(REFUSALS))
async def test_a_dm_part_refused_for_good_is_given_up_once_and_the_rest_arrives(
    world: Any, deployment: Deployment, caplog: pytest.LogCaptureFixture, code: int
) -> None:
    env, channel, alice, _ = world
    services = deployment.first
    matched = ALERT_PAPERS[3]
    await alice.slash(channel, "follow add", keyword="diffusion")
    await services.papers.ingest(papers(matched))
    refusals = refuse_part(env, env.bot.get_cog("Follows").messenger, 2, code)

    with caplog.at_level(logging.WARNING):
        for _ in range(4):  # the polls after it, the leases run out between them
            await _deliver(env)
            await deployment.wait_out_lease()

    assert len(refusals) == 1  # refused once, not again on every poll
    delivered = alice_dms(alice)
    given_up = refusals[0]
    expected = numbers(1, matched)
    for paper in given_up:
        del expected[paper]
    assert given_up and counted(delivered) == expected  # every other paper once, those never
    footers = [m.embeds[0].footer.text for m in delivered]
    assert len(footers) == len(set(footers)), footers
    assert await services.repositories.follows.sending_batches() == []
    warned = [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("bot.")]
    assert len(warned) == 1, [r.getMessage() for r in warned]
    assert f"error {code}" in warned[0].getMessage() and warned[0].exc_info is None

    # The member is still reachable: the next paper that matches reaches them.
    await services.papers.ingest(papers(1, first=matched + 1))
    await _deliver(env)
    assert counted(alice_dms(alice))[f"{matched + 1:03d}"] == 1

"""What simulated users type: search queries, autocomplete prefixes, keywords to follow (seeded)."""

from __future__ import annotations

import random

from bench.corpus import ADJECTIVES, METHODS, TASKS, TECHNIQUES, _name

# What ``queries`` makes, in turn (query i is of kind i % 4).
QUERY_CLASSES = ("one common word", "method + task", '"phrase" + word', "typo + word")


def queries(rng: random.Random, count: int) -> list[str]:
    words = [w for phrase in METHODS + TASKS + TECHNIQUES + ADJECTIVES for w in phrase.split()]
    out = []
    for i in range(count):
        kind = i % 4
        if kind == 0:  # one common word: the worst case for BM25
            out.append(rng.choice(words))
        elif kind == 1:
            out.append(f"{rng.choice(METHODS)} {rng.choice(TASKS)}")
        elif kind == 2:
            out.append(f'"{rng.choice(TECHNIQUES)}" {rng.choice(ADJECTIVES)}')
        else:  # a typo
            word = rng.choice(METHODS).split()[0]
            cut = rng.randrange(1, len(word))
            out.append(word[:cut] + word[cut + 1 :] + " " + rng.choice(TASKS).split()[0].lower())
    return out


def typed_prefixes(rng: random.Random, count: int) -> list[str]:
    """What users type into autocomplete: growing prefixes of real title words, sometimes misspelt."""
    out = []
    while len(out) < count:
        phrase = f"{rng.choice(ADJECTIVES)} {rng.choice(METHODS)} {rng.choice(TASKS)}".lower()
        if rng.random() < 0.3:
            at = rng.randrange(1, len(phrase) - 1)
            phrase = phrase[:at] + phrase[at + 1 :]
        for end in range(2, len(phrase), 3):
            out.append(phrase[:end])
    return out[:count]


def follows(rng: random.Random, count: int) -> list[str]:
    """Keywords members might follow. Most are specific (a model name, a method on a task), some are
    popular and shared by many members (a common phrase), a few are small boolean queries."""
    vocabulary = [w.lower() for phrase in METHODS + TASKS + TECHNIQUES + ADJECTIVES for w in phrase.split()]
    phrases = [p.lower() for p in METHODS + TASKS + TECHNIQUES]
    out = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.40:
            out.append(_name(rng))  # a specific model or method name
        elif roll < 0.65:
            out.append(f'"{rng.choice(METHODS)}" AND "{rng.choice(TASKS)}"')
        elif roll < 0.80:
            out.append(rng.choice(phrases))  # popular: many members follow the same phrase
        elif roll < 0.90:
            out.append(f'"{rng.choice(phrases)}" OR {_name(rng)}')
        else:
            out.append(f"{rng.choice(phrases)} -{rng.choice(vocabulary)}")
    return out

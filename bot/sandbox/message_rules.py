"""What Discord refuses in a message the bot posts or edits: its text, embeds, URLs, mentions and
components, and a message with nothing in it at all.

Discord measures text in code points (its API is Python: ``len``) and answers a refusal with 400
"Invalid Form Body" (code 50035) naming each field's path, or, for a message with no content,
embeds, files, stickers, components or poll, 400 "Cannot send an empty message" (code 50006).
"""

from __future__ import annotations

from typing import Any

from bot.sandbox.model import Json, Problems
from bot.sandbox.rules import component_problems
from bot.sandbox.urls import WEB, WEB_OR_UPLOAD, url_problems

CONTENT_CHARS = 2000
NONCE_CHARS = 25
EMBEDS = 10
EMBED_TOTAL = 6000
TITLE, DESCRIPTION = 256, 4096
FIELDS, FIELD_NAME, FIELD_VALUE = 25, 256, 1024
FOOTER, AUTHOR = 2048, 256
MAX_COLOR = 0xFFFFFF
MENTION_IDS = 100
MENTION_KINDS = ("roles", "users", "everyone")
EMPTY_MESSAGE = "Cannot send an empty message"
EMPTY_MESSAGE_CODE = 50006


def is_empty(message: Json) -> bool:
    """True when Discord would refuse ``message`` (as it would be once posted or edited) as empty:
    content that is blank once trimmed counts as none."""
    content = message.get("content")
    has_text = isinstance(content, str) and bool(content.strip())
    return not (
        has_text
        or message.get("embeds")
        or message.get("attachments")
        or message.get("sticker_ids")
        or message.get("components")
        or message.get("poll")
    )


def message_problems(body: Json) -> Problems:
    """Why Discord would refuse to post (or edit to) ``body``: content, embeds, mentions,
    components, nonce. Empty means Discord accepts its form (emptiness is checked apart:
    ``is_empty``)."""
    problems: Problems = []
    content = body.get("content")
    if isinstance(content, str) and len(content) > CONTENT_CHARS:
        problems.append(("content", _at_most(CONTENT_CHARS)))
    problems += embeds_problems(body.get("embeds") or [])
    if body.get("allowed_mentions") is not None:
        problems += allowed_mentions_problems(body["allowed_mentions"])
    problems += component_problems(body.get("components") or [])
    nonce = body.get("nonce")
    if isinstance(nonce, str) and len(nonce) > NONCE_CHARS:
        problems.append(("nonce", f"Must be {NONCE_CHARS} or fewer characters long."))
    elif isinstance(nonce, int) and not 0 <= nonce < 2**64:
        problems.append(("nonce", "Int value should be a valid snowflake."))
    return problems


def embeds_problems(embeds: list[Json]) -> Problems:
    problems: Problems = []
    if len(embeds) > EMBEDS:
        problems.append(("embeds", _at_most(EMBEDS)))
    for i, embed in enumerate(embeds):
        problems += embed_problems(embed, f"embeds.{i}")
    # One sum over every embed of the message, of only the texts that have limits of their own.
    if sum(embed_size(embed) for embed in embeds) > EMBED_TOTAL:
        problems.append(("embeds", f"Embed size exceeds maximum size of {EMBED_TOTAL}"))
    return problems


def embed_size(embed: Json) -> int:
    """What an embed adds to the message's 6,000: title, description, field names and values,
    footer text, author name (URLs, colours and timestamps count nothing)."""
    texts = [embed.get("title"), embed.get("description")]
    for field in embed.get("fields") or []:
        texts += [field.get("name"), field.get("value")]
    texts += [(embed.get("footer") or {}).get("text"), (embed.get("author") or {}).get("name")]
    return sum(len(text) for text in texts if isinstance(text, str))


def embed_problems(embed: Json, where: str) -> Problems:
    problems: Problems = []
    for key, limit in (("title", TITLE), ("description", DESCRIPTION)):
        if len(_text(embed.get(key))) > limit:
            problems.append((f"{where}.{key}", _at_most(limit)))
    fields = embed.get("fields") or []
    if len(fields) > FIELDS:
        problems.append((f"{where}.fields", _at_most(FIELDS)))
    for j, field in enumerate(fields):
        for key, limit in (("name", FIELD_NAME), ("value", FIELD_VALUE)):
            problems += _required_text(field.get(key), limit, f"{where}.fields.{j}.{key}")
    if embed.get("footer") is not None:
        footer = embed["footer"]
        problems += _required_text(footer.get("text"), FOOTER, f"{where}.footer.text")
        problems += _optional_url(footer.get("icon_url"), f"{where}.footer.icon_url", WEB_OR_UPLOAD)
    if embed.get("author") is not None:
        author = embed["author"]
        problems += _required_text(author.get("name"), AUTHOR, f"{where}.author.name")
        problems += _optional_url(author.get("url"), f"{where}.author.url", WEB)
        problems += _optional_url(author.get("icon_url"), f"{where}.author.icon_url", WEB_OR_UPLOAD)
    problems += _optional_url(embed.get("url"), f"{where}.url", WEB)
    for key in ("image", "thumbnail"):
        if embed.get(key) is not None:
            problems += url_problems(embed[key].get("url"), f"{where}.{key}.url", WEB_OR_UPLOAD)
    color = embed.get("color")
    if color is not None and (isinstance(color, bool) or not isinstance(color, int)):
        problems.append((f"{where}.color", "Value must be an integer."))
    elif isinstance(color, int) and color > MAX_COLOR:
        problems.append((f"{where}.color", f"int value should be less than or equal to {MAX_COLOR}."))
    elif isinstance(color, int) and color < 0:
        problems.append((f"{where}.color", "int value should be greater than or equal to 0."))
    return problems


def allowed_mentions_problems(allowed: Any) -> Problems:
    """Discord's shape of ``allowed_mentions``: ``parse`` from roles / users / everyone, at most
    100 distinct ids in ``users`` and ``roles``, and a kind never both parsed and listed."""
    if not isinstance(allowed, dict):
        return [("allowed_mentions", "Only dictionaries may be used in a DictType")]
    problems: Problems = []
    parse = allowed.get("parse") or []
    for k, kind in enumerate(parse):
        if kind not in MENTION_KINDS:
            problems.append((f"allowed_mentions.parse.{k}", f"Value must be one of {MENTION_KINDS}."))
    for key in ("users", "roles"):
        ids = allowed.get(key) or []
        if len(ids) > MENTION_IDS:
            problems.append((f"allowed_mentions.{key}", _at_most(MENTION_IDS)))
        for k, snowflake in enumerate(ids):
            if snowflake in ids[:k]:
                problems.append((f"allowed_mentions.{key}.{k}", "The set already contains this value"))
    if problems:
        return problems
    for key in ("users", "roles"):
        if key in parse and allowed.get(key):
            problems.append(
                ("allowed_mentions", f'parse:["{key}"] and {key}: [ids...] are mutually exclusive.')
            )
    return problems


def _optional_url(url: Any, where: str, schemes: tuple[str, ...]) -> Problems:
    return [] if url is None else url_problems(url, where, schemes)


def _required_text(text: Any, limit: int, where: str) -> Problems:
    """A text Discord requires (it trims it first: only spaces is none) of at most ``limit``."""
    if not _text(text).strip():
        return [(where, "This field is required")]
    return [(where, _at_most(limit))] if len(_text(text)) > limit else []


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _at_most(limit: int) -> str:
    return f"Must be {limit} or fewer in length."

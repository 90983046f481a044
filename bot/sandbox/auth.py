"""Who is asking, judged as Discord judges it.

A REST call carries ``Authorization: Bot <token>``; any other header (none, a wrong token, no
``Bot `` prefix, a user token's bare form) is answered 401 {"message": "401: Unauthorized",
"code": 0} before anything else is looked at. Interaction callbacks and webhook calls are the
exception: the token in their path is their authorization, and discord.py sends them without the
header. On the gateway an IDENTIFY or RESUME with a wrong token closes the connection with 4004
(Authentication failed)."""

from __future__ import annotations

from bot.sandbox.model import Json

DEFAULT_TOKEN = "emulator-token-not-a-secret"
AUTHENTICATION_FAILED = 4004
UNAUTHORIZED: Json = {"message": "401: Unauthorized", "code": 0}


def needs_bot_token(parts: list[str]) -> bool:
    """Whether a REST route (its path below /api/v10, split) is answered only to the bot's token."""
    return not parts or parts[0] not in ("interactions", "webhooks")


def bot_header(token: str) -> str:
    return f"Bot {token}"


def is_authorized(header: str | None, token: str) -> bool:
    """``header`` (the request's Authorization, if any) names exactly the bot's ``token``."""
    return header == bot_header(token)

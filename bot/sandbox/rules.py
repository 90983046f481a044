"""What Discord refuses, as plain functions the emulator applies to both directions.

From a member: Discord's client never sends a slash command with a missing required option, a
value of the wrong type, out of its declared range or length, or not one of its choices; nor a
click on a disabled button or a link button (that one opens its URL); nor a pick in a disabled
select menu, of an option it does not have, or of more options than it takes. ``check_options``,
``check_click`` and ``chosen_values`` raise ``Refused`` for those.

From the bot: Discord answers 400 "Invalid Form Body" (code 50035) to components, an autocomplete
answer, a command list or a thread over its limits (a message's text and embeds: message_rules).
The ``*_problems`` functions list what is wrong, as (field path, message) pairs in Discord's words;
empty means Discord would accept it. ``form_errors`` is Discord's answer for them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

from bot.domain.uploads import FILES_PER_MESSAGE, UPLOAD_BYTES
from bot.sandbox.model import Channel, Json, Problems, User
from bot.sandbox.urls import BUTTON as BUTTON_SCHEMES
from bot.sandbox.urls import url_problems

SUB_COMMAND, GROUP, STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER = range(1, 11)
TYPE_NAMES = {STRING: "text", INTEGER: "a whole number", BOOLEAN: "true or false", NUMBER: "a number"}
MAX_SAFE_INTEGER = 2**53  # Discord's integer options are limited to ±2^53
STRING_OPTION_MAX = 6000
AUTOCOMPLETE_CHOICES = 25
CHOICE_CHARS = 100
ROWS, ROW_BUTTONS, LABEL, CUSTOM_ID = 5, 5, 80, 100
BUTTON_URL = 512
THREAD_NAME = 100
ARCHIVE_MINUTES = (60, 1440, 4320, 10080)
BUTTON, STRING_SELECT = 2, 3  # component types
MENU_OPTIONS, OPTION_CHARS, PLACEHOLDER = 25, 100, 150
# Files per message, and the bytes they may total: a bot's upload limit in a server without boosts,
# which interactions announce (bot/domain/uploads.py).
ATTACHMENTS, ATTACHMENT_BYTES = FILES_PER_MESSAGE, UPLOAD_BYTES
LINK_STYLE = 5
COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")


class Refused(ValueError):
    """Discord's client would not send this interaction; the message says why, for a member."""


# ---- from a member -------------------------------------------------------------------------------


def check_options(definition: Json, values: dict[str, Any], *, command: str) -> None:
    """Refuse what Discord's client refuses for ``/command`` with ``values`` (leaf options)."""
    declared = {o["name"]: o for o in definition.get("options", [])}
    for name in values:
        if name not in declared:
            known = ", ".join(declared) or "none"
            raise Refused(f"/{command} has no option {name!r} (its options: {known})")
    for option in declared.values():
        name = option["name"]
        if name not in values:
            if option.get("required"):
                raise Refused(f"/{command} needs {name}: {option.get('description', '')}".rstrip(": "))
            continue
        _check_value(option, values[name], command)


def _check_value(option: Json, value: Any, command: str) -> None:
    name, kind = option["name"], option["type"]
    where = f"/{command} {name}"
    if kind == STRING:
        if not isinstance(value, str):
            raise Refused(f"{where} must be text")
        low = option.get("min_length", 0)
        high = min(option.get("max_length", STRING_OPTION_MAX), STRING_OPTION_MAX)
        if not value.strip():
            raise Refused(f"{where} cannot be empty")
        if not low <= len(value) <= high:
            raise Refused(f"{where} must be {low} to {high} characters long (got {len(value)})")
    elif kind in (INTEGER, NUMBER):
        numeric = isinstance(value, int) if kind == INTEGER else isinstance(value, int | float)
        if isinstance(value, bool) or not numeric or (isinstance(value, float) and not math.isfinite(value)):
            raise Refused(f"{where} must be {TYPE_NAMES[kind]}")
        low = option.get("min_value", -MAX_SAFE_INTEGER)
        high = option.get("max_value", MAX_SAFE_INTEGER)
        if not low <= value <= high:
            raise Refused(f"{where} must be between {low} and {high} (got {value})")
    elif kind == BOOLEAN and not isinstance(value, bool):
        raise Refused(f"{where} must be true or false")
    elif kind == USER and not isinstance(value, User):
        raise Refused(f"{where} must be a member")
    elif kind == CHANNEL:
        if not isinstance(value, Channel):
            raise Refused(f"{where} must be a channel")
        allowed = option.get("channel_types")
        if allowed and value.type not in allowed:
            raise Refused(f"{where} cannot be that kind of channel")
    choices = option.get("choices")
    if choices and value not in [c["value"] for c in choices]:
        listed = ", ".join(str(c["value"]) for c in choices)
        raise Refused(f"{where} must be one of: {listed}")


def buttons(message: Json) -> Iterator[Json]:
    """The buttons of ``message`` (select menus are not buttons: see ``menus``)."""
    for row in message.get("components", []):
        yield from (item for item in row.get("components", []) if item.get("type") == BUTTON)


def menus(message: Json) -> Iterator[Json]:
    """The string select menus of ``message``."""
    for row in message.get("components", []):
        yield from (item for item in row.get("components", []) if item.get("type") == STRING_SELECT)


def menu_name(menu: Json) -> str:
    return str(menu.get("placeholder") or menu.get("custom_id") or "that menu")


def check_click(button: Json) -> None:
    """Refuse a click Discord's client would not send."""
    label = button.get("label") or button.get("custom_id") or "that button"
    if button.get("style") == LINK_STYLE:
        raise Refused(f"{label} is a link: in Discord it opens {button.get('url', 'a web page')}")
    if button.get("disabled"):
        raise Refused(f"{label} is disabled")


def chosen_values(menu: Json, picks: list[str]) -> list[str]:
    """The values Discord's client sends when a member picks ``picks`` (each an option's value or
    label) in ``menu``; Refused for what the client cannot do: a disabled menu, an option the menu
    does not have, the same option twice, fewer than min_values or more than max_values."""
    name = menu_name(menu)
    if menu.get("disabled"):
        raise Refused(f"the menu {name} is disabled")
    options = menu.get("options") or []
    values: list[str] = []
    for pick in picks:
        option = next((o for o in options if o["value"] == pick), None) or next(
            (o for o in options if o["label"] == pick), None
        )
        if option is None:
            labels = ", ".join(str(o["label"]) for o in options)
            raise Refused(f"the menu {name} has no option {pick!r} (it has: {labels})")
        if option["value"] in values:
            raise Refused(f"{option['label']!r} is picked twice")
        values.append(option["value"])
    least, most = menu.get("min_values", 1), menu.get("max_values", 1)
    if not least <= len(values) <= most:
        many = f"{least}" if least == most else f"{least} to {most}"
        raise Refused(f"the menu {name} takes {many} option{'s' if most > 1 else ''}, not {len(values)}")
    return values


# ---- from the bot --------------------------------------------------------------------------------


def component_problems(rows: list[Json]) -> Problems:
    problems: Problems = []
    if len(rows) > ROWS:
        problems.append(("components", f"Must be {ROWS} or fewer in length."))
    seen: set[str] = set()  # custom ids, unique across the message's rows (Discord says which repeats)
    for i, row in enumerate(rows):
        items = row.get("components") or []
        for j, item in enumerate(items):
            custom_id = item.get("custom_id")
            if custom_id in seen:
                where = f"components.{i}.components.{j}.custom_id"
                problems.append((where, "Component custom id cannot be duplicated"))
            if custom_id:
                seen.add(custom_id)
        if not 1 <= len(items) <= ROW_BUTTONS:
            problems.append((f"components.{i}.components", f"Must be between 1 and {ROW_BUTTONS} in length."))
        if any(item.get("type") == STRING_SELECT for item in items) and len(items) > 1:
            # A select menu takes a whole row's width.
            problems.append(
                (f"components.{i}.components", "The specified component exceeds the maximum width")
            )
        for j, button in enumerate(items):
            where = f"components.{i}.components.{j}"
            if button.get("type") == STRING_SELECT:
                problems += menu_problems(button, where)
            if button.get("type") != BUTTON:
                continue
            if len(button.get("label") or "") > LABEL:
                problems.append((f"{where}.label", f"Must be {LABEL} or fewer in length."))
            if button.get("style") == LINK_STYLE:
                if button.get("custom_id"):
                    problems.append((f"{where}.custom_id", "A custom id and url cannot both be specified"))
                problems += url_problems(button.get("url"), f"{where}.url", BUTTON_SCHEMES, BUTTON_URL)
            elif not 1 <= len(button.get("custom_id") or "") <= CUSTOM_ID:
                problems.append((f"{where}.custom_id", f"Must be between 1 and {CUSTOM_ID} in length."))
    return problems


def menu_problems(menu: Json, where: str) -> Problems:
    """Discord's limits on a string select: a custom id, 1 to 25 options with labels and values of
    1 to 100 characters (values unique), a placeholder of at most 150, and
    0 <= min_values <= max_values <= the number of options (max_values at least 1)."""
    problems: Problems = []
    if not 1 <= len(menu.get("custom_id") or "") <= CUSTOM_ID:
        problems.append((f"{where}.custom_id", f"Must be between 1 and {CUSTOM_ID} in length."))
    if len(menu.get("placeholder") or "") > PLACEHOLDER:
        problems.append((f"{where}.placeholder", f"Must be {PLACEHOLDER} or fewer in length."))
    options = menu.get("options") or []
    if not 1 <= len(options) <= MENU_OPTIONS:
        problems.append((f"{where}.options", f"Must be between 1 and {MENU_OPTIONS} in length."))
    for k, option in enumerate(options):
        for key in ("label", "value"):
            if not 1 <= len(str(option.get(key) or "")) <= OPTION_CHARS:
                problems.append(
                    (f"{where}.options.{k}.{key}", f"Must be between 1 and {OPTION_CHARS} in length.")
                )
        if len(option.get("description") or "") > OPTION_CHARS:
            problems.append(
                (f"{where}.options.{k}.description", f"Must be {OPTION_CHARS} or fewer in length.")
            )
    if len({option.get("value") for option in options}) < len(options):
        problems.append((f"{where}.options", "The specified option value is already used"))
    least, most = menu.get("min_values", 1), menu.get("max_values", 1)
    if not (0 <= least <= most and 1 <= most <= max(1, min(len(options), MENU_OPTIONS))):
        problems.append((f"{where}.max_values", "min_values and max_values must fit the options."))
    return problems


def autocomplete_problems(data: Json, option: Json | None) -> Problems:
    """Why Discord would refuse an autocomplete answer: at most 25 choices, names and string values
    of 1 to 100 characters, values of the option's type."""
    problems: Problems = []
    choices = data.get("choices")
    if not isinstance(choices, list):
        return [("choices", "This field is required")]
    if len(choices) > AUTOCOMPLETE_CHOICES:
        problems.append(("choices", f"Must be {AUTOCOMPLETE_CHOICES} or fewer in length."))
    kind = option["type"] if option else STRING
    for i, choice in enumerate(choices):
        name, value = choice.get("name"), choice.get("value")
        if not isinstance(name, str) or not 1 <= len(name) <= CHOICE_CHARS:
            problems.append((f"choices.{i}.name", f"Must be between 1 and {CHOICE_CHARS} in length."))
        if kind == STRING and (not isinstance(value, str) or len(value) > CHOICE_CHARS):
            problems.append((f"choices.{i}.value", f"Must be {CHOICE_CHARS} or fewer in length."))
        elif kind in (INTEGER, NUMBER) and (isinstance(value, bool) or not isinstance(value, int | float)):
            problems.append((f"choices.{i}.value", "Value must be a number."))
    return problems


def commands_problems(commands: list[Json]) -> Problems:
    """Why Discord would refuse a bulk command overwrite."""
    problems: Problems = []
    for i, command in enumerate(commands):
        problems += _command_problems(command, f"{i}")
    return problems


def _command_problems(command: Json, where: str) -> Problems:
    problems: Problems = []
    if not COMMAND_NAME.match(str(command.get("name", ""))) or command.get("name") != command["name"].lower():
        problems.append((f"{where}.name", "Command name is invalid"))
    description = command.get("description", "")
    if command.get("type", 1) == 1 and not 1 <= len(description) <= 100:
        problems.append((f"{where}.description", "Must be between 1 and 100 in length."))
    options = command.get("options") or []
    if len(options) > 25:
        problems.append((f"{where}.options", "Must be 25 or fewer in length."))
    seen_optional = False
    for j, option in enumerate(options):
        here = f"{where}.options.{j}"
        if option["type"] in (SUB_COMMAND, GROUP):
            problems += _command_problems(option, here)
            continue
        if option.get("required"):
            if seen_optional:
                problems.append((here, "Required options must be placed before non-required options"))
        else:
            seen_optional = True
        choices = option.get("choices") or []
        if len(choices) > 25:
            problems.append((f"{here}.choices", "Must be 25 or fewer in length."))
        if choices and option.get("autocomplete"):
            problems.append((here, "Autocomplete cannot be set with choices"))
        if not COMMAND_NAME.match(str(option.get("name", ""))):
            problems.append((f"{here}.name", "Option name is invalid"))
    return problems


def thread_problems(body: Json) -> Problems:
    """Why Discord would refuse to start a thread: a name of 1 to 100 characters, an archive
    duration of one of its four choices."""
    problems: Problems = []
    name = body.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= THREAD_NAME:
        problems.append(("name", f"Must be between 1 and {THREAD_NAME} in length."))
    minutes = body.get("auto_archive_duration")
    if minutes is not None and minutes not in ARCHIVE_MINUTES:
        problems.append(("auto_archive_duration", f"Value must be one of {ARCHIVE_MINUTES}."))
    return problems


# Discord's error code for each of its messages above (by the message's opening words).
ERROR_CODES = (
    ("Must be between", "BASE_TYPE_BAD_LENGTH"),
    ("Must be ", "BASE_TYPE_MAX_LENGTH"),
    ("This field is required", "BASE_TYPE_REQUIRED"),
    ("Value must be one of", "BASE_TYPE_CHOICES"),
    ("Not a well formed URL.", "URL_TYPE_INVALID_URL"),
    ('Scheme "', "URL_TYPE_INVALID_SCHEME"),
    ("Embed size exceeds", "MAX_EMBED_SIZE_EXCEEDED"),
    ("Component custom id cannot be duplicated", "COMPONENT_CUSTOM_ID_DUPLICATED"),
    ("The specified component exceeds", "COMPONENT_LAYOUT_WIDTH_EXCEEDED"),
    ("The specified option value is already used", "SELECT_COMPONENT_OPTION_VALUE_DUPLICATED"),
    ("A custom id and url", "BUTTON_COMPONENT_CUSTOM_ID_URL_MUTUALLY_EXCLUSIVE"),
    ("The set already contains", "SET_TYPE_ALREADY_CONTAINS_VALUE"),
    ('Value "', "NUMBER_TYPE_COERCE"),
    ("parse:[", "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE"),
    ("int value should be", "NUMBER_TYPE_MAX"),
)


def error_code(message: str) -> str:
    return next((code for start, code in ERROR_CODES if message.startswith(start)), "BASE_TYPE_INVALID")


def form_errors(problems: Problems) -> Json:
    """Discord's 400 body for ``problems``: nested ``errors`` with ``_errors`` leaves."""
    errors: Json = {}
    for path, message in problems:
        node = errors
        for key in path.split("."):
            node = node.setdefault(key, {})
        node.setdefault("_errors", []).append({"code": error_code(message), "message": message})
    return {"code": 50035, "message": "Invalid Form Body", "errors": errors}

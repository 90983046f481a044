"""Settings: defaults in ``config/paperbot.toml``, overridden by the environment and ``.env``.

Loaded by the entry point (``load_settings``), never at import time, so tests and tools can
build their own.
"""

from __future__ import annotations

import difflib
import io
import json
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from dotenv import dotenv_values
from dotenv.parser import parse_stream
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from bot.domain.ids import arxiv_category_problem
from bot.domain.shards import MAX_SHARD_COUNT, ShardPlan, shard_plan
from bot.errors import InvalidInput

DEFAULT_CONFIG = Path("config/paperbot.toml")
DEFAULT_DB = Path("data/paperbot.db")
# A misspelt key is an error, not a silent default; inf and nan are no number of seconds.
STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)


class SearchSettings(BaseModel):
    model_config = STRICT

    page_size: int = Field(5, ge=1, le=10, description="Results per page of /papers search")
    max_results: int = Field(25, ge=1, le=100, description="Most results a search returns")
    refresh_seconds: float = Field(
        5.0, gt=0, description="How often the bot looks for papers and follows another process changed"
    )
    readers: int = Field(
        4, ge=1, le=32, description="Read connections (a thread each) serving reads in parallel"
    )
    answer_cache: int = Field(
        1024,
        ge=0,
        le=100_000,
        description="Search answers and title suggestions kept in memory until the papers change (0: none)",
    )
    warm_indexes: bool = Field(
        True,
        description="Read what searches need once after start-up, in the background, so first "
        "searches and similar papers do not wait on the disk (SQLite: the full-text indexes; "
        "PostgreSQL: the search indexes and the papers' rows, with pg_prewarm where it can)",
    )
    merge_indexes: bool = Field(
        True,
        description="Merge the full-text indexes into one segment in the background, in short steps "
        "(SQLite): a search reads each word once per segment",
    )
    merge_above_segments: int = Field(
        4, ge=1, le=64, description="Segments an index may gather before the background merge rewrites it"
    )
    merge_check_minutes: float = Field(
        60.0, gt=0, le=1440, description="How often the bot looks whether an index needs merging"
    )


class DigestSettings(BaseModel):
    model_config = STRICT

    grace_minutes: int = Field(
        360, ge=0, le=1440, description="How late a missed post may still be caught up"
    )
    empty_note: bool = Field(True, description="Post a short note on days without a new list (else nothing)")
    scheduler: bool = Field(
        True, description="Run the posting and source-fetching schedules (off in some tests)"
    )
    tick_seconds: float = Field(60.0, gt=0, description="How often due or interrupted posts are caught up")


SourceName = Literal["hf", "arxiv"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
# Read from the environment or .env only, never from a config file (which may be committed).
SECRET_KEYS = frozenset({"discord_token"})


def _default_sources() -> list[SourceName]:
    return ["hf"]


class SourceSettings(BaseModel):
    model_config = STRICT

    enabled: list[SourceName] = Field(
        default_factory=_default_sources, description="Sources fetched on schedule"
    )
    hf_api_url: str = "https://huggingface.co/api/daily_papers"
    arxiv_rss_url: str = "https://rss.arxiv.org/rss/"
    arxiv_api_url: str = "http://export.arxiv.org/api/query"
    arxiv_categories: list[str] = Field(default_factory=lambda: ["cs.LG", "cs.CL"])

    @field_validator("arxiv_categories")
    @classmethod
    def _feeds_exist(cls, value: list[str]) -> list[str]:
        # They go into the RSS address as written: none fetched the feed site's root, and a space
        # or "/" another address; either way every scheduled fetch failed with "not a feed".
        if problem := arxiv_category_problem(value):
            raise ValueError(problem)
        return value

    timeout_seconds: float = Field(30.0, gt=0)
    retry_attempts: int = Field(4, ge=1, le=10, description="Tries per request on 429/5xx/timeouts")
    hf_calls_per_window: int = Field(500, ge=1, description="Hugging Face's rate limit: calls per window")
    hf_window_seconds: float = Field(300.0, gt=0, description="... and the window, in seconds")
    refresh_days: int = Field(
        7, ge=0, le=30, description="Re-fetch this many recent daily lists on a schedule (momentum; 0: off)"
    )
    refresh_hours: float = Field(6.0, gt=0, description="How often the recent lists are re-fetched")
    refresh_spacing_seconds: float = Field(
        1.0, ge=0, le=60, description="Pause between two requests of that re-fetch (politeness)"
    )
    refresh_minutes: float = Field(
        120.0, gt=0, le=1440, description="Hugging Face lists are re-fetched this long after the last success"
    )
    check_seconds: float = Field(
        30.0, gt=0, description="How often the source schedule looks for due fetches"
    )
    fresh_wait_seconds: float = Field(
        60.0, gt=0, le=600, description="How long a due post waits for its list to be re-fetched"
    )
    lease_seconds: float = Field(
        45.0,
        gt=0,
        le=300,
        description="With several processes, one runs the source schedule; another takes it over this "
        "long after that one stopped renewing (it renews three times per period)",
    )


class FollowSettings(BaseModel):
    model_config = STRICT

    max_per_member: int = Field(25, ge=1, le=100, description="Follows one member may have")
    poll_seconds: float = Field(30.0, gt=0, description="How often the bot looks for alerts to send")
    dm_interval_seconds: float = Field(1.0, ge=0, description="Pause between two members' DMs")


class LogSettings(BaseModel):
    model_config = STRICT

    format: Literal["plain", "json"] = Field("plain", description="plain lines, or one JSON object a line")
    file: Path | None = Field(None, description="Also log to this file, rotated (empty: stderr only)")
    max_bytes: int = Field(10_000_000, ge=1000, description="Rotate the log file at this size")
    backups: int = Field(5, ge=0, le=100, description="Rotated log files kept")
    scheduler_level: LogLevel = Field(
        "WARNING",
        description="Level of apscheduler's lines about each run of a job (INFO: two lines a tick, "
        "'Running job ...' and '... executed successfully'); a failed run is logged at ERROR",
    )

    @field_validator("scheduler_level", mode="before")
    @classmethod
    def _level_in_capitals(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("file", mode="before")
    @classmethod
    def _empty_means_none(cls, value: object) -> object:
        return None if value == "" else value


class HealthSettings(BaseModel):
    model_config = STRICT

    file: Path | None = Field(
        Path("data/heartbeat.json"),
        description="Where `paperbot run` writes its heartbeat for `paperbot health` (empty: none)",
    )
    interval_seconds: float = Field(30.0, gt=0, description="How often the heartbeat is rewritten")
    disconnect_grace_seconds: float = Field(
        180.0, ge=0, description="How long the gateway may be reconnecting before the bot counts as unhealthy"
    )

    @field_validator("file", mode="before")
    @classmethod
    def _empty_means_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("file")
    @classmethod
    def _a_file_not_a_folder(cls, value: Path | None) -> Path | None:
        # Caught here, not at the first beat: "/" or a folder would fail every heartbeat.
        if value is not None and (not value.name or value.name in (".", "..") or value.is_dir()):
            raise ValueError(f"a folder, not a file; name a file in it, e.g. {value / 'heartbeat.json'}")
        return value


class DeliverySettings(BaseModel):
    model_config = STRICT

    lease_seconds: float = Field(
        90.0,
        gt=0,
        description="How long a digest or alert DM being sent stays this process's; renewed part by part. "
        "Another process (or this one restarted) resumes it only after the lease ran out",
    )
    write_wait_seconds: float = Field(
        10.0,
        gt=0,
        description="How long a command waits for the database writer (after deferring) before "
        "answering 'busy, try again'",
    )
    send_timeout_seconds: float = Field(
        30.0,
        gt=0,
        description="How long Discord may take to answer one digest part or alert DM (429 waits "
        "included) before the bot gives up on it and resumes the delivery later (its nonce and "
        "marker keep a part Discord did create from arriving twice); shorter than lease_seconds",
    )

    @model_validator(mode="after")
    def _a_part_fits_in_the_lease(self) -> DeliverySettings:
        # A part still waiting for its answer when the lease runs out could be taken over by
        # another process while this one still counts on it.
        if self.send_timeout_seconds >= self.lease_seconds:
            raise ValueError(
                f"send_timeout_seconds ({self.send_timeout_seconds:g}) must be shorter than "
                f"lease_seconds ({self.lease_seconds:g})"
            )
        return self


SQLITE_HINT = "an SQLite store is the db setting: PAPERBOT_DB or --db"
# The URL options whose values the driver checks before connecting (libpq's names and values).
URL_OPTION_VALUES = {
    "sslmode": ("disable", "allow", "prefer", "require", "verify-ca", "verify-full"),
    "target_session_attrs": ("any", "primary", "standby", "prefer-standby", "read-write", "read-only"),
}


def postgres_url_problem(url: str, *, scheme_hint: str = SQLITE_HINT) -> str | None:
    """What is wrong with ``url`` as a PostgreSQL URL, naming the part ("has a bad sslmode
    (bogus): ..."), as far as can be told without connecting; None when nothing is. Such a
    mistake otherwise reaches asyncpg as a traceback or reads as "server cannot be reached"."""
    if not url.startswith(("postgresql://", "postgres://")):
        return f"must be a postgresql:// URL ({scheme_hint})"
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError as error:
        return f"has a bad port ({error})"
    if port == 0:
        return "has a bad port (0)"
    for option, value in parse_qsl(parts.query, keep_blank_values=True):
        allowed = URL_OPTION_VALUES.get(option)
        if allowed is not None and value not in allowed:
            return f"has a bad {option} ({value[:40]}): use one of {', '.join(allowed)}"
    return None


def checked_postgres_url(value: object) -> object:
    """None for an empty URL; a URL that is not postgresql:// (SQLite takes ``db``) or has a
    mistake that can be seen without connecting is refused, naming the part."""
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
        problem = postgres_url_problem(value)
        if problem is not None:
            raise ValueError(problem)
    return value


class DatabaseSettings(BaseModel):
    url: str | None = Field(None, description="postgresql://... URL of a shared store (else SQLite)")

    _url_is_postgres = field_validator("url", mode="before")(checked_postgres_url)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PAPERBOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        env_nested_delimiter="__",
        extra="ignore",
        allow_inf_nan=False,
    )

    db: Path = Field(DEFAULT_DB, description="SQLite database file")
    # PAPERBOT_DATABASE_URL (or [database] url in the TOML): a postgresql:// URL moves the store to
    # that PostgreSQL server (shared by several bot processes); unset keeps the SQLite file ``db``.
    database_url: str | None = Field(None, description="postgresql://... URL of a shared store")
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    log_level: LogLevel = "INFO"
    discord_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("DISCORD_TOKEN", "PAPERBOT_DISCORD_TOKEN")
    )
    discord_api_base: str | None = Field(
        None, validation_alias=AliasChoices("DISCORD_API_BASE", "PAPERBOT_DISCORD_API_BASE")
    )
    discord_gateway_url: str | None = Field(
        None, validation_alias=AliasChoices("DISCORD_GATEWAY_URL", "PAPERBOT_DISCORD_GATEWAY_URL")
    )
    gateway_connect_timeout_seconds: float = Field(
        10.0,
        gt=0,
        description="How long the gateway's address may take to answer a connect before the bot "
        "warns (naming the address) and tries again",
    )
    owner_ids: list[int] = Field(
        default_factory=list, description="Discord user ids allowed to run owner commands"
    )
    shard_count: int | None = Field(
        None,
        ge=1,
        le=MAX_SHARD_COUNT,
        description="Discord shards in all, over every process (empty: as many as Discord recommends)",
    )
    shards: str | None = Field(
        None, description="The shards this process runs, like 0,1 or 0-2 (empty: all of them)"
    )
    search: SearchSettings = Field(default_factory=SearchSettings)
    digest: DigestSettings = Field(default_factory=DigestSettings)
    sources: SourceSettings = Field(default_factory=SourceSettings)
    follows: FollowSettings = Field(default_factory=FollowSettings)
    health: HealthSettings = Field(default_factory=HealthSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    log: LogSettings = Field(default_factory=LogSettings)

    @field_validator("shard_count", "shards", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("shards")
    @classmethod
    def _shards_exist(cls, value: str | None, info: ValidationInfo) -> str | None:
        try:
            shard_plan(info.data.get("shard_count"), value, names=("shard_count", "shards"))
        except InvalidInput as exc:
            raise ValueError(str(exc)) from None
        return value

    @property
    def shard_plan(self) -> ShardPlan:
        """Which shards this process runs (checked when the settings were made)."""
        return shard_plan(self.shard_count, self.shards)

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_in_capitals(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("db", mode="before")
    @classmethod
    def _empty_db_is_the_default(cls, value: object) -> object:
        # PAPERBOT_DB= (set but empty) is the default store, not "." (the current folder).
        return DEFAULT_DB if isinstance(value, str) and not value.strip() else value

    _database_url_is_postgres = field_validator("database_url", mode="before")(checked_postgres_url)

    @property
    def store(self) -> str | Path:
        """Where the store is: the PostgreSQL URL when one is set, else the SQLite file."""
        return self.database_url or self.database.url or self.db

    @field_validator("discord_api_base", "discord_gateway_url")
    @classmethod
    def _an_address_discord_py_can_use(cls, value: str | None, info: ValidationInfo) -> str | None:
        # A mistyped address would otherwise surface as an aiohttp traceback on the first request.
        if value is None or not value.strip():
            return None
        schemes = ("http", "https") if info.field_name == "discord_api_base" else ("ws", "wss")
        parts = urlsplit(value.strip())
        try:
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError:
            raise ValueError("the address has a bad port") from None
        if parts.scheme not in schemes or not parts.hostname:
            raise ValueError(f"not a {' or '.join(s + '://' for s in schemes)} address")
        return value.strip()

    @field_validator("discord_token", mode="before")
    @classmethod
    def _empty_token_is_none(cls, value: object) -> object:
        # DISCORD_TOKEN= (set but empty) is no token, not a token of zero characters.
        if isinstance(value, str) and not value.strip():
            return None
        if isinstance(value, SecretStr) and not value.get_secret_value().strip():
            return None
        token = value.get_secret_value() if isinstance(value, SecretStr) else value
        if isinstance(token, str):
            # Spaces or a line break around it are left from pasting; one inside (a .env value
            # "abc\nxyz", a \x01) cannot go into an HTTP header: aiohttp refused it with a traceback.
            token = token.strip()
            if any(ord(character) < 32 or ord(character) == 127 for character in token):
                raise ValueError(
                    "holds a line break or another control character, which no Discord token has: "
                    "copy the bot's token again from https://discord.com/developers/applications"
                )
            return token
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Highest priority first: explicit arguments, environment, .env, then the TOML defaults.
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            TomlConfigSettingsSource(settings_cls),
            file_secret_settings,
        )


class ConfigError(RuntimeError):
    """A configuration that cannot be used; the message names the key and where it was set."""


class ConfigMissing(ConfigError):
    pass


def load_settings(config: Path | None = None, **overrides: object) -> Settings:
    """Settings from ``config`` (else ``PAPERBOT_CONFIG``, else ``config/paperbot.toml`` if present).

    Raises ConfigError, naming the key, for a file that is not TOML, an unknown or secret key in it,
    or a value (from the file, the environment or .env) of the wrong type or out of range."""
    explicit = config or (Path(os.environ["PAPERBOT_CONFIG"]) if os.environ.get("PAPERBOT_CONFIG") else None)
    path = explicit or DEFAULT_CONFIG
    if explicit is not None and explicit.is_dir():
        raise ConfigError(f"config file {explicit} is a folder; give the path of a TOML file")
    if explicit is not None and not explicit.is_file():
        raise ConfigMissing(f"config file {explicit} does not exist")
    if path.is_file():
        check_config_file(path)
    dotenv = Path(".env")  # where Settings reads it: the current folder
    names = check_dotenv(dotenv) if dotenv.is_file() else []
    check_environment_names(
        [(name, "the environment") for name in os.environ] + [(n, str(dotenv)) for n in names]
    )

    class ConfiguredSettings(Settings):
        model_config = SettingsConfigDict(toml_file=path if path.is_file() else None)

    variables = {name.upper(): name for name in os.environ}
    variables |= {name.upper(): f"{name} in {dotenv}" for name in names if name.upper() not in variables}
    try:
        return ConfiguredSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(_first_problem(exc, path, variables)) from None
    except SettingsError as exc:  # a list or table value in the environment that is not JSON
        field = re.search(r'field "(\w+)"', str(exc))
        variable = _not_json(f"PAPERBOT_{field[1] if field else ''}".upper(), variables, dotenv)
        key = variable.removeprefix("PAPERBOT_").replace("__", ".").lower()
        raise ConfigError(
            f"config key {key} (set in {variables.get(variable, variable)}): not valid JSON; a list "
            f'is written like [1, 2] or ["a", "b"]'
        ) from None


def _not_json(prefix: str, variables: dict[str, str], dotenv: Path) -> str:
    """The variable under ``prefix`` whose value is not JSON (pydantic-settings names only the
    top-level field: PAPERBOT_SOURCES for PAPERBOT_SOURCES__ENABLED=nope)."""
    values = {name.upper(): value for name, value in os.environ.items()}
    if dotenv.is_file():
        values |= {k.upper(): v or "" for k, v in dotenv_values(dotenv).items() if k.upper() not in values}
    for name in sorted(variables):
        if name == prefix or name.startswith(prefix + "__"):
            try:
                json.loads(values.get(name, ""))
            except ValueError:
                return name
    return prefix


def check_dotenv(path: Path) -> list[str]:
    """The names a .env file sets; ConfigError naming the first line python-dotenv cannot read (it
    would only warn and go on without it, and a missing DISCORD_TOKEN is then all one hears)."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    names = []
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            statement = binding.original.string.strip().split("\n")[0]
            name = statement.partition("=")[0].strip()
            quote = statement.partition("=")[2].lstrip()[:1]
            why = (
                f"the value of {name} opens a {quote} quote that never closes"
                if quote in ("'", '"')
                else ("not NAME=value")
            )
            raise ConfigError(f"{path}, line {binding.original.line}: {why}")
        if binding.key:
            names.append(binding.key)
    return names


# PAPERBOT_* names read other than as settings: the config file's path, and the PostgreSQL server
# the test suite and benchmarks may use.
OTHER_NAMES = frozenset({"PAPERBOT_CONFIG", "PAPERBOT_TEST_DATABASE_URL"})


def check_environment_names(names: list[tuple[str, str]]) -> None:
    """Refuse a PAPERBOT_* variable that is no setting (``PAPERBOT_GRACE_MINUTES``): it would be
    ignored silently. Nested ones (``PAPERBOT_DIGEST__GRACE_MINUTES``) are checked by their models."""
    known = {f"PAPERBOT_{name.upper()}" for name in Settings.model_fields} | OTHER_NAMES
    for name, where in names:
        upper = name.upper()
        if not upper.startswith("PAPERBOT_"):
            continue
        head, nested, key = upper.partition("__")
        if head in known and (not nested or _section_has(head.removeprefix("PAPERBOT_"), key)):
            continue
        if head in known:  # a known section, a key it does not have (PAPERBOT_LOG__LEVEL)
            section = head.removeprefix("PAPERBOT_")
            hint = _flat_hint(f"{section}_{key}") or _nested_hint(key) or _close_hint(section, key)
        else:
            hint = _nested_hint(upper.removeprefix("PAPERBOT_"))
        raise ConfigError(
            f"unknown setting {name} (set in {where}){hint}; the known keys are in config/paperbot.toml"
        )


def _section_has(section: str, key: str) -> bool:
    """Whether ``PAPERBOT_SECTION__KEY`` names a setting (the first part of a deeper name counts)."""
    field = Settings.model_fields.get(section.lower())
    nested = field.annotation if field else None
    if not (isinstance(nested, type) and issubclass(nested, BaseModel)):
        return True  # not a section: a value pydantic reads as JSON, or reports itself
    return key.partition("__")[0].lower() in nested.model_fields


def _close_hint(section: str, key: str) -> str:
    """A near miss within the section (``GRACE_MINUTE`` for ``GRACE_MINUTES``)."""
    nested = Settings.model_fields[section.lower()].annotation
    assert isinstance(nested, type) and issubclass(nested, BaseModel)
    close = difflib.get_close_matches(key.lower(), list(nested.model_fields), n=1)
    return f": did you mean PAPERBOT_{section}__{close[0].upper()}?" if close else ""


def _flat_hint(key: str) -> str:
    return f": did you mean PAPERBOT_{key}?" if key.lower() in Settings.model_fields else ""


def _nested_hint(key: str) -> str:
    for section, field in Settings.model_fields.items():
        nested = field.annotation
        if isinstance(nested, type) and issubclass(nested, BaseModel) and key.lower() in nested.model_fields:
            return f": did you mean PAPERBOT_{section.upper()}__{key}?"
    return ""


def check_config_file(path: Path) -> None:
    """Refuse a config file that is not TOML or holds a key paperbot does not know (or a secret)."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    secrets = sorted(data.keys() & SECRET_KEYS)
    if secrets:
        raise ConfigError(
            f"{path}: {secrets[0]} is not read from config files; "
            "put DISCORD_TOKEN in the environment or .env"
        )
    unknown = _unknown_keys(data, Settings)
    if unknown:
        raise ConfigError(f"{path}: unknown key {unknown[0]!r} (the known keys are in config/paperbot.toml)")


def _unknown_keys(data: dict[str, Any], model: type[BaseModel], prefix: str = "") -> list[str]:
    unknown = []
    for key, value in data.items():
        field = model.model_fields.get(key)
        if field is None:
            unknown.append(prefix + key)
            continue
        nested = field.annotation
        if isinstance(value, dict) and isinstance(nested, type) and issubclass(nested, BaseModel):
            unknown += _unknown_keys(value, nested, f"{prefix}{key}.")
    return unknown


def _first_problem(exc: ValidationError, path: Path, variables: dict[str, str]) -> str:
    error = exc.errors()[0]
    key = ".".join(str(part) for part in error["loc"])
    where = _where_set(error["loc"], path, variables)
    if key.lower() == "discord_token":  # read under its alias DISCORD_TOKEN
        key = "DISCORD_TOKEN"
    got = error.get("input")
    # A token, or a database URL that may hold a password, is never echoed (the problem names the part).
    secret = key in ("DISCORD_TOKEN", "database_url", "database.url")
    shown = "" if secret or isinstance(got, dict) else f" (got {str(got)[:60]!r})"
    count = exc.error_count()
    more = f"; {count - 1} more problem{'s' * (count > 2)} after this one" if count > 1 else ""
    # pydantic prefixes what our validators raise with "Value error, ": say only what is wrong.
    message = error["msg"].removeprefix("Value error, ")
    return f"config key {key} (set in {where}): {message}{shown}{more}"


def _where_set(loc: tuple[int | str, ...], path: Path, variables: dict[str, str]) -> str:
    """Where the value at ``loc`` came from: the variable the user set (a list is set whole, so
    PAPERBOT_SOURCES__ENABLED for sources.enabled.0; DISCORD_TOKEN and Discord's own names as
    such), else the config file, else the variable that would set it."""
    names = [str(part) for part in loc]
    if any(isinstance(part, int) for part in loc):
        names = names[: next(i for i, part in enumerate(loc) if isinstance(part, int))]
    key = "__".join(names).upper()
    candidates = [key] if key in ("DISCORD_TOKEN", "DISCORD_API_BASE", "DISCORD_GATEWAY_URL") else []
    candidates += ["PAPERBOT_" + "__".join(names[:depth]).upper() for depth in range(len(names), 0, -1)]
    for name in candidates:
        if name in variables:
            return variables[name]
    return str(path) if path.is_file() else candidates[0]

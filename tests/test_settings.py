"""Settings: TOML defaults, .env, environment; the token is a secret."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.settings import ConfigError, ConfigMissing, load_settings


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in (
        "DISCORD_TOKEN",
        "PAPERBOT_DB",
        "PAPERBOT_CONFIG",
        "PAPERBOT_SEARCH__PAGE_SIZE",
        "PAPERBOT_DATABASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_precedence_toml_then_dotenv_then_environment(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_env / "custom.toml").write_text('db = "from-toml.db"\n[search]\npage_size = 7\n')
    monkeypatch.setenv("PAPERBOT_CONFIG", str(clean_env / "custom.toml"))
    settings = load_settings()
    assert (settings.db, settings.search.page_size) == (Path("from-toml.db"), 7)
    (clean_env / ".env").write_text("PAPERBOT_SEARCH__PAGE_SIZE=8\nDISCORD_TOKEN=dotenv-secret\n")
    settings = load_settings()
    assert settings.search.page_size == 8
    assert settings.discord_token is not None and settings.discord_token.get_secret_value() == "dotenv-secret"
    monkeypatch.setenv("PAPERBOT_SEARCH__PAGE_SIZE", "9")
    assert load_settings().search.page_size == 9
    assert load_settings(db=Path("explicit.db")).db == Path("explicit.db")


def test_the_token_never_shows_in_reprs(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "very-secret-value")
    settings = load_settings()
    assert "very-secret-value" not in repr(settings) and "very-secret-value" not in str(settings.model_dump())


def test_defaults_without_any_file(clean_env: Path) -> None:
    settings = load_settings()
    assert settings.db == Path("data/paperbot.db") and settings.discord_token is None
    assert settings.sources.enabled == ["hf"] and settings.digest.grace_minutes == 360


def test_a_missing_explicit_config_is_an_error(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERBOT_CONFIG", str(clean_env / "nope.toml"))
    with pytest.raises(ConfigMissing, match="does not exist"):
        load_settings()


def test_the_shipped_config_file_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = Path(__file__).parent.parent / "config" / "paperbot.toml"
    for name in ("PAPERBOT_DB", "PAPERBOT_SEARCH__PAGE_SIZE"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(config=shipped)
    assert settings.follows.max_per_member == 25 and settings.sources.retry_attempts == 4


@pytest.mark.parametrize("value", ["inf", "-inf", "nan"])
@pytest.mark.parametrize(
    ("section", "key"),
    [("search", "refresh_seconds"), ("digest", "tick_seconds"), ("sources", "timeout_seconds"),
     ("follows", "poll_seconds"), ("health", "interval_seconds"), ("delivery", "lease_seconds")],
)  # fmt: skip
def test_no_float_setting_takes_infinity_or_nan(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, section: str, key: str, value: str
) -> None:
    (clean_env / "inf.toml").write_text(f"[{section}]\n{key} = {value}\n")
    monkeypatch.setenv("PAPERBOT_CONFIG", str(clean_env / "inf.toml"))
    with pytest.raises(ConfigError, match=rf"config key {section}\.{key} .*finite"):
        load_settings()


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_db_variable_is_the_default_store(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("PAPERBOT_DB", value)
    assert load_settings().db == Path("data/paperbot.db")


def test_a_folder_as_config_says_so(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERBOT_CONFIG", str(clean_env))
    with pytest.raises(ConfigError, match="is a folder"):
        load_settings()


@pytest.mark.parametrize("section", ["SEARCH", "DIGEST", "SOURCES", "FOLLOWS", "LOG", "HEALTH", "DELIVERY"])
def test_a_misspelt_environment_setting_is_an_error_not_ignored(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, section: str
) -> None:
    monkeypatch.setenv(f"PAPERBOT_{section}__NOT_A_KEY", "1")
    # Said as a misspelt top-level name is (not pydantic's "Extra inputs are not permitted").
    with pytest.raises(
        ConfigError, match=f"^unknown setting PAPERBOT_{section}__NOT_A_KEY \\(set in the environment\\)"
    ):
        load_settings()


def test_a_send_timeout_as_long_as_the_lease_is_refused(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A part still unanswered when its lease runs out could be resumed by another process while
    this one still waits for it: the send timeout must be shorter than the lease."""
    monkeypatch.setenv("PAPERBOT_DELIVERY__LEASE_SECONDS", "20")
    monkeypatch.setenv("PAPERBOT_DELIVERY__SEND_TIMEOUT_SECONDS", "20")
    with pytest.raises(ConfigError, match=r"send_timeout_seconds .* shorter than lease_seconds"):
        load_settings()
    monkeypatch.setenv("PAPERBOT_DELIVERY__SEND_TIMEOUT_SECONDS", "5")
    assert load_settings().delivery.send_timeout_seconds == 5


def test_a_postgresql_url_selects_postgres_and_a_path_or_nothing_keeps_sqlite(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load_settings().store == load_settings().db  # nothing set: the SQLite file
    (clean_env / "pg.toml").write_text('[database]\nurl = "postgresql://bot@db:5432/paperbot"\n')
    assert load_settings(config=clean_env / "pg.toml").store == "postgresql://bot@db:5432/paperbot"
    monkeypatch.setenv("PAPERBOT_DATABASE_URL", "postgresql://bot:pw@other/paperbot")
    assert load_settings(config=clean_env / "pg.toml").store == "postgresql://bot:pw@other/paperbot"
    monkeypatch.setenv("PAPERBOT_DATABASE_URL", "")
    assert load_settings().store == load_settings().db


def test_a_database_url_that_is_not_postgresql_is_refused_by_name(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERBOT_DATABASE_URL", "mysql://bot@db/paperbot")
    with pytest.raises(ConfigError, match=r"database_url.*postgresql://"):
        load_settings()


@pytest.mark.parametrize("port", ["99999", "abc", "-1"])
def test_a_database_url_with_a_bad_port_is_a_config_error_not_a_traceback(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, port: str
) -> None:
    monkeypatch.setenv("PAPERBOT_DATABASE_URL", f"postgresql://bot@127.0.0.1:{port}/paperbot")
    with pytest.raises(ConfigError, match=r"database_url.*bad port") as refused:
        load_settings()
    assert "Value error" not in str(refused.value)  # pydantic's prefix is not for members


def test_an_unreadable_dotenv_line_is_one_error_naming_file_and_line(clean_env: Path) -> None:
    from typer.testing import CliRunner

    from bot.cli import app

    (clean_env / ".env").write_text('PAPERBOT_LOG_LEVEL=INFO\nDISCORD_TOKEN="abc\n')
    result = CliRunner().invoke(app, ["stats", "--db", str(clean_env / "x.db")])
    assert result.exit_code == 2
    assert (
        result.output == 'error: .env, line 2: the value of DISCORD_TOKEN opens a " quote that never closes\n'
    )


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("PAPERBOT_GRACE_MINUTES", "did you mean PAPERBOT_DIGEST__GRACE_MINUTES?"),
        ("PAPERBOT_DATABSE_URL", "the known keys are in config/paperbot.toml"),
        # A known section, a key it lacks: a top-level setting of that name, or a near miss in it.
        ("PAPERBOT_LOG__LEVEL", "did you mean PAPERBOT_LOG_LEVEL?"),
        ("PAPERBOT_DIGEST__GRACE_MINUTE", "did you mean PAPERBOT_DIGEST__GRACE_MINUTES?"),
        ("PAPERBOT_LOG__GRACE_MINUTES", "did you mean PAPERBOT_DIGEST__GRACE_MINUTES?"),
    ],
)
def test_an_unknown_top_level_environment_setting_is_refused(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, name: str, says: str
) -> None:
    monkeypatch.setenv(name, "3")
    with pytest.raises(ConfigError, match=f"unknown setting {name} \\(set in the environment\\)") as refused:
        load_settings()
    assert says in str(refused.value)
    monkeypatch.delenv(name)
    (clean_env / ".env").write_text(f"{name}=3\n")
    with pytest.raises(ConfigError, match=f"unknown setting {name} \\(set in .env\\)"):
        load_settings()
    (clean_env / ".env").write_text("PAPERBOT_DIGEST__GRACE_MINUTES=3\nPAPERBOT_TEST_DATABASE_URL=x\n")
    assert load_settings().digest.grace_minutes == 3


@pytest.mark.parametrize(
    ("value", "key"),
    [('["nope"]', "sources.enabled.0"), ('["hf", "nope"]', "sources.enabled.1"), ("nope", "sources.enabled")],
)
def test_a_bad_list_names_the_variable_the_user_set_not_an_element_or_its_section(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, value: str, key: str
) -> None:
    monkeypatch.setenv("PAPERBOT_SOURCES__ENABLED", value)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert str(refused.value).startswith(f"config key {key} (set in PAPERBOT_SOURCES__ENABLED):")


def test_a_bad_value_says_whether_it_came_from_dotenv_or_the_config_file(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_env / "custom.toml").write_text('[sources]\nenabled = ["x"]\n')
    monkeypatch.setenv("PAPERBOT_CONFIG", str(clean_env / "custom.toml"))
    with pytest.raises(ConfigError, match=r"^config key sources\.enabled\.0 \(set in .*custom\.toml\):"):
        load_settings()
    (clean_env / ".env").write_text("PAPERBOT_SOURCES__ENABLED=nope\n")
    with pytest.raises(
        ConfigError, match=r"^config key sources\.enabled \(set in PAPERBOT_SOURCES__ENABLED in \.env\):"
    ):
        load_settings()


@pytest.mark.parametrize(
    "categories",
    ["[]", '["cs.LG", "cs LG"]', '["../../admin?x=1"]', '["cs.LG+math.AP"]', '["cs.LG/"]', '[""]'],
)
@pytest.mark.parametrize("where", ["toml", "environment"])
def test_arxiv_categories_that_name_no_feed_are_a_config_error(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, categories: str, where: str
) -> None:
    """They went into the RSS address as typed: `[]` fetched https://rss.arxiv.org/rss/ itself, and
    every scheduled arXiv fetch then failed with "not a feed", backing off for ever."""
    if where == "toml":
        (clean_env / "c.toml").write_text(f"[sources]\narxiv_categories = {categories}\n")
        monkeypatch.setenv("PAPERBOT_CONFIG", str(clean_env / "c.toml"))
    else:
        monkeypatch.setenv("PAPERBOT_SOURCES__ARXIV_CATEGORIES", categories)
    with pytest.raises(ConfigError, match=r"^config key sources\.arxiv_categories .*arXiv categor"):
        load_settings()


def test_every_kind_of_arxiv_category_is_taken(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    taken = ["cs.LG", "cs", "hep-th", "cond-mat.stat-mech", "physics.atom-ph", "q-bio.NC", "astro-ph.GA"]
    monkeypatch.setenv("PAPERBOT_SOURCES__ARXIV_CATEGORIES", json.dumps(taken))
    assert load_settings().sources.arxiv_categories == taken

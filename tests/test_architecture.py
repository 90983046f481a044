"""The layering the README describes, enforced: data flows one way and only the outer ring knows Discord.

domain, errors, settings, data   (pure)
parsing
sources | storage                (storage: the only SQL)
services, scheduler
client, runner, doctor
cogs, sandbox, cli, __main__     (entry points and Discord adapters)
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
LAYERS: list[set[str]] = [
    {
        "bot",
        "bot.domain",
        "bot.errors",
        "bot.settings",
        "bot.data",
        "bot.logging_context",
        "bot.loop_watch",
        "bot.gateway_reach",
        "bot.network_failure",
        "bot.repeating_failure",
        "bot.health",
        "bot.exports",
    },
    {"bot.parsing"},
    {"bot.sources", "bot.storage"},
    {"bot.services", "bot.scheduler"},
    {"bot.client", "bot.runner", "bot.doctor"},
    {"cogs", "bot.sandbox", "bot.cli", "bot.__main__"},
]
DISCORD_ALLOWED = {"bot.client", "bot.cli", "bot.__main__", "cogs"}
# Sibling packages that must not know each other.
SEPARATE = {("bot.sources", "bot.storage"), ("bot.storage", "bot.sources")}
SQL = re.compile(
    r"^\s*(SELECT\s.+\sFROM\s|INSERT\s+INTO\s|UPDATE\s+\w+\s+SET\s|DELETE\s+FROM\s|CREATE\s+(TABLE|INDEX)\s"
    r"|PRAGMA\s|BEGIN(\s|$)|COMMIT$|ROLLBACK$)",
    re.DOTALL,  # the project writes SQL keywords in capitals
)


def _modules() -> dict[str, Path]:
    found = {}
    for package in ("bot", "cogs"):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _unit(module: str) -> str:
    """The layering unit a module belongs to: its package (bot.storage) or top-level module."""
    if module.startswith("cogs"):
        return "cogs"
    parts = module.split(".")
    return ".".join(parts[:2])


def _layer(module: str) -> int:
    unit = _unit(module)
    for index, layer in enumerate(LAYERS):
        if unit in layer:
            return index
    raise AssertionError(f"{module} is in no layer: add its package to LAYERS")


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text("utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_only_point_down_the_layers(module: str) -> None:
    own = _layer(module)
    for line, imported in _imports(MODULES[module]):
        if not imported.startswith(("bot", "cogs")) or imported == "bot":
            continue
        assert _layer(imported) <= own, f"{module}:{line} imports {imported} from a layer above it"
        assert (_unit(module), _unit(imported)) not in SEPARATE, f"{module}:{line} imports {imported}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_only_the_outer_ring_imports_discord(module: str) -> None:
    if _unit(module) in DISCORD_ALLOWED:
        return
    for line, imported in _imports(MODULES[module]):
        assert imported.split(".")[0] != "discord", f"{module}:{line} imports {imported}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _unit(m) != "bot.storage"))
def test_sql_and_connections_stay_in_storage(module: str) -> None:
    tree = ast.parse(MODULES[module].read_text("utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            assert node.attr != "connection", f"{module}:{node.lineno} reaches for a database connection"
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            assert not SQL.match(node.value), f"{module}:{node.lineno} holds SQL: {node.value[:60]!r}"


def test_services_use_injected_repositories_not_each_others() -> None:
    for module, path in MODULES.items():
        if _unit(module) != "bot.services":
            continue
        text = path.read_text("utf-8")
        assert not re.search(r"self\._\w+\.repository\b", text), f"{module} reaches into another service"


def _views_made(tree: ast.AST) -> list[tuple[int, str]]:
    """discord.py views a module defines (a View subclass) or builds (a View call)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            bases = [ast.unparse(base) for base in node.bases]
            found += [(node.lineno, f"class {node.name}({b})") for b in bases if b.endswith("View")]
        if isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1] in ("View", "LayoutView"):
            found.append((node.lineno, ast.unparse(node)))
    return found


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _unit(m) in DISCORD_ALLOWED))
def test_no_view_waits_in_memory_per_message(module: str) -> None:
    """Every button and menu is a link or a dynamic item whose custom id carries its state, sent in
    a stopped view (cogs._views.components): a live discord.py view per message held its items,
    the sent message and a timer task (15 minutes for any private answer), and its buttons died
    with the process."""
    tree = ast.parse(MODULES[module].read_text("utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "components" and module == "cogs._views":
            node.body = []  # the one place a View is made, and stopped
    assert not _views_made(tree), f"{module} makes views: {_views_made(tree)}"


def test_the_rules_catch_what_they_are_about() -> None:
    """The checks are not vacuous: they flag the patterns they exist for."""
    assert SQL.match("SELECT pk FROM papers WHERE id = ?")
    assert SQL.match("UPDATE alerts SET state = 'sent'")
    assert not SQL.match("Select a paper from the list")
    assert _layer("bot.storage.papers") > _layer("bot.domain.models")
    assert _layer("cogs.papers") > _layer("bot.services.papers")
    made = _views_made(ast.parse("class Pages(discord.ui.View): ...\nview = discord.ui.View(timeout=180)"))
    assert [line for line, _ in made] == [1, 2]

"""`make stress` selects the property tests by hypothesis's own `hypothesis` mark, which it puts only
on a test decorated with @given: a test that runs its property in a nested function (to drive it
from a thread beside its event loop) must carry the mark itself, or no stress run ever tries it."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent


def _decorator_names(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    return {
        ast.unparse(decorator.func if isinstance(decorator, ast.Call) else decorator)
        for decorator in function.decorator_list
    }


def _unmarked_tests_with_a_nested_property(source: str) -> list[str]:
    unmarked = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or not node.name.startswith("test"):
            continue
        nested = [
            inner
            for inner in ast.walk(node)
            if inner is not node and isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef)
        ]
        if any(
            "given" in _decorator_names(inner) for inner in nested
        ) and "pytest.mark.hypothesis" not in _decorator_names(node):
            unmarked.append(node.name)
    return unmarked


def test_every_test_running_a_nested_property_is_marked_for_make_stress() -> None:
    unmarked = {
        f"{path.relative_to(TESTS)}::{name}"
        for path in TESTS.rglob("test_*.py")
        if "@given" in (source := path.read_text(encoding="utf-8"))
        for name in _unmarked_tests_with_a_nested_property(source)
    }
    assert unmarked == set()


def test_the_check_sees_a_nested_property_without_the_mark() -> None:
    source = "async def test_x():\n    @given(st.text())\n    def check(t): ...\n"
    assert _unmarked_tests_with_a_nested_property(source) == ["test_x"]
    marked = "@pytest.mark.hypothesis\n" + source
    assert _unmarked_tests_with_a_nested_property(marked) == []

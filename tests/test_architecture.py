"""The shape of the code: names that say what they hold, modules a reader can hold in mind.

Read from the source files themselves (the application's packages: veille, watch, indexer,
web), so a new module is held to the same rules as soon as it exists."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from tests.conftest import ROOT

PACKAGES = ("veille", "watch", "indexer", "web")
MAX_MODULE_LINES = 600


def application_modules() -> list[Path]:
    modules = sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))
    assert len(modules) > 50   # the packages were found where they live
    return modules


def shared_class_names(modules: list[Path], root: Path) -> dict[str, list[str]]:
    """Class names defined more than once (nested classes too) -> where, as `path:line`."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in modules:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                found[node.name].append(f"{path.relative_to(root)}:{node.lineno}")
    return {name: places for name, places in found.items() if len(places) > 1}


def long_modules(modules: list[Path], root: Path) -> dict[str, int]:
    """Modules over MAX_MODULE_LINES -> their length."""
    lengths = {str(path.relative_to(root)): len(path.read_text(encoding="utf-8").splitlines())
               for path in modules}
    return {name: lines for name, lines in lengths.items() if lines > MAX_MODULE_LINES}


def test_no_two_application_classes_share_a_name():
    shared = shared_class_names(application_modules(), ROOT)
    assert not shared, f"classes sharing a name (rename them to say what each holds): {shared}"


def test_no_application_module_exceeds_600_lines():
    long = long_modules(application_modules(), ROOT)
    assert not long, f"modules over {MAX_MODULE_LINES} lines (split them by subject): {long}"


def test_the_checks_catch_what_they_look_for(tmp_path):
    (tmp_path / "a.py").write_text("class Report:\n    pass\n\n\nclass Alone:\n    pass\n", encoding="utf-8")
    (tmp_path / "b.py").write_text("def f():\n    class Report:\n        pass\n" + "x = 1\n" * 598,
                                   encoding="utf-8")
    (tmp_path / "c.py").write_text("x = 1\n" * 600, encoding="utf-8")
    modules = sorted(tmp_path.glob("*.py"))
    assert shared_class_names(modules, tmp_path) == {"Report": ["a.py:1", "b.py:2"]}
    assert long_modules(modules, tmp_path) == {"b.py": 601}

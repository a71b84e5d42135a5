"""Fitness tests for the package's shape (issue 13): small modules, no import cycle between them.

The WebUI glue has its own, stricter checks in ``test_webui_settings_and_hint.py`` (only ``host.py``
imports the host; at most 400 lines a glue module).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "latent_upscale"
#: "No module over about 400 lines" (issue 13); the margin keeps a module near the line from
#: failing over a docstring. Split a module along its concerns rather than raising this.
MAX_LINES = 420


def _modules() -> dict[str, Path]:
    """``{dotted name: path}`` of every module in the package (a package by its ``__init__.py``)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _import_time_dependencies(path: Path, modules: dict[str, Path]) -> set[str]:
    """The package modules ``path`` imports when it is imported: top-level imports (inside ``try``
    and ``if`` too), not those in functions or under ``if TYPE_CHECKING``."""
    names: set[str] = set()
    pending = list(ast.parse(path.read_text(encoding="utf-8")).body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            pending += node.orelse
        elif isinstance(node, (ast.If, ast.Try)):
            pending += [child for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt)]
            pending += [stmt for handler in getattr(node, "handlers", []) for stmt in handler.body]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
    return {name for name in names if name in modules}


def test_no_module_in_the_package_is_over_the_line_limit():
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in _modules().items()}
    offenders = {name: lines for name, lines in sizes.items() if lines > MAX_LINES}
    assert not offenders, f"modules over {MAX_LINES} lines (split them along their concerns): " + ", ".join(
        f"{name} ({lines})" for name, lines in sorted(offenders.items(), key=lambda item: -item[1])
    )


def test_the_package_has_no_import_cycle_at_import_time():
    modules = _modules()
    graph = {name: _import_time_dependencies(path, modules) - {name} for name, path in modules.items()}
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        assert name not in path, f"import cycle: {' -> '.join([*path[path.index(name) :], name])}"
        if name in done:
            return
        for dependency in sorted(graph[name]):
            visit(dependency, [*path, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])


def _all_imports(path: Path) -> set[str]:
    """Every module ``path`` names in an import, wherever the import stands (functions included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith(LAB):
            names.add(node.value)  # importlib.import_module("latent_upscale.lab…") and monkeypatch strings
    return names


LAB = "latent_upscale.lab"


def test_no_product_module_imports_the_lab_at_import_time_or_in_a_function():
    """The CLI's ``bench`` and ``demo`` subcommands are the lab's doors and may import it."""
    offenders = {}
    for name, path in _modules().items():
        if (
            name == LAB
            or name.startswith(LAB + ".")
            or name == "latent_upscale.cli"
            or name.startswith("latent_upscale.cli.")
        ):
            continue
        lab = sorted(imported for imported in _all_imports(path) if imported.startswith(LAB))
        if lab:
            offenders[name] = lab
    assert not offenders, f"product modules importing the lab (move the code or invert the call): {offenders}"


def test_the_lab_fitness_check_notices_an_injected_lab_import(tmp_path):
    module = tmp_path / "product.py"
    module.write_text("def f():\n    from latent_upscale.lab.bench import run_bench\n", encoding="utf-8")
    assert any(name.startswith(LAB) for name in _all_imports(module))

"""Fitness tests for the package's shape: small modules, no import cycle between them (at import
time, nor through imports inside functions), and no product module importing the lab.

The WebUI glue has its own, stricter checks in ``test_webui_settings_and_hint.py`` (only ``host.py``
imports the host; at most 400 lines a glue module).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "latent_upscale"
#: No module over about 400 lines, so each can be read in one sitting; the margin keeps a module
#: near the line from failing over a docstring. Split a module along its concerns rather than raising this.
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


def _first_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (``[a, b, …, a]``), or ``None``."""
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str] | None:
        if name in path:
            return [*path[path.index(name) :], name]
        if name in done:
            return None
        for dependency in sorted(graph.get(name, ())):
            cycle = visit(dependency, [*path, name])
            if cycle:
                return cycle
        done.add(name)
        return None

    return next((cycle for name in sorted(graph) if (cycle := visit(name, []))), None)


def test_the_package_has_no_import_cycle_at_import_time():
    modules = _modules()
    graph = {name: _import_time_dependencies(path, modules) - {name} for name, path in modules.items()}
    cycle = _first_cycle(graph)
    assert cycle is None, f"import cycle: {' -> '.join(cycle)}"


def _dependencies_anywhere(path: Path, modules: dict[str, Path]) -> set[str]:
    """The package modules ``path`` imports anywhere (inside functions too). ``from pkg import mod``
    counts as depending on ``mod`` alone when every name it imports is a module."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = {f"{node.module}.{alias.name}" for alias in node.names}
            names |= subs if subs <= modules.keys() else subs | {node.module}
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
    return {name for name in names if name in modules}


def test_the_package_has_no_import_cycle_even_through_imports_inside_functions():
    """A function-level import hides a cycle from Python, not from the reader: two modules that need
    each other are one concern written twice (the weight search once was)."""
    modules = _modules()
    graph = {name: _dependencies_anywhere(path, modules) - {name} for name, path in modules.items()}
    cycle = _first_cycle(graph)
    assert cycle is None, f"import cycle (through imports inside functions): {' -> '.join(cycle)}"


def test_the_cycle_check_notices_a_cycle_through_a_function_level_import(tmp_path):
    module = tmp_path / "status.py"
    module.write_text("def f():\n    from latent_upscale.neural.resolution import resolve_weights\n")
    modules = _modules()
    found = _dependencies_anywhere(module, modules)
    assert found == {"latent_upscale.neural.resolution"}
    graph = {
        "latent_upscale.neural.status": found,
        "latent_upscale.neural.resolution": {"latent_upscale.neural.status"},
    }
    assert _first_cycle(graph) is not None


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

"""The layer rules of docs/architecture.md, checked on the source: every import counts, also the
ones inside functions and under ``if TYPE_CHECKING:`` (a type-only import is still a dependency
the layer below must not have).

1. Services, the CLI, the models and the solver never import ``app.api``: the routers are a thin
   face on the services, never the other way round.
2. The solver is the pure optimisation core: dataclasses in, dataclasses out; it imports neither
   the database (``sqlalchemy``, ``app.models``), nor the web (``fastapi``), nor the services.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent  # the directory holding app/


def _module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(root: Path, path: Path) -> set[str]:
    """Every module ``path`` imports (relative imports resolved), wherever the import statement is."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _module_name(root, path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _violations(packages: list[str], forbidden: list[str], root: Path = ROOT) -> list[str]:
    """One line per module of ``packages`` that imports a ``forbidden`` module or a submodule of one."""
    out = []
    for package in packages:
        for path in sorted((root / package.replace(".", "/")).rglob("*.py")):
            imported = _imports(root, path)
            bad = sorted(name for name in imported if any(name == f or name.startswith(f + ".") for f in forbidden))
            if bad:
                out.append(f"{path.relative_to(root)} imports {', '.join(bad)}")
    return out


@pytest.mark.parametrize("package", ["app.services", "app.cli", "app.models", "app.solver"])
def test_layer_below_the_api_does_not_import_it(package):
    assert _violations([package], ["app.api"]) == []


def test_solver_imports_no_database_web_or_service_code():
    assert _violations(["app.solver"], ["sqlalchemy", "fastapi", "app.models", "app.services"]) == []


def test_the_checks_see_relative_and_local_imports(tmp_path):
    """The rules cannot be dodged by a relative import inside a function: a planted one is found."""
    (tmp_path / "app" / "solver").mkdir(parents=True)
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "solver" / "__init__.py").write_text("")
    (tmp_path / "app" / "solver" / "sneaky.py").write_text(
        "def f():\n    from ..api.schemas import X\n    import sqlalchemy.orm\n    return X\n"
    )
    assert _violations(["app.solver"], ["app.api", "sqlalchemy"], root=tmp_path) == [
        "app/solver/sneaky.py imports app.api.schemas, app.api.schemas.X, sqlalchemy.orm"
    ]


def test_the_api_and_the_cli_load_without_or_tools():
    """The solver's OR-Tools stages load when a solve starts (``app.solver.solve`` is lazy), so
    the API process, whose solves run in another process, and the CLI start without them."""
    code = "import sys, app.api.main, app.cli; print(sorted(m for m in sys.modules if m.startswith('ortools')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"

"""The CLI package: ``python -m cnn_core`` works and its modules import each other one way only."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import cnn_core.cli

CLI = Path(cnn_core.cli.__file__).parent


def _imports_within_cli(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cnn_core.cli."):
            found.add(node.module.rsplit(".", 1)[1])
        if isinstance(node, ast.ImportFrom) and node.module == "cnn_core.cli":
            found.add("__init__")
    return found


def test_the_cli_modules_have_no_import_circle():
    graph = {p.stem: _imports_within_cli(p) for p in CLI.glob("*.py") if p.stem != "__init__"}
    assert all("__init__" not in deps for deps in graph.values()), "modules import the package"

    def reaches(start, target, seen=()):
        return any(dep == target or (dep not in seen and reaches(dep, target, (*seen, dep)))
                   for dep in graph.get(start, ()))

    assert not [name for name in graph if reaches(name, name)]


def test_python_m_cnn_core_runs_in_a_fresh_process(workspace):
    result = subprocess.run([sys.executable, "-m", "cnn_core", "--workspace", str(workspace), "runs"],
                            capture_output=True, text=True, cwd=CLI.parent.parent, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "No runs yet" in result.stdout

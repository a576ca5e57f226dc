"""The floors of the package hold: every import goes down, none hides in a function.

STYLE.md ("Layout we aim for") puts each module on a floor: the screens and the socket
handlers (`web`, `live`) and the command line on top, the domain under them, `push` and
the scheduler below, configuration and models at the bottom, and the sorting engine
(`clustering`) apart, knowing neither Flask nor the database. A floor may import the
floors below it, never one above. A layout that is only written down erodes one
convenient import at a time, so it is checked here, inside `make test`, hence in CI:

- import-linter checks the contracts of pyproject.toml `[tool.importlinter]` (the
  floors; the engine without Flask or models; the domain without `web` or `live`);
- scripts/import_graph.py fails on any import cycle, and on imports of the package's own
  modules moved inside functions to dodge one, which import-linter counts as ordinary
  imports and so cannot tell apart.

`make lint` runs the same two checks.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The venv's own interpreter runs import-linter's command (its `lint-imports` script);
# `python -m importlinter.cli` would do nothing, that module has no `__main__` block.
# No cache: it would leave `.import_linter_cache/` in the work tree.
LINT_IMPORTS = [
    sys.executable,
    "-c",
    "from importlinter.cli import lint_imports_command; lint_imports_command()",
    "--no-cache",
    "--no-logo",
]


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_import_contracts_are_kept():
    done = _run(LINT_IMPORTS)
    assert done.returncode == 0, f"lint-imports failed:\n{done.stdout}\n{done.stderr}"


def test_no_import_cycle_nor_hidden_import():
    done = _run([sys.executable, "scripts/import_graph.py", "--list"])
    assert done.returncode == 0, f"scripts/import_graph.py failed:\n{done.stdout}\n{done.stderr}"

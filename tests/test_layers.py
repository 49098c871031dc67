"""The layers of DESIGN.md hold: import-linter's contracts in pyproject.toml (also run by `make lint`)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_no_import_runs_from_a_lower_layer_up():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    answer = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert answer.returncode == 0, answer.stdout + answer.stderr
    assert "Contracts: 2 kept, 0 broken." in answer.stdout

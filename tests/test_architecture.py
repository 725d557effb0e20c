"""DESIGN §2's dependency rules, enforced by import-linter in the test run (not by review)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_import_contracts_hold() -> None:
    exe = Path(sys.executable).parent / "lint-imports"
    proc = subprocess.run([str(exe), "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_modules_stay_small() -> None:
    """Modules under ~400 lines, named for what they own (DESIGN §10.8)."""
    too_big = []
    for pkg in ("kiosk", "portal_client", "devices"):
        for path in (REPO / pkg).rglob("*.py"):
            if "node_modules" in path.parts:
                continue
            lines = path.read_text(encoding="utf-8").count("\n")
            if lines > 450:
                too_big.append(f"{path.relative_to(REPO)} ({lines} lines)")
    assert not too_big, "split these modules: " + ", ".join(too_big)

"""Insurance-card tests: the ``manifest`` fixture (helpers live in ins_photos.py: a unique module name)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ins_photos import FIXTURES


@pytest.fixture(scope="session")
def manifest() -> dict[str, Any]:
    return json.loads((FIXTURES / "manifest.json").read_text(encoding="utf-8"))

"""Daily queue numbers ("A-017"), kept in a small JSON file (no personal data) so a restart never repeats one."""

from __future__ import annotations

import json
import os
import threading
from datetime import date
from pathlib import Path


class FileQueueNumbers:
    def __init__(self, path: Path, prefix: str = "A") -> None:
        self._path = path
        self._prefix = prefix
        self._lock = threading.Lock()

    def _read(self) -> dict[str, int]:
        try:
            data = json.loads(self._path.read_text())
        except (FileNotFoundError, ValueError):
            return {}
        return {str(k): int(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def next_number(self, day: date) -> str:
        with self._lock:
            counts = self._read()
            key = day.isoformat()
            n = counts.get(key, 0) + 1
            tmp = self._path.with_suffix(".tmp")
            self._path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps({key: n}))  # only today's counter is kept
            os.replace(tmp, self._path)
        return f"{self._prefix}-{n:03d}" if self._prefix else f"{n:03d}"

    def issued_today(self, day: date) -> int:
        return self._read().get(day.isoformat(), 0)

"""Typed reading of a backend's options (the `[devices.<kind>]` table of the config file).

Every backend's ``from_options`` reads its keys through :class:`OptionReader` and calls :meth:`finish`,
which rejects unknown keys. Errors are :class:`DeviceSetupError` naming the kind, the backend, the key,
the value and what was expected (option values are configuration, never personal data).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from devices.errors import DeviceSetupError


class OptionReader:
    def __init__(self, kind: str, backend: str, options: Mapping[str, Any]) -> None:
        if not isinstance(options, Mapping):
            raise DeviceSetupError(
                f"{kind} backend {backend!r}: options must be a table of key = value, got {type(options).__name__}"
            )
        self.kind = kind
        self.backend = backend
        self._options = dict(options)
        self._seen: set[str] = set()

    # -- errors -------------------------------------------------------------------------------------------
    def error(self, key: str, value: Any, expected: str) -> DeviceSetupError:
        return DeviceSetupError(
            f"{self.kind} backend {self.backend!r}: option {key!r} = {value!r} is invalid; expected {expected}"
        )

    def _get(self, key: str) -> tuple[bool, Any]:
        self._seen.add(key)
        if key in self._options:
            return True, self._options[key]
        return False, None

    def get_raw(self, key: str) -> tuple[bool, Any]:
        """(present, value) for options whose shape the backend checks itself."""
        return self._get(key)

    # -- typed getters ------------------------------------------------------------------------------------
    def get_str(self, key: str, default: str, *, choices: Sequence[str] | None = None) -> str:
        found, value = self._get(key)
        if not found:
            return default
        if not isinstance(value, str):
            raise self.error(key, value, "a string")
        if choices is not None and value not in choices:
            raise self.error(key, value, "one of " + ", ".join(repr(c) for c in choices))
        return value

    def get_optional_str(self, key: str) -> str | None:
        found, value = self._get(key)
        if not found or value is None:
            return None
        if not isinstance(value, str):
            raise self.error(key, value, "a string")
        return value

    def get_bool(self, key: str, default: bool) -> bool:
        found, value = self._get(key)
        if not found:
            return default
        if not isinstance(value, bool):
            raise self.error(key, value, "true or false")
        return value

    def get_int(
        self, key: str, default: int, *, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        found, value = self._get(key)
        if not found:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, value, "an integer")
        self._check_range(key, value, minimum, maximum)
        return value

    def get_float(
        self, key: str, default: float, *, minimum: float | None = None, maximum: float | None = None
    ) -> float:
        found, value = self._get(key)
        if not found:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(key, value, "a number")
        self._check_range(key, value, minimum, maximum)
        return float(value)

    def get_optional_float(self, key: str, *, minimum: float | None = None) -> float | None:
        found, value = self._get(key)
        if not found or value is None:
            return None
        self._seen.discard(key)
        return self.get_float(key, 0.0, minimum=minimum)

    def get_str_list(self, key: str, default: Sequence[str]) -> list[str]:
        found, value = self._get(key)
        if not found:
            return list(default)
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise self.error(key, value, "a list of strings")
        if not all(isinstance(v, str) for v in value):
            raise self.error(key, value, "a list of strings")
        return list(value)

    def get_optional_path(self, key: str) -> Path | None:
        found, value = self._get(key)
        if not found or value is None:
            return None
        if not isinstance(value, (str, Path)) or str(value) == "":
            raise self.error(key, value, "a path")
        return Path(value).expanduser()

    def _check_range(self, key: str, value: float, minimum: float | None, maximum: float | None) -> None:
        if minimum is not None and value < minimum:
            raise self.error(key, value, f"a number >= {minimum}")
        if maximum is not None and value > maximum:
            raise self.error(key, value, f"a number <= {maximum}")

    # -- end ----------------------------------------------------------------------------------------------
    def finish(self) -> None:
        """Reject keys nobody asked for (typos must not be ignored)."""
        unknown = sorted(set(self._options) - self._seen)
        if unknown:
            known = ", ".join(sorted(self._seen)) or "(none)"
            raise DeviceSetupError(
                f"{self.kind} backend {self.backend!r}: unknown option(s) {', '.join(map(repr, unknown))}; "
                f"known options: {known}"
            )

"""Test hooks of the sandbox server (``faults.mjs``, ``auth.mjs``): real HTTP failures from a real server.

    admin = SandboxAdmin(sandbox.root_url)
    admin.fault("status", status=503, retry_after=7)   # the next transaction answers 503 + Retry-After
    admin.fault("hangup", skip=1)                      # the 2nd transaction is applied, then the line drops
    admin.fault("drop", count=3, transactions_only=False)  # three requests find the server "down"
    admin.fault("delay", delay_ms=3000)                # applied, answered 3 s late (past a client timeout)
    admin.revoke_tokens()                              # every issued access token stops working
"""

from __future__ import annotations

from typing import Any, Literal

import httpx

FaultMode = Literal["status", "drop", "hangup", "delay"]


class SandboxAdmin:
    def __init__(self, root_url: str, *, timeout: float = 10.0) -> None:
        self.root_url = root_url.rstrip("/")
        self._timeout = timeout

    def _call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        response = httpx.request(method, self.root_url + path, json=body, timeout=self._timeout)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    def fault(
        self,
        mode: FaultMode,
        *,
        count: int = 1,
        skip: int = 0,
        status: int = 503,
        retry_after: float | str | None = None,
        delay_ms: int = 0,
        transactions_only: bool = True,
    ) -> dict[str, Any]:
        rule: dict[str, Any] = {
            "mode": mode,
            "count": count,
            "skip": skip,
            "status": status,
            "delay_ms": delay_ms,
            "transactions_only": transactions_only,
        }
        if retry_after is not None:
            rule["retry_after"] = str(retry_after)
        return self._call("POST", "/$faults", rule)

    def faults(self) -> dict[str, Any]:
        """``{"rules": [what is left], "hits": n}``."""
        return self._call("GET", "/$faults")

    def clear_faults(self) -> None:
        self._call("DELETE", "/$faults")

    def revoke_tokens(self) -> int:
        return int(self._call("POST", "/$auth/revoke")["revoked"])

    def auth_stats(self) -> dict[str, Any]:
        """``{"issued", "refused_assertions", "refused_requests", "active", "clients"}``."""
        return self._call("GET", "/$auth/stats")

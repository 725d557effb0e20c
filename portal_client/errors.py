"""One exception tree for the back-end client, split by phase (after httpx's _exceptions.py).

    BackendError (kiosk.flow.ports.PortError)
    ├── BackendUnavailable (ServiceUnavailable)   connect/read timeout, DNS, 5xx, 429: retry later
    │   └── BackendTimeout                        no answer within the timeout
    ├── BackendRejected (Rejected)                4xx with an OperationOutcome: dead-letter, alert staff
    │   ├── PreconditionFailed                    412 (If-Match lost): re-read and retry
    │   └── NotFound                              404 / 410
    └── AuthError (Rejected)                      401/403: re-authenticate, then alert

Messages carry the status, method and resource type only: never a URL query (it may hold a name or DOB)
and never a response body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kiosk.flow.ports import PortError, Rejected, ServiceUnavailable


class BackendError(PortError):
    key = "backend_error"

    def __init__(
        self,
        message: str = "",
        *,
        status: int | None = None,
        outcome: Mapping[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.outcome = outcome  # the OperationOutcome, kept for staff; not logged
        self.retry_after = retry_after


class BackendUnavailable(BackendError, ServiceUnavailable):
    key = "backend_unavailable"


class BackendTimeout(BackendUnavailable):
    key = "backend_timeout"


class BackendRejected(BackendError, Rejected):
    key = "backend_rejected"


class PreconditionFailed(BackendRejected):
    key = "backend_conflict"


class NotFound(BackendRejected):
    key = "backend_not_found"


class AuthError(BackendError, Rejected):
    key = "backend_auth"

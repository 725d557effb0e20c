"""Settings sections for operating the kiosk (DESIGN §7, §8): staff unlock and audit, local metrics, the
monitor view. Part of ``kiosk.settings`` (split out to keep modules small); import them from there."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StaffSection(_Section):
    """Staff unlock (DESIGN §7): PIN hashes (``kiosk staff hash-pin``) and/or badges; lockout; the audit log."""

    pin_hash_file: Path | None = None  # lines "<staff id>:scrypt$..." (mode 0600); see kiosk.staff.pin
    pin_hash_env: str = ""  # a variable holding one such line (takes precedence when set)
    badge_allow_list_file: Path | None = None  # one badge UID per line (devices.smartcard.badges)
    max_failures: int = Field(default=5, ge=1, le=20)  # wrong PINs in a row before a lockout
    lockout_s: float = Field(default=30.0, gt=0, le=3600)  # first lockout; doubles up to lockout_max_s
    lockout_max_s: float = Field(default=900.0, gt=0, le=86400)
    unlock_timeout_s: float = Field(default=120.0, ge=10, le=3600)  # staff mode locks itself when unused
    audit_max_bytes: int = Field(default=1_000_000, ge=10_000, le=100_000_000)  # then the log rotates
    audit_backups: int = Field(default=5, ge=1, le=100)
    audit_to_backend: bool = True  # also an AuditEvent per action, through the outbox

    @model_validator(mode="after")
    def _lockout_range(self) -> StaffSection:
        if self.lockout_max_s < self.lockout_s:
            raise ValueError("lockout_max_s must be at least lockout_s")
        return self

    @property
    def configured(self) -> bool:
        return bool(self.pin_hash_file or self.pin_hash_env or self.badge_allow_list_file)


class MetricsSection(_Section):
    """``/metrics`` (Prometheus text) and ``/healthz`` for practice IT; a token when not on loopback."""

    enabled: bool = False
    host: str = Field(default="127.0.0.1", min_length=1)
    port: int = Field(default=9108, ge=0, le=65535)  # 0 = any free port (tests)
    token_file: Path | None = None
    token_env: str = ""

    @model_validator(mode="after")
    def _token_off_loopback(self) -> MetricsSection:
        if self.host not in LOOPBACK_HOSTS and not (self.token_file or self.token_env):
            raise ValueError("a host other than 127.0.0.1 needs token_file or token_env (a bearer token)")
        return self


class MonitorSection(_Section):
    """`kiosk monitor`: every kiosk's Device resource, read from the back-end."""

    refresh_s: float = Field(default=15.0, ge=1, le=3600)
    offline_after_s: float = Field(default=120.0, ge=10, le=86400)  # no heartbeat for this long: offline
    outbox_backlog: int = Field(default=10, ge=1, le=100_000)  # rows waiting at or above this: an alert
    clock_skew_s: float = Field(default=120.0, ge=1, le=86400)  # kiosk clock vs the server's: an alert

"""Typed settings loaded once from one TOML file (DESIGN §8).

A wrong file is reported with the file, the key, the value and what is expected::

    config/lobby.toml: [practice.checkin_window] early_minutes = "soon": expected a whole number

Relative paths in the file are relative to the folder that holds the file. Secrets are never values in the
file: they are paths to files with strict permissions, or names of environment variables.
"""

from __future__ import annotations

import os
import tomllib
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from kiosk.settings_ops import MetricsSection, MonitorSection, StaffSection

REPO_CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
DEFAULT_CONFIG = REPO_CONFIG_DIR / "default.toml"
KNOWN_LANGUAGES = ("en", "es", "zh", "vi")


class ConfigError(Exception):
    """A configuration file that cannot be used. ``problems`` lists one line per wrong key."""

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        self.path = str(path)
        self.problems = problems
        super().__init__("\n".join(f"{self.path}: {p}" for p in problems))


def _money(value: Any) -> int:
    """Dollars (25, 25.5, "25.00") → cents. Rejects negatives and fractions of a cent."""
    if isinstance(value, bool):
        raise ValueError("expected an amount such as 25.00")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError("expected an amount such as 25.00") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError("expected an amount of 0 or more, such as 25.00")
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValueError("expected at most two decimals, such as 25.50")
    return int(cents)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KioskSection(_Section):
    id: str = Field(default="kiosk-1", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    mode: Literal["kiosk", "tablet"] = "kiosk"
    data_dir: Path = Path("../var/kiosk")
    languages: list[str] = Field(default_factory=lambda: ["en", "es"], min_length=1)
    default_language: str = "en"
    queue_prefix: str = Field(default="A", max_length=3)

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in KNOWN_LANGUAGES]
        if unknown:
            raise ValueError(f"expected language codes from {list(KNOWN_LANGUAGES)}")
        return value

    @model_validator(mode="after")
    def _default_is_offered(self) -> KioskSection:
        if self.default_language not in self.languages:
            raise ValueError("default_language must be one of languages")
        return self


class CheckinWindow(_Section):
    early_minutes: int = Field(default=60, ge=0, le=24 * 60)
    late_minutes: int = Field(default=15, ge=0, le=24 * 60)


class DeskRules(_Section):
    visit_types: list[str] = Field(default_factory=list)
    providers: list[str] = Field(default_factory=list)
    balance_limit: int | None = None  # cents; a balance above it sends the patient to the desk

    @field_validator("balance_limit", mode="before")
    @classmethod
    def _balance(cls, value: Any) -> int | None:
        return None if value is None else _money(value)


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("expected an IANA time zone such as America/New_York") from None
    return value


class PracticeSection(_Section):
    name: str = Field(default="Demo Clinic", min_length=1, max_length=80)
    timezone: Annotated[str, AfterValidator(_timezone)] = "America/New_York"
    default_wait_area: str = "the waiting room"
    wait_areas: dict[str, str] = Field(default_factory=dict)  # location id or name -> where to wait
    checkin_window: CheckinWindow = Field(default_factory=CheckinWindow)
    desk_rules: DeskRules = Field(default_factory=DeskRules)


class PaymentSection(_Section):
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    default_copay: int | None = None
    copay_by_visit_type: dict[str, int] = Field(default_factory=dict)
    default_self_pay: int | None = None
    self_pay_by_visit_type: dict[str, int] = Field(default_factory=dict)

    @field_validator("default_copay", "default_self_pay", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> int | None:
        return None if value is None else _money(value)

    @field_validator("copay_by_visit_type", "self_pay_by_visit_type", mode="before")
    @classmethod
    def _table(cls, value: Any) -> dict[str, int]:
        if not isinstance(value, dict):
            raise ValueError("expected a table of visit type = amount")
        return {str(k): _money(v) for k, v in value.items()}


class StepsSection(_Section):
    demographics: bool = True
    insurance: bool = True
    forms: bool = True
    consents: bool = True
    payment: bool = True
    ticket: bool = True


class IdentifySection(_Section):
    max_attempts: int = Field(default=3, ge=1, le=10)
    reminder_secret_file: Path | None = None
    reminder_secret_env: str = ""
    reminder_max_age_days: int = Field(default=14, ge=1, le=365)


class SmartSection(_Section):
    """SMART Backend Services: the kiosk signs a JWT with its own key and gets an access token."""

    client_id: str = ""
    private_key_file: Path | None = None  # PEM, unencrypted, mode 0600 (RSA for RS384, EC P-384 for ES384)
    algorithm: Literal["RS384", "ES384"] = "RS384"
    key_id: str = ""  # the "kid" registered with the public key; "" = the key's RFC 7638 thumbprint
    scope: str = ""  # "" = what the kiosk reads and writes (portal_client.auth.DEFAULT_SCOPE)
    token_endpoint: str = Field(default="", pattern=r"^(https?://\S+)?$")  # "" = discovered from base_url


class BackendSection(_Section):
    base_url: str = Field(default="http://127.0.0.1:8103/fhir/R4", pattern=r"^https?://\S+$")
    timeout_s: float = Field(default=10.0, gt=0, le=120)
    auth: Literal["none", "bearer", "smart"] = "none"
    token_file: Path | None = None
    token_env: str = ""
    verify_tls: bool = True
    ca_file: Path | None = None
    client_cert_file: Path | None = None
    client_key_file: Path | None = None
    # Some servers cap transaction size (Medplum: 8 entries when a conditional create is inside); a larger
    # check-in then goes out as consecutive, individually idempotent transactions. 0 = no cap.
    max_transaction_entries: int = Field(default=8, ge=0, le=1000)
    smart: SmartSection = Field(default_factory=SmartSection)

    @model_validator(mode="after")
    def _token_source(self) -> BackendSection:
        if self.auth == "bearer" and not (self.token_file or self.token_env):
            raise ValueError('auth = "bearer" needs token_file or token_env')
        if self.auth == "smart" and not (self.smart.client_id and self.smart.private_key_file):
            raise ValueError('auth = "smart" needs [backend.smart] client_id and private_key_file')
        if self.client_key_file and not self.client_cert_file:
            raise ValueError("client_key_file needs client_cert_file (the client certificate for mutual TLS)")
        return self


class OutboxSection(_Section):
    key_file: Path = Path("../var/keys/outbox.key")  # keep it OUTSIDE data_dir
    dead_retention_days: int = Field(default=30, ge=1, le=3650)


class SyncSection(_Section):
    enabled: bool = True
    idle_poll_s: float = Field(default=5.0, gt=0, le=3600)
    max_backoff_s: float = Field(default=300.0, gt=0, le=86400)


class OfflineSection(_Section):
    """Today's schedule kept on the kiosk (encrypted, purged at the end of the day) for back-end outages."""

    prefetch: bool = False
    refresh_minutes: int = Field(default=30, ge=1, le=720)


class HeartbeatSection(_Section):
    """The kiosk's own Device resource on the back-end (status, devices, outbox), for the monitor view."""

    enabled: bool = True
    interval_s: float = Field(default=60.0, ge=5, le=3600)


class UiSection(_Section):
    fullscreen: bool = False
    window_width: int = Field(default=1280, ge=320, le=7680)
    window_height: int = Field(default=800, ge=320, le=7680)
    idle_timeout_s: int = Field(default=90, ge=10, le=3600)
    idle_warning_s: int = Field(default=30, ge=5, le=600)
    done_screen_s: int = Field(default=10, ge=2, le=120)

    @model_validator(mode="after")
    def _warning_fits(self) -> UiSection:
        if self.idle_warning_s >= self.idle_timeout_s:
            raise ValueError("idle_warning_s must be shorter than idle_timeout_s")
        return self


class DeviceSection(BaseModel):
    """``backend`` picks the implementation; every other key is that backend's option (checked by it)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    enabled: bool = True
    backend: str = "simulated"

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class DevicesSection(_Section):
    camera: DeviceSection = Field(default_factory=DeviceSection)
    barcode: DeviceSection = Field(default_factory=DeviceSection)
    smartcard: DeviceSection = Field(default_factory=DeviceSection)
    payment: DeviceSection = Field(default_factory=DeviceSection)
    printer: DeviceSection = Field(default_factory=DeviceSection)
    insurance: DeviceSection = Field(default_factory=DeviceSection)
    # Read-aloud (headphones): tablets keep it too, a patient with low vision is handed one as well.
    speech: DeviceSection = Field(default_factory=DeviceSection)


class Settings(_Section):
    kiosk: KioskSection = Field(default_factory=KioskSection)
    practice: PracticeSection = Field(default_factory=PracticeSection)
    payment: PaymentSection = Field(default_factory=PaymentSection)
    steps: StepsSection = Field(default_factory=StepsSection)
    identify: IdentifySection = Field(default_factory=IdentifySection)
    backend: BackendSection = Field(default_factory=BackendSection)
    outbox: OutboxSection = Field(default_factory=OutboxSection)
    sync: SyncSection = Field(default_factory=SyncSection)
    offline: OfflineSection = Field(default_factory=OfflineSection)
    heartbeat: HeartbeatSection = Field(default_factory=HeartbeatSection)
    staff: StaffSection = Field(default_factory=StaffSection)
    metrics: MetricsSection = Field(default_factory=MetricsSection)
    monitor: MonitorSection = Field(default_factory=MonitorSection)
    ui: UiSection = Field(default_factory=UiSection)
    devices: DevicesSection = Field(default_factory=DevicesSection)
    # Where the file was loaded from: relative paths resolve against its folder.
    source: Path | None = Field(default=None, exclude=True)
    # The file's values as written (amounts in dollars etc.): overrides are merged into these and validated
    # again, so nothing is converted twice.
    _raw: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _tablet_has_staff(self) -> Settings:
        if self.kiosk.mode == "tablet" and not self.staff.configured:
            raise ValueError('[kiosk] mode = "tablet" needs staff unlock: [staff] pin_hash_file, pin_hash_env '
                             "or badge_allow_list_file")
        return self

    # -- paths -----------------------------------------------------------------------------------------
    def resolve(self, path: Path) -> Path:
        path = path.expanduser()
        if path.is_absolute():
            return path
        base = self.source.parent if self.source else Path.cwd()
        return (base / path).resolve()

    @property
    def data_dir(self) -> Path:
        return self.resolve(self.kiosk.data_dir)

    @property
    def outbox_key_path(self) -> Path:
        return self.resolve(self.outbox.key_file)

    def _secret(self, env: str, file: Path | None, *, missing_ok: bool) -> bytes:
        """A secret from its environment variable (precedence) or file; b"" when neither is set."""
        if env and os.environ.get(env):
            return os.environ[env].encode().strip()
        if file is None:
            return b""
        path = self.resolve(file)
        if missing_ok and not path.exists():
            return b""
        return path.read_bytes().strip()

    def reminder_secret(self) -> bytes:
        """The reminder-QR HMAC key from its file or environment variable; empty = QR check-in off."""
        ident = self.identify
        return self._secret(ident.reminder_secret_env, ident.reminder_secret_file, missing_ok=True)

    def bearer_token(self) -> str:
        return self._secret(self.backend.token_env, self.backend.token_file, missing_ok=False).decode()

    def staff_pin_hashes(self) -> str:
        """The staff PIN hash lines (file or variable); "" = no PIN unlock. Raises OSError if unreadable."""
        return self._secret(self.staff.pin_hash_env, self.staff.pin_hash_file, missing_ok=False).decode()

    def metrics_token(self) -> str:
        return self._secret(self.metrics.token_env, self.metrics.token_file, missing_ok=False).decode()

    def with_overrides(self, **sections: dict[str, Any]) -> Settings:
        """A copy with some keys replaced, validated like the file (``backend={"base_url": ...}``).

        Values are given as they would be written in the file (amounts in dollars, paths as text)."""
        data = _merge(self._raw, sections)
        try:
            new = Settings.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(f"{self.source or '<defaults>'} + overrides", _problems(exc, data)) from None
        new = new.model_copy(update={"source": self.source})
        new._raw = data
        return new


def _merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


# -- loading and error reporting ---------------------------------------------------------------------------
_EXPECTED = {
    "int_parsing": "expected a whole number",
    "int_type": "expected a whole number",
    "float_parsing": "expected a number",
    "float_type": "expected a number",
    "bool_parsing": "expected true or false",
    "bool_type": "expected true or false",
    "string_type": "expected text in quotes",
    "list_type": "expected a list such as [\"en\", \"es\"]",
    "dict_type": "expected a table",
    "model_type": "expected a table",
    "extra_forbidden": "unknown key (check the spelling; see config/default.toml for every key)",
    "literal_error": None,
    "string_pattern_mismatch": None,
    "missing": "this key is required",
}


def _lookup(data: Any, loc: tuple[Any, ...]) -> tuple[bool, Any]:
    for part in loc:
        in_dict = isinstance(data, dict) and part in data
        if in_dict or (isinstance(data, list) and isinstance(part, int) and part < len(data)):
            data = data[part]
        else:
            return False, None
    return True, data


def _format_key(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if not str(p).startswith("function-")]
    if not parts:
        return "(top level)"
    if len(parts) == 1:
        return parts[0]
    return f"[{'.'.join(parts[:-1])}] {parts[-1]}"


def _problems(exc: ValidationError, data: dict[str, Any]) -> list[str]:
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        found, value = _lookup(data, loc)
        expected = _EXPECTED.get(err["type"])
        if expected is None:
            msg = err["msg"]
            expected = msg.removeprefix("Value error, ")
            expected = expected.replace("Input should be greater", "expected a value greater")
            expected = expected.replace("Input should be less", "expected a value less")
            expected = expected.replace("Input should be", "expected")
            if err["type"] == "string_pattern_mismatch":
                expected = f"expected text matching {err.get('ctx', {}).get('pattern', '')}"
        key = _format_key(loc)
        if found and not isinstance(value, dict):
            problems.append(f"{key} = {value!r}: {expected}")
        else:
            problems.append(f"{key}: {expected}")
    return problems


def load_settings(path: Path | str | None = None) -> Settings:
    """Read and validate one TOML file (default: config/default.toml). Raises ConfigError."""
    file = Path(path) if path else DEFAULT_CONFIG
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise ConfigError(file, ["file not found"]) from None
    except OSError as exc:
        raise ConfigError(file, [f"cannot read the file ({exc.strerror})"]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(file, ["not UTF-8 text"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(file, [f"not valid TOML: {exc}"]) from None
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(file, _problems(exc, data)) from None
    settings = settings.model_copy(update={"source": file.resolve()})
    settings._raw = data
    return settings

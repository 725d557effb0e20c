"""Settings: the shipped files are valid; a wrong file names the file, the key, the value and what is expected."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.settings import DEFAULT_CONFIG, REPO_CONFIG_DIR, ConfigError, load_settings

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("path", sorted(REPO_CONFIG_DIR.glob("*.toml")), ids=lambda p: p.name)
def test_shipped_configs_are_valid(path: Path) -> None:
    settings = load_settings(path)
    assert settings.kiosk.id
    assert settings.source == path.resolve()


def test_defaults_and_money_in_cents() -> None:
    s = load_settings(DEFAULT_CONFIG)
    assert s.payment.default_copay == 2500
    assert s.payment.copay_by_visit_type["FOLLOWUP"] == 2500
    assert s.practice.desk_rules.balance_limit == 10000
    assert s.devices.printer.backend == "simulated"
    # relative paths resolve against the config file's folder, and the key lives outside the data folder
    assert s.data_dir == (REPO / "var" / "kiosk").resolve()
    assert not s.outbox_key_path.is_relative_to(s.data_dir)
    assert s.reminder_secret()


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "lobby.toml"
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('[kiosk]\nmode = "lobby"\n', "[kiosk] mode = 'lobby': expected 'kiosk' or 'tablet'"),
        ('[practice.checkin_window]\nearly_minutes = "soon"\n',
         "[practice.checkin_window] early_minutes = 'soon': expected a whole number"),
        ("[payment]\ndefault_copay = -3\n", "[payment] default_copay = -3: expected an amount of 0 or more"),
        ("[payment]\ndefault_copay = 2.555\n", "[payment] default_copay = 2.555: expected at most two decimals"),
        ('[practice]\ntimezone = "Mars/Olympus"\n',
         "[practice] timezone = 'Mars/Olympus': expected an IANA time zone"),
        ("[ui]\nidle_timeout_s = 20\nidle_warning_s = 30\n", "idle_warning_s must be shorter than idle_timeout_s"),
        ("[ui]\nfoo = 1\n", "[ui] foo = 1: unknown key"),
        ('[backend]\nauth = "bearer"\n', 'auth = "bearer" needs token_file or token_env'),
        ('[kiosk]\nlanguages = ["en", "xx"]\n', "[kiosk] languages = ['en', 'xx']: expected language codes"),
        ("[kiosk\nid=1", "not valid TOML"),
    ],
)
def test_bad_file_names_file_key_value_and_expectation(tmp_path: Path, toml: str, expected: str) -> None:
    path = _write(tmp_path, toml)
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    message = str(err.value)
    assert message.startswith(str(path) + ": ")
    assert expected in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "nope.toml")


def test_overrides_are_validated() -> None:
    s = load_settings(DEFAULT_CONFIG).with_overrides(backend={"base_url": "http://127.0.0.1:9/fhir/R4"})
    assert s.backend.base_url == "http://127.0.0.1:9/fhir/R4"
    assert s.source == DEFAULT_CONFIG.resolve()
    # amounts stay as written in the file: converted to cents once, not again on every override
    assert s.payment.default_copay == 2500 and s.practice.desk_rules.balance_limit == 10000
    twice = s.with_overrides(devices={"payment": {"delay": 1.5}}, payment={"default_self_pay": 80})
    assert twice.payment.default_copay == 2500 and twice.payment.default_self_pay == 8000
    assert twice.devices.payment.backend == "simulated" and twice.devices.payment.options == {"delay": 1.5}
    assert twice.backend.base_url == "http://127.0.0.1:9/fhir/R4"
    with pytest.raises(ConfigError, match="base_url"):
        s.with_overrides(backend={"base_url": "not a url"})


def test_cli_config_check_reports_bad_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "[ui]\nwindow_width = \"wide\"\n")
    proc = subprocess.run(
        [sys.executable, "-m", "kiosk", "config", "check", str(path)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    assert f"{path}: [ui] window_width = 'wide': expected a whole number" in proc.stderr


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('[backend]\nauth = "smart"\n', 'auth = "smart" needs [backend.smart] client_id and private_key_file'),
        ('[backend.smart]\nalgorithm = "HS256"\n', "[backend.smart] algorithm = 'HS256': expected 'RS384' or 'ES384'"),
        ('[backend.smart]\ntoken_endpoint = "ftp://x"\n', "[backend.smart] token_endpoint = 'ftp://x': expected text"),
        ('[backend]\nclient_key_file = "kiosk.key"\n', "client_key_file needs client_cert_file"),
        ('[backend]\nauth = "oauth"\n', "[backend] auth = 'oauth': expected 'none', 'bearer' or 'smart'"),
        ("[offline]\nrefresh_minutes = 0\n", "[offline] refresh_minutes = 0: expected a value greater than or equal"),
        ("[offline]\nprefetch = 3\n", "[offline] prefetch = 3: expected true or false"),
        ("[heartbeat]\ninterval_s = 1\n", "[heartbeat] interval_s = 1: expected a value greater than or equal to 5"),
    ],
)
def test_back_end_offline_and_heartbeat_keys(tmp_path: Path, toml: str, expected: str) -> None:
    path = _write(tmp_path, toml)
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert str(err.value).startswith(str(path) + ": ") and expected in str(err.value)


def test_new_sections_default_off_or_every_minute() -> None:
    s = load_settings(DEFAULT_CONFIG)
    assert s.offline.prefetch is False and s.offline.refresh_minutes == 30
    assert s.heartbeat.enabled and s.heartbeat.interval_s == 60
    assert s.backend.auth == "none" and s.backend.smart.algorithm == "RS384" and not s.backend.smart.client_id


def _smart_file(tmp_path: Path, key_mode: int | None) -> Path:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    if key_mode is not None:
        key = ec.generate_private_key(ec.SECP384R1())
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())  # fmt: skip
        (tmp_path / "smart.pem").write_bytes(pem)
        (tmp_path / "smart.pem").chmod(key_mode)
    return _write(
        tmp_path,
        '[backend]\nauth = "smart"\n[backend.smart]\nclient_id = "lobby-1"\nprivate_key_file = "smart.pem"\n'
        'algorithm = "ES384"\n',
    )


@pytest.mark.parametrize(
    ("key_mode", "code", "expected"),
    [
        (0o600, 0, "OK (kiosk kiosk-1"),
        (0o644, 2, "[backend.smart] private_key_file = 'smart.pem': private key"),
        (None, 2, "[backend.smart] private_key_file = 'smart.pem': private key"),
    ],
)
def test_cli_config_check_tries_the_smart_key(tmp_path: Path, key_mode: int | None, code: int, expected: str) -> None:
    path = _smart_file(tmp_path, key_mode)
    proc = subprocess.run(
        [sys.executable, "-m", "kiosk", "config", "check", str(path)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == code, proc.stderr
    assert expected in proc.stdout + proc.stderr
    if key_mode == 0o644:
        assert "chmod 600" in proc.stderr
    if key_mode is None:
        assert "cannot read it" in proc.stderr


# -- staff, metrics, monitor -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("[staff]\nmax_failures = 0\n", "[staff] max_failures = 0: expected a value greater than or equal to 1"),
        ("[staff]\nlockout_s = 60\nlockout_max_s = 30\n", "lockout_max_s must be at least lockout_s"),
        ("[staff]\nunlock_timeout_s = 5\n", "[staff] unlock_timeout_s = 5: expected a value greater than or equal"),
        ('[staff]\npin = "1234"\n', "[staff] pin = '1234': unknown key"),
        ("[staff]\naudit_to_backend = 2\n", "[staff] audit_to_backend = 2: expected true or false"),
        ('[metrics]\nhost = "0.0.0.0"\n', "a host other than 127.0.0.1 needs token_file or token_env"),
        ("[metrics]\nport = 70000\n", "[metrics] port = 70000: expected a value less than or equal to 65535"),
        ("[monitor]\noffline_after_s = 1\n", "[monitor] offline_after_s = 1: expected a value greater than or equal"),
        ('[kiosk]\nmode = "tablet"\n[staff]\npin_hash_env = ""\npin_hash_file = ""\n', ""),
    ],
)
def test_staff_metrics_and_monitor_keys(tmp_path: Path, toml: str, expected: str) -> None:
    if not expected:  # a tablet without any staff unlock could never be handed over or taken back
        expected = 'mode = "tablet" needs staff unlock'
        toml = '[kiosk]\nmode = "tablet"\n'
    path = _write(tmp_path, toml)
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert str(err.value).startswith(str(path) + ": ") and expected in str(err.value)


def test_staff_and_metrics_defaults_and_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s = load_settings(DEFAULT_CONFIG)
    assert s.staff.configured and s.staff.max_failures == 5 and s.staff.lockout_s == 30
    assert s.staff.pin_hash_file is not None and s.resolve(s.staff.pin_hash_file).is_file()
    assert "\ndemo:scrypt$16384$" in s.staff_pin_hashes()  # comments stay: the parser skips them
    monkeypatch.setenv("KIOSK_STAFF_PIN_HASH", "anna:scrypt$16$8$1$x$y\n")
    assert s.staff_pin_hashes() == "anna:scrypt$16$8$1$x$y"  # the variable wins
    assert not s.metrics.enabled and s.metrics.host == "127.0.0.1" and s.metrics.port == 9108
    assert s.metrics_token() == ""
    (tmp_path / "token").write_text("s3cret\n")
    lan = _write(tmp_path, '[metrics]\nenabled = true\nhost = "0.0.0.0"\ntoken_file = "token"\n')
    assert load_settings(lan).metrics_token() == "s3cret"
    assert s.monitor.offline_after_s == 120 and s.monitor.refresh_s == 15
    tablet = _write(tmp_path, '[kiosk]\nmode = "tablet"\n[staff]\npin_hash_env = "X"\n')
    assert load_settings(tablet).kiosk.mode == "tablet"

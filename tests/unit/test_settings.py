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

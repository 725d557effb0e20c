"""`kiosk config check` also checks [staff]: the PIN hash file and the badge allow-list can be used."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.settings import DEFAULT_CONFIG


def config_with(tmp_path: Path, pins: str, badges: str | None = None) -> Path:
    (tmp_path / "pins.txt").write_text(pins)
    text = DEFAULT_CONFIG.read_text().replace('pin_hash_file = "demo-staff-pins.txt"', 'pin_hash_file = "pins.txt"')
    if badges is not None:
        (tmp_path / "badges.txt").write_text(badges)
        text = text.replace('# badge_allow_list_file = "staff-badges.txt"', 'badge_allow_list_file = "badges.txt"')
    path = tmp_path / "kiosk.toml"
    path.write_text(text)
    return path


def test_the_demo_pins_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    demo = (DEFAULT_CONFIG.parent / "demo-staff-pins.txt").read_text()
    assert main(["config", "check", str(config_with(tmp_path, demo, "04A1B2C3\n"))]) == 0
    assert "OK" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("pins", "badges", "expected"),
    [
        ("anna:not-a-hash\n", None, "[staff] pin_hash_file line 1"),
        ("", "04A1B2C3\nnot a uid\n", "line 2: not a badge UID"),
    ],
)
def test_unusable_staff_files_fail_the_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pins: str, badges: str | None, expected: str
) -> None:
    assert main(["config", "check", str(config_with(tmp_path, pins, badges))]) == 2
    assert expected in capsys.readouterr().err

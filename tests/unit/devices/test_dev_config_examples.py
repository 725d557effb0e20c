"""config/examples/*.toml (real hardware) pass `kiosk config check`, which validates device options without
touching any device; a wrong option is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.cli import main

EXAMPLES = sorted((Path(__file__).resolve().parents[3] / "config" / "examples").glob("*.toml"))


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_passes_config_check(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check", str(path)]) == 0
    assert "OK" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("replace", "by", "fragment"),
    [
        ('reader_id = "tmr_XXXXXXXXXXXXXX"', 'reader_id = "WisePOS-1"', "option 'reader_id' = 'WisePOS-1'"),
        ('profile = "TM-T20II"', 'profile = "TM-T1000000"', "unknown escpos profile 'TM-T1000000'"),
        ("timeout = 5.0 ", 'timeout = 5.0\ncolour = "red" ', "unknown option(s) 'colour'"),
        ('readers = ["ACR122"]', 'readers = "ACR122"', "option 'readers'"),
    ],
)
def test_a_wrong_device_option_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], replace: str, by: str, fragment: str
) -> None:
    source = next(p for p in EXAMPLES if p.name == "lobby-network.toml").read_text()
    assert replace in source
    broken = tmp_path / "lobby.toml"
    broken.write_text(source.replace(replace, by))
    assert main(["config", "check", str(broken)]) == 2
    assert fragment in capsys.readouterr().err

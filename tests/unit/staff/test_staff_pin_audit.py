"""Staff PIN hashes (scrypt, constant-time check, hash files) and the append-only, rotated audit log."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.staff.audit import FILE_NAME, AuditEntry, AuditLog
from kiosk.staff.pin import PinFormatError, check_pin, hash_pin, parse_line, parse_lines, replace_entry

REPO = Path(__file__).resolve().parents[3]


def fast(pin: str, who: str = "staff") -> str:
    return hash_pin(pin, who, n=2**8).line()


def test_a_hash_checks_its_pin_and_nothing_else() -> None:
    line = hash_pin("246810", "anna").line()  # default cost
    assert line.startswith("anna:scrypt$16384$8$1$") and "246810" not in line
    entry = parse_line(line)
    assert entry.matches("246810") and not entry.matches("246811") and not entry.matches("2468100")
    assert parse_line(line).salt != hash_pin("246810", "anna").salt  # salted: same PIN, another hash


def test_several_staff_members_and_the_default_id() -> None:
    bare = fast("1111").split(":", 1)[1]
    text = f"# front desk\n{fast('123456', 'anna')}\n\n{fast('654321', 'ben')}  # evenings\n{bare}\n"
    hashes = parse_lines(text)
    assert [h.staff_id for h in hashes] == ["anna", "ben", "staff"]
    assert check_pin("654321", hashes) == "ben"
    assert check_pin("1111", hashes) == "staff"
    assert check_pin("000000", hashes) is None


@pytest.mark.parametrize("pin", ["123", "1234567890123", "12a456", "", " 1234", "١٢٣٤"])
def test_pins_the_kiosk_refuses(pin: str) -> None:
    with pytest.raises(ValueError, match="4 to 12 digits"):
        hash_pin(pin)


@pytest.mark.parametrize(
    "line",
    ["anna:scrypt$16384$8$1$c2FsdA==", "anna:bcrypt$16384$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==",
     "anna:scrypt$1000$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==",
     "an na:scrypt$16$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==",
     "anna:scrypt$16$8$1$!!$aGFzaGhhc2hoYXNoaGFzaA=="],
)  # fmt: skip
def test_broken_lines_name_the_line_not_the_content(line: str) -> None:
    with pytest.raises(PinFormatError) as err:
        parse_lines(f"# ok\n{line}\n", source="pins.txt")
    assert "pins.txt line 2" in str(err.value) and "aGFz" not in str(err.value)


def test_replace_entry_keeps_comments_and_other_staff() -> None:
    text = f"# pins\n{fast('1234', 'anna')}\n{fast('5678', 'ben')}\n"
    new = hash_pin("999999", "anna", n=2**8)
    out = replace_entry(text, new)
    hashes = parse_lines(out)
    assert out.startswith("# pins\n") and [h.staff_id for h in hashes] == ["anna", "ben"]
    assert check_pin("999999", hashes) == "anna" and check_pin("1234", hashes) is None
    more = replace_entry(out, hash_pin("4321", "cleo", n=2**8))
    assert [h.staff_id for h in parse_lines(more)] == ["anna", "ben", "cleo"]


def test_cli_hash_pin_writes_a_private_file_and_replaces_the_line(tmp_path: Path) -> None:
    target = tmp_path / "keys" / "pins.txt"
    for pin in ("111111", "222222"):
        proc = subprocess.run([sys.executable, "-m", "kiosk", "staff", "hash-pin", "--id", "anna", "--file",
                               str(target), "--pin-stdin"], input=pin + "\n", capture_output=True, text=True,
                              timeout=60, cwd=REPO)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert pin not in proc.stdout + proc.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    hashes = parse_lines(target.read_text())
    assert len(hashes) == 1 and check_pin("222222", hashes) == "anna" and check_pin("111111", hashes) is None
    bad = subprocess.run([sys.executable, "-m", "kiosk", "staff", "hash-pin", "--pin-stdin"], input="12\n",
                         capture_output=True, text=True, timeout=60, cwd=REPO)  # fmt: skip
    assert bad.returncode == 2 and "4 to 12 digits" in bad.stderr


def test_the_shipped_demo_hash_is_the_documented_demo_pin() -> None:
    hashes = parse_lines((REPO / "config" / "demo-staff-pins.txt").read_text())
    assert check_pin("246810", hashes) == "demo"


# -- the audit log -----------------------------------------------------------------------------------------
class Ticking:
    def __init__(self) -> None:
        self.t = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.t += timedelta(seconds=1)
        return self.t


def test_audit_lines_say_who_what_when_and_are_private(tmp_path: Path) -> None:
    forwarded: list[AuditEntry] = []
    log = AuditLog(tmp_path, "lobby-1", now=Ticking(), forward=forwarded.append)
    log.record("anna", "unlock", detail="pin")
    log.record("badge:0a1b2c3d4e", "reprint_ticket", detail="Jane Doe, 1980-01-02 <b>")
    lines = (tmp_path / FILE_NAME).read_text().splitlines()
    first = json.loads(lines[0])
    assert first["who"] == "anna" and first["action"] == "unlock" and first["kiosk"] == "lobby-1"
    assert first["at"] == "2025-03-04T09:00:01+00:00" and first["outcome"] == "success"
    assert json.loads(lines[1])["detail"] == "JaneDoe1980-01-02b"  # reduced to a code: no spaces, no markup
    assert stat.S_IMODE((tmp_path / FILE_NAME).stat().st_mode) == 0o600
    assert [e.action for e in forwarded] == ["unlock", "reprint_ticket"]
    assert [e.id for e in log.entries()] == [e.id for e in forwarded]
    with pytest.raises(ValueError, match="unknown audit action"):
        log.record("anna", "read_patient_chart")


def test_audit_rotates_and_a_failing_forward_keeps_the_local_line(tmp_path: Path) -> None:
    def broken(entry: AuditEntry) -> None:
        raise OSError("disk full on the back-end side")

    log = AuditLog(tmp_path, "lobby-1", max_bytes=400, backups=2, now=Ticking(), forward=broken)
    written = [log.record("anna", "sync_now", detail=str(i)).id for i in range(20)]
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == [FILE_NAME, f"{FILE_NAME}.1", f"{FILE_NAME}.2"]
    kept = [e.id for e in log.entries()]
    assert kept == written[-len(kept):] and 3 <= len(kept) < 20  # oldest dropped, order kept
    assert all((tmp_path / f).stat().st_size <= 400 + 200 for f in files)

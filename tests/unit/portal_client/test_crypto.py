"""Sealed boxes (AES-256-GCM) and the key file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from portal_client.crypto import (
    KEY_BYTES,
    KeyFileError,
    SealedBox,
    SealedBoxError,
    ensure_outside,
    load_or_create_key,
)


def test_round_trip_and_fresh_nonce_each_time(tmp_path: Path) -> None:
    box = SealedBox.from_key_file(tmp_path / "keys" / "outbox.key")
    secret = b"Chalmers 1974-12-25 ZXQ90817263"
    one, two = box.seal(secret), box.seal(secret)
    assert one != two  # random nonce
    assert secret not in one
    assert box.open(one) == box.open(two) == secret
    assert box.open(box.seal(b"")) == b""


def test_key_file_is_created_0600_once_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "outbox.key"
    old_umask = os.umask(0o022)
    try:
        key = load_or_create_key(path)
    finally:
        os.umask(old_umask)
    assert len(key) == KEY_BYTES
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_or_create_key(path) == key
    sealed = SealedBox(key).seal(b"x")
    assert SealedBox.from_key_file(path).open(sealed) == b"x"


def test_missing_key_without_create(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="does not exist"):
        load_or_create_key(tmp_path / "nope.key", create=False)


@pytest.mark.parametrize("content", [b"", b"not base64 at all!!", b"c2hvcnQ=\n", os.urandom(32)])
def test_corrupted_key_file_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "outbox.key"
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(KeyFileError, match="corrupted"):
        SealedBox.from_key_file(path)


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "outbox.key"
    load_or_create_key(path)
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="readable by others"):
        load_or_create_key(path)


def test_tampering_is_detected(tmp_path: Path) -> None:
    box = SealedBox.from_key_file(tmp_path / "k")
    sealed = bytearray(box.seal(b"payload of a check-in"))
    for position in (len(sealed) - 1, 20, 4):  # tag, ciphertext, nonce
        broken = bytearray(sealed)
        broken[position] ^= 0x01
        with pytest.raises(SealedBoxError, match="failed authentication"):
            box.open(bytes(broken))
    with pytest.raises(SealedBoxError, match="truncated"):
        box.open(bytes(sealed[:10]))
    with pytest.raises(SealedBoxError, match="unknown format"):
        box.open(b"XXXX" + bytes(sealed[4:]))


def test_wrong_key_and_wrong_context_do_not_open(tmp_path: Path) -> None:
    box = SealedBox.from_key_file(tmp_path / "a")
    other = SealedBox.from_key_file(tmp_path / "b")
    sealed = box.seal(b"data", aad=b"row-1")
    with pytest.raises(SealedBoxError):
        other.open(sealed, aad=b"row-1")
    with pytest.raises(SealedBoxError):
        box.open(sealed, aad=b"row-2")
    assert box.open(sealed, aad=b"row-1") == b"data"


def test_key_must_live_outside_the_data_folder(tmp_path: Path) -> None:
    data = tmp_path / "var"
    with pytest.raises(KeyFileError, match="outside"):
        ensure_outside(data / "outbox.key", data)
    with pytest.raises(KeyFileError, match="outside"):
        ensure_outside(data / "sub" / "outbox.key", data)
    ensure_outside(tmp_path / "etc" / "outbox.key", data)


def test_key_creation_is_atomic_and_racers_agree(tmp_path: Path) -> None:
    import threading

    from portal_client.crypto import load_or_create_key

    path = tmp_path / "keys" / "outbox.key"
    keys: list[bytes] = []
    threads = [threading.Thread(target=lambda: keys.append(load_or_create_key(path))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(keys)) == 1 and len(keys) == 8
    assert [p.name for p in path.parent.iterdir()] == ["outbox.key"]  # no temporary file left behind

"""Sealed boxes for data at rest (the outbox): AES-256-GCM from ``cryptography``.

A sealed box is ``b"OCK1" || nonce (12 bytes) || ciphertext+tag``. The 4-byte header names the format
(so a future key rotation or algorithm can coexist); a fresh random nonce per seal. Optional associated
data (``aad``) binds a box to where it is stored (the outbox passes the row's kind and check-in id), so a
box copied into another row does not open.

The key lives in its own file, 32 random bytes in base64 on one line, created with mode 0600 on first use.
Its path is given by the caller and must be outside the data folder (a copy of the data folder alone is
useless). A key file readable by group or others is refused, as ssh does.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import stat
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

log = logging.getLogger(__name__)

MAGIC = b"OCK1"
NONCE_BYTES = 12
KEY_BYTES = 32
_OVERHEAD = len(MAGIC) + NONCE_BYTES + 16


class CryptoError(Exception):
    """A key or a sealed box is unusable. Messages name files and causes, never contents."""


class KeyFileError(CryptoError):
    """The key file is missing (and may not be created), corrupted, or too widely readable."""


class SealedBoxError(CryptoError):
    """A sealed box is truncated, of an unknown format, tampered with, or sealed with another key."""


class SealedBox:
    """Seal/open bytes with one AES-256-GCM key. Thread-safe (no state but the key)."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise KeyFileError(f"an outbox key has {KEY_BYTES} bytes, got {len(key)}")
        self._aead = AESGCM(key)

    @classmethod
    def from_key_file(cls, path: str | os.PathLike[str], *, create: bool = True) -> SealedBox:
        return cls(load_or_create_key(Path(path), create=create))

    def seal(self, plaintext: bytes, *, aad: bytes = b"") -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return MAGIC + nonce + self._aead.encrypt(nonce, plaintext, aad or None)

    def open(self, sealed: bytes, *, aad: bytes = b"") -> bytes:
        if len(sealed) < _OVERHEAD:
            raise SealedBoxError("sealed box is truncated")
        if sealed[: len(MAGIC)] != MAGIC:
            raise SealedBoxError("sealed box has an unknown format")
        nonce = sealed[len(MAGIC) : len(MAGIC) + NONCE_BYTES]
        try:
            return self._aead.decrypt(nonce, sealed[len(MAGIC) + NONCE_BYTES :], aad or None)
        except InvalidTag:
            raise SealedBoxError(
                "sealed box failed authentication: corrupted, tampered with, or sealed with another key"
            ) from None


def _check_mode(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeyFileError(f"key file {path} is readable by others (mode {mode:o}); chmod 600 it")


def load_or_create_key(path: Path, *, create: bool = True) -> bytes:
    """Read the key; create it (0600, parents 0700) when missing and ``create`` is true."""
    if not path.exists():
        if not create:
            raise KeyFileError(f"key file {path} does not exist")
        return _create_key(path)
    _check_mode(path)
    try:
        text = path.read_bytes().strip()
        key = base64.b64decode(text, validate=True)
    except (OSError, binascii.Error, ValueError) as exc:
        raise KeyFileError(f"key file {path} is corrupted ({type(exc).__name__})") from None
    if len(key) != KEY_BYTES:
        raise KeyFileError(f"key file {path} is corrupted (expected {KEY_BYTES} bytes of key)")
    return key


def _create_key(path: Path) -> bytes:
    """Write the key to a private temporary file, then link it into place: a crash (power cut, SIGKILL)
    never leaves an empty or half-written key file behind, and two processes starting at once agree."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = AESGCM.generate_key(bit_length=KEY_BYTES * 8)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # regardless of the umask
        os.write(fd, base64.b64encode(key) + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # atomic; fails if another process created it first
    except FileExistsError:
        return load_or_create_key(path, create=False)  # theirs
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)
    log.info("created a new outbox key file")
    return key


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def ensure_outside(key_path: str | os.PathLike[str], data_dir: str | os.PathLike[str]) -> None:
    """Refuse a key stored inside the data folder it protects."""
    key = Path(key_path).expanduser().resolve()
    data = Path(data_dir).expanduser().resolve()
    if key == data or data in key.parents:
        raise KeyFileError(f"key file {key} must live outside the data folder {data}")

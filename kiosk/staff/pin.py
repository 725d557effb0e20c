"""Staff PINs: scrypt hashes (``hashlib.scrypt``), checked in constant time.

A hash line names who it belongs to (the audit trail says who unlocked)::

    frontdesk-anna:scrypt$16384$8$1$<salt, base64>$<hash, base64>

A file (``[staff] pin_hash_file``, mode 0600) holds one line per staff member, ``#`` starts a comment; the
variable named by ``[staff] pin_hash_env`` holds one line. A line without ``<id>:`` belongs to ``staff``.
``kiosk staff hash-pin`` writes them. PINs are 4 to 12 digits (the kiosk's keypad); the lockout in
``kiosk.staff.auth`` is what makes short PINs acceptable.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from dataclasses import dataclass, field

SCHEME = "scrypt"
DEFAULT_N, DEFAULT_R, DEFAULT_P = 2**14, 8, 1  # ~16 MB, ~50 ms on a Raspberry Pi 4 class CPU
MIN_PIN, MAX_PIN = 4, 12
DEFAULT_STAFF_ID = "staff"
_STAFF_ID = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
_MAX_N = 2**20


class PinFormatError(ValueError):
    """A hash line that cannot be used (the message names the line, never a PIN)."""


def valid_pin(pin: str) -> bool:
    return pin.isascii() and pin.isdigit() and MIN_PIN <= len(pin) <= MAX_PIN


def valid_staff_id(staff_id: str) -> bool:
    return bool(_STAFF_ID.fullmatch(staff_id))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass(frozen=True)
class PinHash:
    staff_id: str
    n: int
    r: int
    p: int
    salt: bytes = field(repr=False)
    digest: bytes = field(repr=False)

    def line(self) -> str:
        return f"{self.staff_id}:{SCHEME}${self.n}${self.r}${self.p}${_b64(self.salt)}${_b64(self.digest)}"

    def matches(self, pin: str) -> bool:
        candidate = _scrypt(pin, self.salt, self.n, self.r, self.p, len(self.digest))
        return hmac.compare_digest(candidate, self.digest)


def _scrypt(pin: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(pin.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length, maxmem=256 * 1024 * 1024)


def hash_pin(
    pin: str, staff_id: str = DEFAULT_STAFF_ID, *, n: int = DEFAULT_N, r: int = DEFAULT_R, p: int = DEFAULT_P
) -> PinHash:
    """A new salted hash of ``pin`` for ``staff_id``. Raises ValueError for a PIN or id the kiosk refuses."""
    if not valid_pin(pin):
        raise ValueError(f"a staff PIN is {MIN_PIN} to {MAX_PIN} digits")
    if not valid_staff_id(staff_id):
        raise ValueError("a staff id is 1 to 64 letters, digits, '.', '_', '@' or '-'")
    salt = os.urandom(16)
    return PinHash(staff_id, n, r, p, salt, _scrypt(pin, salt, n, r, p, 32))


def parse_line(line: str, *, where: str = "PIN hash") -> PinHash:
    staff_id, sep, rest = line.strip().rpartition(":")
    if not sep:
        staff_id = DEFAULT_STAFF_ID
    parts = rest.split("$")
    try:
        if len(parts) != 6 or parts[0] != SCHEME or not valid_staff_id(staff_id):
            raise ValueError
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        if n < 2 or n > _MAX_N or n & (n - 1) or not 1 <= r <= 64 or not 1 <= p <= 16:
            raise ValueError
        salt = base64.b64decode(parts[4], validate=True)
        digest = base64.b64decode(parts[5], validate=True)
        if len(salt) < 8 or len(digest) < 16:
            raise ValueError
    except ValueError:
        raise PinFormatError(
            f"{where}: expected <staff id>:scrypt$N$r$p$<salt>$<hash> (kiosk staff hash-pin)"
        ) from None
    return PinHash(staff_id, n, r, p, salt, digest)


def parse_lines(text: str, *, source: str = "PIN hashes") -> tuple[PinHash, ...]:
    """Every hash in a file's text (comments and blank lines skipped). Raises PinFormatError."""
    out = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if line:
            out.append(parse_line(line, where=f"{source} line {number}"))
    return tuple(out)


def check_pin(pin: str, hashes: tuple[PinHash, ...]) -> str | None:
    """The staff id whose PIN this is, or None. Every hash is computed (no early exit): the time taken does
    not tell which entry matched, or how many there are beyond the first."""
    found: str | None = None
    for entry in hashes:
        if entry.matches(pin) and found is None:
            found = entry.staff_id
    return found


def replace_entry(text: str, entry: PinHash) -> str:
    """A hash file's text with ``entry`` added, or replacing that staff id's line (comments kept)."""
    lines, replaced = [], False
    for raw in text.splitlines():
        content = raw.split("#", 1)[0].strip()
        if content and content.rpartition(":")[0] == entry.staff_id:
            if not replaced:
                lines.append(entry.line())
            replaced = True
            continue
        lines.append(raw)
    if not replaced:
        lines.append(entry.line())
    return "\n".join(lines) + "\n"

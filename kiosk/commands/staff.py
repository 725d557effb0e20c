"""`kiosk staff hash-pin`: make the scrypt hash line of a staff PIN ([staff] pin_hash_file).

    kiosk staff hash-pin --id anna --file /etc/kiosk/staff-pins.txt     # asks the PIN twice, no echo
    kiosk staff hash-pin --id anna --config /etc/kiosk/lobby.toml       # the config's [staff] pin_hash_file
    echo 246810 | kiosk staff hash-pin --id anna --pin-stdin            # prints the line (scripts)

With a file, the line for that staff id is added or replaced (other lines and comments are kept) and the file
is written atomically with mode 0600. Without one, the line is printed (for ``pin_hash_env``). The PIN itself
is never printed or logged.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import tempfile
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("staff", help="staff mode tools")
    ssub = p.add_subparsers(dest="staff_command", required=True)
    h = ssub.add_parser("hash-pin", help="hash a staff PIN into a [staff] pin_hash_file line")
    h.add_argument("--id", default="staff", help="who the PIN belongs to (shown in the audit trail)")
    where = h.add_mutually_exclusive_group()
    where.add_argument("--file", help="the PIN hash file to add the line to (created 0600)")
    where.add_argument("--config", help="write to this configuration's [staff] pin_hash_file")
    h.add_argument("--pin-stdin", action="store_true", help="read the PIN from standard input (no prompt)")
    h.set_defaults(func=cmd_hash_pin)


def _read_pin(from_stdin: bool) -> str | None:
    if from_stdin:
        return sys.stdin.readline().strip()
    first = getpass.getpass("New staff PIN (4-12 digits): ")
    if getpass.getpass("Same PIN again: ") != first:
        print("The two PINs differ; nothing written.", file=sys.stderr)
        return None
    return first


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` atomically with ``text``, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cmd_hash_pin(args: argparse.Namespace) -> int:
    from kiosk.staff.pin import hash_pin, replace_entry, valid_staff_id

    if not valid_staff_id(args.id):
        print("--id: 1 to 64 letters, digits, '.', '_', '@' or '-'", file=sys.stderr)
        return 2
    target: Path | None = Path(args.file) if args.file else None
    if args.config:
        from kiosk.settings import load_settings

        settings = load_settings(Path(args.config))
        if settings.staff.pin_hash_file is None:
            print(f"{args.config}: [staff] pin_hash_file is not set", file=sys.stderr)
            return 2
        target = settings.resolve(settings.staff.pin_hash_file)
    pin = _read_pin(args.pin_stdin)
    if pin is None:
        return 2
    try:
        entry = hash_pin(pin, args.id)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if target is None:
        print(entry.line())
        return 0
    existing = target.read_text(encoding="utf-8") if target.exists() else ""
    write_private(target, replace_entry(existing, entry))
    print(f"{target}: PIN of {args.id} saved")
    return 0

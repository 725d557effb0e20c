"""A staff badge on the vsmartcard virtual reader: ``python virtual_badge.py PORT UID_HEX``.

Runs virtualsmartcard's VirtualICC (Debian's python3-virtualsmartcard, found through PYTHONPATH set by
pcsc_env.py) with a card OS that answers like a MIFARE badge on a PC/SC contactless reader: the ATR of a
MIFARE Classic 1K (PC/SC part 3) and ``FF CA 00 00 00`` → UID + 90 00. The card is "inserted" while this
process is connected to vpcd and "removed" when it ends.
"""

from __future__ import annotations

import logging
import sys

from virtualsmartcard.VirtualSmartcard import SmartcardOS, VirtualICC  # type: ignore[import-not-found]

ATR = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")


class Badge(SmartcardOS):  # type: ignore[misc]
    def __init__(self, uid: bytes) -> None:
        self.uid = uid

    def getATR(self) -> bytes:
        return ATR

    def powerUp(self) -> None:
        pass

    def powerDown(self) -> None:
        pass

    def reset(self) -> None:
        pass

    def execute(self, msg: bytes) -> bytes:
        if msg[:4] == b"\xff\xca\x00\x00":
            return self.uid + b"\x90\x00"
        return b"\x6d\x00"  # instruction not supported


def main() -> None:
    port, uid = int(sys.argv[1]), bytes.fromhex(sys.argv[2])
    vicc = VirtualICC(None, "iso7816", "127.0.0.1", port, logginglevel=logging.ERROR)
    vicc.os = Badge(uid)
    print("ready", flush=True)
    vicc.run()


if __name__ == "__main__":
    main()

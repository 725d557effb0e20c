"""Sub-commands of `kiosk` that live outside kiosk/cli.py (each module registers its own parsers)."""

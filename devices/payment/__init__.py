"""payment devices: see base.py for the Protocol."""

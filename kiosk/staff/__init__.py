"""Staff mode without Kivy: PIN hashes (pin.py), unlock with lockout and badges (auth.py), the audit trail
(audit.py). The runtime builds them from ``[staff]`` (kiosk/runtime/staff_setup.py)."""

"""Insurance-card capture and reading: see base.py for the Protocol, capture.py for the auto-capture worker."""

"""speech devices: see base.py for the Protocol (espeak.py: eSpeak NG; simulated.py: records what it says)."""

"""Lobby hardware behind one small Protocol per kind; simulated backends are first-class (DESIGN §4)."""

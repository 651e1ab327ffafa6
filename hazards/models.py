"""隐患排查治理 — built by its own issue; the app is wired from the start."""

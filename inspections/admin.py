"""检查与执法 — built by its own issue; the app is wired from the start."""

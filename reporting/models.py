"""月报统计 — built by its own issue; the app is wired from the start."""

"""Starts PostgreSQL and Redis for the test session (placeholder; see tests/services.py)."""

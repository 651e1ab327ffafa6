"""`make load`: a bounded load test of the production-like stack (see load/run.py and the README)."""

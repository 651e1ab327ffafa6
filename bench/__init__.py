"""Benchmarks: `python -m bench [NAME ...]` (or `make bench`). See bench/__main__.py."""

"""Benchmarks of ingest, index, search and answer speed; run them as `python -m benchmarks.NAME`."""

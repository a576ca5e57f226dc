"""Benchmarks: `python -m bench` runs every module here and records figures in build/bench.json."""

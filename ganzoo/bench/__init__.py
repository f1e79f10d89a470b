"""Benchmarks behind ``ganzoo bench``: measured here, reported in docs/benchmarks.md."""

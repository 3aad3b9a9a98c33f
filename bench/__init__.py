"""Benchmarks of the data path, run by hand (`python -m bench.etl`); results in bench/results."""

"""Benchmarks (`make bench`): each module has `main(argv)` and prints percentiles."""

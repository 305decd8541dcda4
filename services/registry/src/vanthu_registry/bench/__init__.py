"""Benchmarks of the registry (`vanthu bench intake`, `vanthu bench search`)."""

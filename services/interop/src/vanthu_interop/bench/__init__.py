"""Benchmarks of interop: `vanthu bench edxml` and `vanthu bench exchange`."""

"""vanthu benchmarks."""

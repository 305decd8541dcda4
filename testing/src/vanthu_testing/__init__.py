"""Local real infrastructure for tests, benchmarks and the embedded launcher.

The launchers live in `vanthu_testing.procs`; the pytest fixtures in `vanthu_testing.pytest_plugin`.
"""

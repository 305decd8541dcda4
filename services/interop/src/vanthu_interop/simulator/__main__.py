"""`python -m vanthu_interop.simulator …`: the same as `vanthu axis-sim …` (a test double)."""

from vanthu_interop.simulator.cli import app

if __name__ == "__main__":
    app()

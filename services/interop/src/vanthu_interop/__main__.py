"""`python -m vanthu_interop` / `vanthu-interop`: run one interop process."""

from __future__ import annotations


def main() -> None:
    from vanthu_interop.app import create_app
    from vanthu_interop.settings import InteropSettings
    from vanthu_runtime.serve import run

    settings = InteropSettings()
    run(create_app(settings), settings)


if __name__ == "__main__":
    main()

"""`python -m vanthu_signing` / `vanthu-signing`: run one signing process."""

from __future__ import annotations


def main() -> None:
    from vanthu_runtime.serve import run
    from vanthu_signing.app import create_app
    from vanthu_signing.settings import SigningSettings

    settings = SigningSettings()
    run(create_app(settings), settings)


if __name__ == "__main__":
    main()

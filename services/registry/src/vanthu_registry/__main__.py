"""`python -m vanthu_registry` / `vanthu-registry`: run one registry process."""

from __future__ import annotations


def main() -> None:
    from vanthu_registry.app import create_app
    from vanthu_registry.settings import RegistrySettings
    from vanthu_runtime.serve import run

    settings = RegistrySettings()
    run(create_app(settings), settings)


if __name__ == "__main__":
    main()

"""`python -m vanthu_routing` / `vanthu-routing`: run one routing process."""

from __future__ import annotations


def main() -> None:
    from vanthu_routing.app import create_app
    from vanthu_routing.settings import RoutingSettings
    from vanthu_runtime.serve import run

    settings = RoutingSettings()
    run(create_app(settings), settings)


if __name__ == "__main__":
    main()

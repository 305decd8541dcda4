"""`python -m vanthu_analytics` / `vanthu-analytics`: run one analytics process."""

from __future__ import annotations


def main() -> None:
    from vanthu_analytics.app import create_app
    from vanthu_analytics.ingest import tune_garbage_collector
    from vanthu_analytics.settings import AnalyticsSettings
    from vanthu_runtime.serve import run

    settings = AnalyticsSettings()
    app = create_app(settings)
    tune_garbage_collector()  # this process only: everything is imported by now
    run(app, settings)


if __name__ == "__main__":
    main()

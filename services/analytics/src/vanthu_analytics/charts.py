"""Charts of the monthly report, PNG and SVG (matplotlib, headless Agg backend)."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date

from vanthu_analytics.province import ProvinceReport

FORMATS = ("png", "svg")
TOP = 20


def _figure(draw: Callable[[object], None], fmt: str, width: float = 11.0, height: float = 6.0) -> bytes:
    # Imported here: matplotlib is heavy and only reports need it. A Figure without pyplot keeps
    # no global state between requests.
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    draw(figure.add_subplot())
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    return buffer.getvalue()


def volume_by_agency(report: ProvinceReport, fmt: str) -> bytes:
    lines = report.lines[:TOP]

    def draw(ax) -> None:
        names = [(line.name or line.agency)[:28] for line in lines]
        positions = range(len(lines))
        ax.barh(
            [p - 0.2 for p in positions], [line.incoming for line in lines], height=0.4, label="Văn bản đến"
        )
        ax.barh(
            [p + 0.2 for p in positions], [line.outgoing for line in lines], height=0.4, label="Văn bản đi"
        )
        ax.set_yticks(list(positions), names)
        ax.invert_yaxis()
        ax.set_xlabel("Số văn bản")
        ax.set_title(f"Văn bản đến và đi theo cơ quan, {report.period.label_vi()}")
        ax.legend()

    return _figure(draw, fmt)


def digital_shares(report: ProvinceReport, fmt: str) -> bytes:
    lines = [line for line in report.lines if line.outgoing][:TOP]

    def draw(ax) -> None:
        names = [(line.name or line.agency)[:28] for line in lines]
        positions = range(len(lines))
        ax.barh(
            [p - 0.2 for p in positions],
            [100 * (line.signed_share or 0) for line in lines],
            height=0.4,
            label="Ký số",
        )
        ax.barh(
            [p + 0.2 for p in positions],
            [100 * (line.axis_share or 0) for line in lines],
            height=0.4,
            label="Gửi qua trục",
        )
        ax.set_yticks(list(positions), names)
        ax.invert_yaxis()
        ax.set_xlim(0, 100)
        ax.set_xlabel("% văn bản đi")
        ax.set_title(f"Tỷ lệ ký số và gửi qua trục liên thông, {report.period.label_vi()}")
        ax.legend()

    return _figure(draw, fmt)


def daily_volume(days: dict[date, dict[str, int]], title: str, fmt: str) -> bytes:
    ordered = sorted(days)

    def draw(ax) -> None:
        incoming = [
            sum(days[d].get(m, 0) for m in ("received_axis", "received_internal", "received_paper"))
            for d in ordered
        ]
        outgoing = [days[d].get("issued", 0) for d in ordered]
        ax.plot(ordered, incoming, marker="o", label="Văn bản đến")
        ax.plot(ordered, outgoing, marker="s", label="Văn bản đi")
        ax.set_ylabel("Số văn bản")
        ax.set_title(f"Văn bản đến và đi theo ngày, {title}")
        ax.legend()
        ax.tick_params(axis="x", labelrotation=45)

    return _figure(draw, fmt)


CHARTS = ("volume_by_agency", "digital_shares", "daily_volume")
DAILY_MEASURES = ["received_axis", "received_internal", "received_paper", "issued"]

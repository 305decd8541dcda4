"""The province-level report in the shape of the seeds' articles: "X văn bản đến, Y văn bản đi"."""

from __future__ import annotations

from dataclasses import dataclass, field

from vanthu_analytics.domain.periods import Period
from vanthu_analytics.reports import UsageRow


def vn_number(value: int) -> str:
    """12345 → 12.345 (Vietnamese thousands separator)."""
    return f"{value:,}".replace(",", ".")


def vn_percent(share: float | None) -> str:
    return "—" if share is None else f"{100 * share:.1f}%".replace(".", ",")


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class ProvinceLine:
    agency: str
    name: str
    incoming: int
    outgoing: int
    digitally_signed: int
    to_axis: int

    @property
    def signed_share(self) -> float | None:
        return _share(self.digitally_signed, self.outgoing)

    @property
    def axis_share(self) -> float | None:
        return _share(self.to_axis, self.outgoing)

    def sentence_vi(self) -> str:
        return (
            f"{self.name or self.agency}: {vn_number(self.incoming)} văn bản đến, {vn_number(self.outgoing)} văn bản đi "
            f"(ký số {vn_percent(self.signed_share)}, gửi qua trục {vn_percent(self.axis_share)})."
        )


@dataclass
class ProvinceReport:
    period: Period
    lines: list[ProvinceLine] = field(default_factory=list)

    @property
    def incoming(self) -> int:
        return sum(line.incoming for line in self.lines)

    @property
    def outgoing(self) -> int:
        return sum(line.outgoing for line in self.lines)

    @property
    def signed_share(self) -> float | None:
        return _share(sum(line.digitally_signed for line in self.lines), self.outgoing)

    @property
    def axis_share(self) -> float | None:
        return _share(sum(line.to_axis for line in self.lines), self.outgoing)

    def summary_vi(self) -> str:
        return (
            f"Trong {self.period.label_vi()}, toàn tỉnh có {vn_number(self.incoming)} văn bản đến, "
            f"{vn_number(self.outgoing)} văn bản đi; {vn_percent(self.signed_share)} văn bản đi được ký số, "
            f"{vn_percent(self.axis_share)} được gửi qua trục liên thông văn bản quốc gia."
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "period": {"start": self.period.start.isoformat(), "end": self.period.end.isoformat()},
            "incoming": self.incoming,
            "outgoing": self.outgoing,
            "signed_share": self.signed_share,
            "axis_share": self.axis_share,
            "summary_vi": self.summary_vi(),
            "agencies": [
                {
                    "agency": line.agency,
                    "name": line.name,
                    "incoming": line.incoming,
                    "outgoing": line.outgoing,
                    "signed_share": line.signed_share,
                    "axis_share": line.axis_share,
                    "sentence_vi": line.sentence_vi(),
                }
                for line in self.lines
            ],
        }


def province_report(period: Period, agencies: list[UsageRow]) -> ProvinceReport:
    """From the per-agency usage rows: the busiest agencies first."""
    lines = [
        ProvinceLine(
            r.agency,
            r.agency_name,
            r.incoming,
            r.outgoing,
            r.get("issued_digitally_signed"),
            r.get("issued_to_axis"),
        )
        for r in agencies
    ]
    lines.sort(key=lambda line: (-(line.incoming + line.outgoing), line.agency))
    return ProvinceReport(period, lines)

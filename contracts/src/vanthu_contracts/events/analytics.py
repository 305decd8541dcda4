"""Contracts of the analytics service: the durable consumer of every event, and error codes.

Analytics publishes no events. It reads every fact from the start of VANTHU_EVENTS
(DeliverPolicy.ALL), so a fresh deployment — or an operator who deleted the analytics
database and the durable — rebuilds every figure by replaying the stream. Each event is
applied once (inbox), so a replay after a crash double-counts nothing; event types it does not
know, and versions newer than it understands, are counted and skipped.
"""

from __future__ import annotations

from vanthu_contracts.errors import define
from vanthu_contracts.streams import EVENTS_STREAM, ConsumerSpec, DeliverPolicy, register_consumer
from vanthu_contracts.subjects import EVENTS_WILDCARD

FACTS_CONSUMER = register_consumer(
    ConsumerSpec(
        stream=EVENTS_STREAM.name,
        durable="analytics_facts",
        service="analytics",
        filter_subjects=(EVENTS_WILDCARD,),
        deliver_policy=DeliverPolicy.ALL,
        # Batches of up to 1,000 events are applied in one transaction; two fetch loops overlap,
        # so up to 2,000 may be unacknowledged at once, plus room for redeliveries.
        ack_wait_s=120.0,
        max_ack_pending=5000,
        max_deliver=10,
        description="Every event from the start of the stream → usage facts, document timelines, flags",
    )
)


# -- error codes -----------------------------------------------------------------------

BAD_PERIOD = define(
    "analytics.bad_period",
    422,
    "Khoảng thời gian không hợp lệ: ngày bắt đầu phải trước hoặc bằng ngày kết thúc và không quá {max_days} ngày.",
    "The period is invalid: the start must not be after the end, and it may span at most {max_days} days.",
)
BAD_MONTH = define(
    "analytics.bad_month",
    422,
    "Tháng phải có dạng YYYY-MM, ví dụ 2026-10.",
    "A month is written YYYY-MM, e.g. 2026-10.",
)
UNKNOWN_FORMAT = define(
    "analytics.unknown_format",
    422,
    "Định dạng xuất không được hỗ trợ; chọn json, csv hoặc xlsx.",
    "Unsupported export format; choose json, csv or xlsx.",
)
UNKNOWN_CHART = define(
    "analytics.unknown_chart",
    404,
    "Không có biểu đồ này; chọn một trong: {charts}.",
    "There is no such chart; choose one of: {charts}.",
)
UNKNOWN_AGENCY = define(
    "analytics.unknown_agency",
    404,
    "Không tìm thấy cơ quan trong dữ liệu thống kê.",
    "The agency is not known to analytics.",
)
OUTSIDE_SCOPE = define(
    "analytics.outside_scope",
    403,
    "Bạn chỉ được xem thống kê của cơ quan mình và các cơ quan trực thuộc.",
    "You may only read the figures of your own agency and the agencies under it.",
)
BAD_GROUPING = define(
    "analytics.bad_grouping",
    422,
    "Cách nhóm không hợp lệ; chọn agency, unit hoặc person.",
    "Invalid grouping; choose agency, unit or person.",
)
BAD_THRESHOLD = define(
    "analytics.bad_threshold",
    422,
    "Ngưỡng cảnh báo không hợp lệ (số ngày không hoạt động phải từ 1 đến 3650).",
    "Invalid flag threshold (days without activity must be between 1 and 3650).",
)
GENERATE_BOUNDS = define(
    "analytics.generate_bounds",
    422,
    "Tham số sinh dữ liệu vượt giới hạn (đơn vị 1–100.000, người dùng 1–1.000.000, sự kiện 1–100.000.000).",
    "Generator arguments out of bounds (units 1–100,000, users 1–1,000,000, events 1–100,000,000).",
)

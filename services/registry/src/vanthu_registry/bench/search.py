"""`vanthu bench search`: p95 of accent-insensitive search over generated documents on PostgreSQL.

Rows are generated in Python and loaded with COPY (documents and their search entries),
the GIN index is built after the load, then unaccented queries — common words, rare
words, issuer names, số/ký hiệu — run through the same search use case the REST API
calls (access rules, count, audit entry included), as the văn thư of the largest agency.
The floor is the plain indexed full-text lookup (one SELECT with the same tsquery and
LIMIT, no access rules, no count, no audit), left to PostgreSQL's own plan.
"""

from __future__ import annotations

import random
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from vanthu_bench.infra import bench_infrastructure
from vanthu_bench.report import BenchResult, Row
from vanthu_registry.bench.common import percentile, seed
from vanthu_registry.domain.text import search_body

AGENCIES = 4
QUERIES = 300

TYPES = [("cong_van", "Công văn", None), ("quyet_dinh", "Quyết định", "QĐ"), ("ke_hoach", "Kế hoạch", "KH"),
         ("bao_cao", "Báo cáo", "BC"), ("thong_bao", "Thông báo", "TB"), ("to_trinh", "Tờ trình", "TTr"),
         ("giay_moi", "Giấy mời", "GM"), ("huong_dan", "Hướng dẫn", "HD")]
TOPICS = ["phê duyệt dự án đầu tư xây dựng", "kế hoạch đào tạo cán bộ", "báo cáo tình hình kinh tế xã hội",
          "triển khai chuyển đổi số", "phòng chống thiên tai", "quản lý đất đai", "cải cách hành chính",
          "tổ chức hội nghị tổng kết", "thu chi ngân sách nhà nước", "bảo vệ môi trường", "an toàn giao thông",
          "tuyển dụng viên chức", "kiểm tra công tác văn thư lưu trữ", "chương trình nông thôn mới",
          "phòng cháy chữa cháy", "y tế dự phòng", "giáo dục mầm non", "quy hoạch đô thị", "thanh tra công vụ",
          "hỗ trợ doanh nghiệp nhỏ và vừa"]
PLACES = ["Lạng Sơn", "Thanh Hóa", "Nghệ An", "Hà Tĩnh", "Quảng Bình", "Đà Nẵng", "Cần Thơ", "Bình Minh", "An Phú",
          "Hòa Bình", "Yên Bái", "Tuyên Quang", "Điện Biên", "Sơn La", "Lai Châu", "Cao Bằng"]
ISSUERS = ["Bộ Xây dựng", "Bộ Tài chính", "Bộ Nội vụ", "Văn phòng Chính phủ", "Sở Kế hoạch và Đầu tư",
           "Sở Giáo dục và Đào tạo", "Ủy ban nhân dân huyện", "Sở Y tế", "Công an tỉnh", "Bộ Giao thông vận tải"]
RARE = [f"mục{i:04d}" for i in range(2000)]  # one rare token per ~500 documents
QUERY_SET = ["quyet dinh", "ke hoach dao tao", "bao cao tinh hinh kinh te", "chuyen doi so", "lang son",
             "bo xay dung", "phong chay chua chay", "ngan sach", "tuyen dung vien chuc", "van thu luu tru",
             "hoi nghi tong ket", "nong thon moi", "quy hoach do thi", "thanh hoa dat dai", "giao thong an toan",
             "to trinh", "giay moi hoi nghi", "binh minh", "dien bien", "cai cach hanh chinh"]

COLUMNS = [
    "id", "agency_code", "direction", "state", "register_id", "register_year", "number", "type_code", "type_name",
    "type_abbreviation", "code_number", "code_notation", "issued_date", "organ_id", "organ_name", "subject", "language",
    "page_amount", "description", "signer_position", "signer_name", "signer_competence", "urgency", "secrecy", "priority",
    "to_places", "trace_header_list", "due_date", "arrival_date", "received_at", "registered_at", "channel",
    "external_document_id", "sender_organ_id", "sender_organ_name", "response_for", "recipients", "issued_amount",
    "axis_document_id", "draft_id", "issued_at", "digitally_signed", "sealed", "unit_abbreviation", "return_reason",
    "returned_at", "proposed_unit_id", "duplicate_of", "created_by", "created_at", "sort_at",
]


def _rows(count: int, agencies: list[str], registers: dict[str, str], rng: random.Random):
    start = datetime(2022, 1, 1, tzinfo=UTC)
    numbers = dict.fromkeys(agencies, 0)
    for i in range(count):
        agency = agencies[i % len(agencies)]
        numbers[agency] += 1
        code, name, abbr = rng.choice(TYPES)
        topic = rng.choice(TOPICS)
        place = rng.choice(PLACES)
        issuer = rng.choice(ISSUERS)
        subject = f"V/v {topic} tại {place} {rng.choice(RARE)}"
        received = start + timedelta(seconds=i * 120)
        notation = f"{abbr or 'UBND'}-{rng.choice(['VP', 'KT', 'TC', 'XD'])}"
        code_number = str(rng.randint(1, 3000))
        doc_id = str(uuid.uuid4())
        secrecy = "mat" if i % 500 == 0 else "thuong"
        doc = (
            doc_id, agency, "incoming", "registered", registers[agency], received.year, numbers[agency], code, name, abbr,
            code_number, notation, received.date() - timedelta(days=2), None, issuer, subject, "Tiếng Việt", 2, "",
            "Giám đốc", "Nguyễn Văn An", "", "thuong", secrecy, 0, "", "", None, received.date(), received, received,
            "paper", None, None, None, "[]", "[]", None, None, None, None, False, False, None, None, None, None, "[]",
            "bench", received, received,
        )
        body = search_body(name, abbr, f"{code_number}/{notation}", notation, issuer, subject, "Giám đốc", "Nguyễn Văn An")
        yield doc, (doc_id, agency, "incoming", secrecy, received, body, "")


async def _load(dsn: str, count: int, agencies: list[str]) -> float:
    conn = await asyncpg.connect(dsn)
    try:
        registers = {}
        for agency in agencies:
            register_id = str(uuid.uuid4())
            await conn.execute(
                "INSERT INTO registers (id, agency_code, direction, year, series, name, type_codes, secret, last_number, "
                "created_at) VALUES ($1, $2, 'incoming', 2022, 'den', 'Sổ đến', '[]', false, 0, now())",
                register_id, agency,
            )
            registers[agency] = register_id
        await conn.execute("ALTER TABLE documents DROP CONSTRAINT uq_documents_register_number")
        # Bulk load first, index after: much faster than maintaining GIN row by row.
        await conn.execute("DROP INDEX ix_document_search_agency_tsv")
        started = time.perf_counter()
        rng = random.Random(2026)
        batch_docs, batch_search = [], []
        for doc, entry in _rows(count, agencies, registers, rng):
            batch_docs.append(doc)
            batch_search.append(entry)
            if len(batch_docs) == 20_000:
                await conn.copy_records_to_table("documents", records=batch_docs, columns=COLUMNS)
                await conn.copy_records_to_table(
                    "document_search", records=batch_search,
                    columns=["document_id", "agency_code", "direction", "secrecy", "sort_at", "body", "content"],
                )
                batch_docs, batch_search = [], []
        if batch_docs:
            await conn.copy_records_to_table("documents", records=batch_docs, columns=COLUMNS)
            await conn.copy_records_to_table(
                "document_search", records=batch_search,
                columns=["document_id", "agency_code", "direction", "secrecy", "sort_at", "body", "content"],
            )
        await conn.execute("CREATE INDEX ix_document_search_agency_tsv ON document_search USING gin (agency_code, tsv)")
        await conn.execute("ANALYZE")
        return time.perf_counter() - started
    finally:
        await conn.close()


async def _floor(dsn: str, agency: str, queries: list[str]) -> list[float]:
    from vanthu_registry.domain.text import query_tokens
    from vanthu_registry.search import _tsquery

    conn = await asyncpg.connect(dsn)
    timings = []
    try:
        for q in queries:
            tsq = _tsquery(query_tokens(q))
            started = time.perf_counter()
            await conn.fetch(
                "SELECT document_id FROM document_search WHERE agency_code = $1 AND tsv @@ to_tsquery('simple', $2) "
                "ORDER BY sort_at DESC LIMIT 20",
                agency, tsq,
            )
            timings.append(time.perf_counter() - started)
    finally:
        await conn.close()
    return timings


async def run(quick: bool) -> BenchResult:
    """p95 of accent-insensitive search over generated documents on PostgreSQL (goal < 200 ms at 1,000,000)."""
    from vanthu_registry.caller import Caller
    from vanthu_registry.cli import registry_uow
    from vanthu_registry.search import SearchQuery, SearchService

    count = 50_000 if quick else 1_000_000
    n = QUERIES // 3 if quick else QUERIES
    rng = random.Random(7)
    queries = [rng.choice(QUERY_SET) for _ in range(n)]
    queries += [rng.choice(RARE).replace("ụ", "u") for _ in range(n // 3)]
    queries += [f"{rng.randint(1, 3000)}/ubnd-vp" for _ in range(n // 6)]
    rng.shuffle(queries)
    with bench_infrastructure("search", nats=False, postgres=1) as infra:
        pg = infra.pg
        clerks = await seed(pg.url, agencies=AGENCIES)
        load_s = await _load(pg.dsn, count, [c.agency for c in clerks])
        clerk = Caller.of(clerks[0], "127.0.0.1")
        timings: list[float] = []
        async with registry_uow(pg.url) as uow:
            service = SearchService(uow)
            for q in queries[:20]:  # warm the caches
                await service.search(clerk, SearchQuery(q=q))
            hits = 0
            for q in queries:
                started = time.perf_counter()
                page = await service.search(clerk, SearchQuery(q=q))
                timings.append(time.perf_counter() - started)
                hits += bool(page.items)
        floor_timings = await _floor(pg.dsn, clerks[0].agency, queries)
    p95 = percentile(timings, 0.95) * 1000
    floor_p95 = percentile(floor_timings, 0.95) * 1000
    return BenchResult(
        name="search",
        value=p95,
        unit="ms (p95)",
        floor=floor_p95,
        goal="p95 < 200 ms over 1,000,000 documents",
        rows=[
            Row("documents generated (COPY) and indexed", count, "rows", f"{load_s:.0f} s incl. GIN build; {AGENCIES} agencies"),
            Row("queries", len(queries), "", f"{hits} with results; unaccented words, rare words, số/ký hiệu"),
            Row("search use case p50", percentile(timings, 0.5) * 1000, "ms", "access rules + page + count + audit"),
            Row("search use case p95", p95, "ms", "the result"),
            Row("search use case max", max(timings) * 1000, "ms", ""),
            Row("plain indexed tsquery p95 (floor)", floor_p95, "ms", "one SELECT … LIMIT 20, no rules"),
        ],
        notes=[
            ("QUICK RUN: " if quick else "") + f"{count:,} documents ({count // AGENCIES:,} per agency), "
            "searched as the văn thư of one agency",
            "lower is better here: the ratio is result / floor",
        ],
    )

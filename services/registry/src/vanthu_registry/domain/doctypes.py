"""The kinds of administrative document (Decree 30 Art. 7) and their abbreviations (Phụ lục III).

Abbreviations are case-sensitive: QyĐ, CTr, TTr and TrS are mixed case in the
decree and upper-casing them makes a different code. Công văn and thư công have
no abbreviation; their ký hiệu is built from the agency and the drafting unit.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DocumentType:
    code: str  # stable key used in the API and storage, e.g. "quyet_dinh"
    name: str  # Tên loại văn bản as the decree writes it
    abbreviation: str | None  # None for công văn and thư công
    is_copy: bool = False

    @property
    def is_cong_van(self) -> bool:
        return self.code == "cong_van"


_TYPES: tuple[DocumentType, ...] = (
    DocumentType("nghi_quyet", "Nghị quyết", "NQ"),
    DocumentType("quyet_dinh", "Quyết định", "QĐ"),
    DocumentType("chi_thi", "Chỉ thị", "CT"),
    DocumentType("quy_che", "Quy chế", "QC"),
    DocumentType("quy_dinh", "Quy định", "QyĐ"),
    DocumentType("thong_cao", "Thông cáo", "TC"),
    DocumentType("thong_bao", "Thông báo", "TB"),
    DocumentType("huong_dan", "Hướng dẫn", "HD"),
    DocumentType("chuong_trinh", "Chương trình", "CTr"),
    DocumentType("ke_hoach", "Kế hoạch", "KH"),
    DocumentType("phuong_an", "Phương án", "PA"),
    DocumentType("de_an", "Đề án", "ĐA"),
    DocumentType("du_an", "Dự án", "DA"),
    DocumentType("bao_cao", "Báo cáo", "BC"),
    DocumentType("bien_ban", "Biên bản", "BB"),
    DocumentType("to_trinh", "Tờ trình", "TTr"),
    DocumentType("hop_dong", "Hợp đồng", "HĐ"),
    DocumentType("cong_van", "Công văn", None),
    DocumentType("cong_dien", "Công điện", "CĐ"),
    DocumentType("ban_ghi_nho", "Bản ghi nhớ", "BGN"),
    DocumentType("ban_thoa_thuan", "Bản thỏa thuận", "BTT"),
    DocumentType("giay_uy_quyen", "Giấy ủy quyền", "GUQ"),
    DocumentType("giay_moi", "Giấy mời", "GM"),
    DocumentType("giay_gioi_thieu", "Giấy giới thiệu", "GGT"),
    DocumentType("giay_nghi_phep", "Giấy nghỉ phép", "GNP"),
    DocumentType("phieu_gui", "Phiếu gửi", "PG"),
    DocumentType("phieu_chuyen", "Phiếu chuyển", "PC"),
    DocumentType("phieu_bao", "Phiếu báo", "PB"),
    DocumentType("thu_cong", "Thư công", None),
    DocumentType("ban_sao_y", "Bản sao y", "SY", is_copy=True),
    DocumentType("ban_trich_sao", "Bản trích sao", "TrS", is_copy=True),
    DocumentType("ban_sao_luc", "Bản sao lục", "SL", is_copy=True),
)

_BY_CODE = {t.code: t for t in _TYPES}
_BY_ABBREVIATION = {t.abbreviation: t for t in _TYPES if t.abbreviation}
_BY_NAME = {t.name.casefold(): t for t in _TYPES}


class UnknownDocumentType(ValueError):
    pass


def all_types() -> tuple[DocumentType, ...]:
    return _TYPES


def document_type(key: str) -> DocumentType:
    """Look a type up by code (quyet_dinh), exact abbreviation (QĐ, QyĐ) or name (Quyết định).

    The abbreviation must match exactly, case included: "QYĐ" is not "QyĐ".
    """
    found = _BY_CODE.get(key) or _BY_ABBREVIATION.get(key) or _BY_NAME.get(key.strip().casefold())
    if found is None:
        raise UnknownDocumentType(key)
    return found

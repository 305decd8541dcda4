"""Value types shared by several services' payloads."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import StringConstraints

# Mã định danh điện tử: 13 characters such as 000.00.00.H99 (QĐ 20/2020, QCVN 102).
AGENCY_CODE_PATTERN = r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$"
AgencyCode = Annotated[str, StringConstraints(pattern=AGENCY_CODE_PATTERN)]


class Role(StrEnum):
    """Roles a user can hold inside an agency (Decree 30 §5.1 mapped to product roles)."""

    CLERK = "van_thu"  # văn thư
    HEAD = "lanh_dao"  # lãnh đạo (người đứng đầu)
    DEPUTY_HEAD = "pho_lanh_dao"  # phó lãnh đạo (cấp phó)
    UNIT_HEAD = "truong_phong"  # trưởng phòng
    DEPUTY_UNIT_HEAD = "pho_truong_phong"  # phó trưởng phòng
    SPECIALIST = "chuyen_vien"  # chuyên viên
    ADMIN = "quan_tri"  # quản trị


ROLE_LABELS_VI: dict[Role, str] = {
    Role.CLERK: "Văn thư",
    Role.HEAD: "Lãnh đạo",
    Role.DEPUTY_HEAD: "Phó lãnh đạo",
    Role.UNIT_HEAD: "Trưởng phòng",
    Role.DEPUTY_UNIT_HEAD: "Phó trưởng phòng",
    Role.SPECIALIST: "Chuyên viên",
    Role.ADMIN: "Quản trị",
}


class Urgency(StrEnum):
    """Độ khẩn. edXML Priority: 0 thường, 1 khẩn, 2 thượng khẩn, 3 hỏa tốc."""

    NORMAL = "thuong"
    URGENT = "khan"
    VERY_URGENT = "thuong_khan"
    FLASH = "hoa_toc"


class Secrecy(StrEnum):
    """Độ mật. Anything above NORMAL never leaves through the axis."""

    NORMAL = "thuong"
    CONFIDENTIAL = "mat"
    SECRET = "toi_mat"
    TOP_SECRET = "tuyet_mat"

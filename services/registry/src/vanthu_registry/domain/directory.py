"""Who exists: agencies, units and users, and the rules their fields follow.

Pure: no framework imports. Validation raises DirectoryRuleBroken with the
name of the rule, which the service layer turns into a coded error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from vanthu_contracts.events.common import AGENCY_CODE_PATTERN, Role

AGENCY_CODE_RE = re.compile(AGENCY_CODE_PATTERN)
# Abbreviations appear inside ký hiệu (15/QĐ-UBND, 05/UBND-VP): letters (Vietnamese
# included, for Đ) and digits, no separators, because "-" and "/" delimit the symbol.
ABBREVIATION_RE = re.compile(r"^[0-9A-Za-zÀ-ỹĐđ]{1,20}$")
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")


class DirectoryRuleBroken(ValueError):
    def __init__(self, rule: str, field_name: str, value: object) -> None:
        super().__init__(f"{rule}: {field_name}={value!r}")
        self.rule = rule
        self.field_name = field_name
        self.value = value


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    abbreviation: str
    parent_code: str | None = None
    hosted: bool = True
    active: bool = True
    address: str = ""
    email: str = ""
    phone: str = ""

    def __post_init__(self) -> None:
        if self.hosted and not AGENCY_CODE_RE.match(self.code):
            raise DirectoryRuleBroken("agency_code_format", "code", self.code)
        if not self.hosted and (len(self.code) > 13 or not self.code):
            raise DirectoryRuleBroken("agency_code_length", "code", self.code)
        if not self.name.strip() or len(self.name) > 200:
            raise DirectoryRuleBroken("agency_name_length", "name", self.name)
        if not ABBREVIATION_RE.match(self.abbreviation):
            raise DirectoryRuleBroken("abbreviation_format", "abbreviation", self.abbreviation)
        if self.parent_code == self.code:
            raise DirectoryRuleBroken("agency_parent_self", "parent_code", self.parent_code)


@dataclass(frozen=True)
class Unit:
    id: str
    agency_code: str
    name: str
    abbreviation: str
    parent_unit_id: str | None = None
    active: bool = True

    def __post_init__(self) -> None:
        if not self.name.strip() or len(self.name) > 200:
            raise DirectoryRuleBroken("unit_name_length", "name", self.name)
        if not ABBREVIATION_RE.match(self.abbreviation):
            raise DirectoryRuleBroken("abbreviation_format", "abbreviation", self.abbreviation)
        if self.parent_unit_id == self.id:
            raise DirectoryRuleBroken("unit_parent_self", "parent_unit_id", self.parent_unit_id)


@dataclass(frozen=True)
class User:
    id: str
    username: str
    full_name: str
    agency_code: str
    roles: tuple[Role, ...]
    unit_id: str | None = None
    position: str = ""
    email: str = ""
    active: bool = True
    granted_secrecy: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not USERNAME_RE.match(self.username):
            raise DirectoryRuleBroken("username_format", "username", self.username)
        # Phụ lục VI: FullName String(50), Position String(100).
        if not self.full_name.strip() or len(self.full_name) > 50:
            raise DirectoryRuleBroken("full_name_length", "full_name", self.full_name)
        if len(self.position) > 100:
            raise DirectoryRuleBroken("position_length", "position", self.position)
        if not self.roles:
            raise DirectoryRuleBroken("roles_required", "roles", self.roles)


def would_create_cycle(child: str, new_parent: str | None, parent_of: dict[str, str | None]) -> bool:
    """True if making `new_parent` the parent of `child` closes a loop in the tree."""
    seen = {child}
    current = new_parent
    while current is not None:
        if current in seen:
            return True
        seen.add(current)
        current = parent_of.get(current)
    return False

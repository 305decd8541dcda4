"""Seeds a fictitious demo province (H99 by default): six agencies, their units, one user per role each.

Ids are derived from names (UUIDv5), so seeding again changes nothing and a
restarted platform keeps the same people. Another province code (`seed_demo_province`,
e.g. H98) gives the same tree under other identifier codes, so two demo platforms can
exchange documents over the axis as two provinces would.
"""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from vanthu_registry.service import DirectoryService

DEPARTMENT_CODE_PREFIXES = ("000.00.11.", "000.00.12.", "000.00.13.")


DEMO_PROVINCE = "H99"


def load_demo(province: str = DEMO_PROVINCE) -> dict[str, Any]:
    text = files("vanthu_registry.data").joinpath("demo_province.json").read_text("utf-8")
    if province != DEMO_PROVINCE:
        names = json.loads(text)["province_names"]
        name = names.get(province, f"Thử nghiệm {province}")
        # The file is written for H99; another code renames the codes, mail domains and the name.
        text = (
            text.replace(f".{DEMO_PROVINCE}", f".{province}")
            .replace(f"@{DEMO_PROVINCE.lower()}.", f"@{province.lower()}.")
            .replace(names[DEMO_PROVINCE], name)
        )
    return json.loads(text)


def _id(*parts: str) -> str:
    return str(uuid5(NAMESPACE_URL, "vanthu-demo:" + "/".join(parts)))


def demo_logins(province: str = DEMO_PROVINCE) -> list[dict[str, Any]]:
    data = load_demo(province)
    out = []
    for agency in data["agencies"]:
        for person in data["people"]:
            out.append(
                {
                    "username": f"{agency['slug']}.{person['suffix']}",
                    "password": data["password"],
                    "full_name": person["name"],
                    "agency": agency["code"],
                    "agency_name": agency["name"],
                    "roles": [person["role"]],
                }
            )
    return out


async def seed_demo(directory: DirectoryService, province: str = DEMO_PROVINCE) -> int:
    """Create or refresh the demo province; returns the number of users."""
    data = load_demo(province)
    count = 0
    for agency in data["agencies"]:
        await directory.upsert_agency(
            None,
            {
                "code": agency["code"],
                "name": agency["name"],
                "abbreviation": agency["abbreviation"],
                "parent_code": agency.get("parent"),
                "address": agency.get("address", ""),
                "email": agency.get("email", ""),
                "phone": agency.get("phone", ""),
            },
        )
        unit_ids = []
        for name, abbreviation in agency["units"]:
            unit = await directory.upsert_unit(
                None,
                {
                    "id": _id(agency["code"], abbreviation),
                    "agency_code": agency["code"],
                    "name": name,
                    "abbreviation": abbreviation,
                },
            )
            unit_ids.append(unit.id)
        for person in data["people"]:
            position = person["position"]
            if agency["code"].startswith(DEPARTMENT_CODE_PREFIXES):
                position = data["department_positions"].get(person["role"], position)
            await directory.upsert_user(
                None,
                {
                    "id": _id(agency["code"], person["suffix"]),
                    "username": f"{agency['slug']}.{person['suffix']}",
                    "full_name": person["name"],
                    "agency_code": agency["code"],
                    "unit_id": unit_ids[person["unit"]] if person["unit"] is not None else None,
                    "position": position,
                    "roles": [person["role"]],
                },
                password=data["password"],
            )
            count += 1
    return count

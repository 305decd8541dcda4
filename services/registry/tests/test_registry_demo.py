"""The demo province under another code: same tree, other identifier codes, no trace of H99."""

from __future__ import annotations

import json
import re

import pytest

from vanthu_registry.demo import demo_logins, load_demo
from vanthu_registry.settings import RegistrySettings

CODE = re.compile(r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$")


def test_a_second_demo_province_renames_codes_mail_and_name() -> None:
    h99, h98 = load_demo(), load_demo("H98")
    assert [a["code"] for a in h98["agencies"]] == [
        a["code"].replace(".H99", ".H98") for a in h99["agencies"]
    ]
    assert all(CODE.match(a["code"]) and a["code"].endswith(".H98") for a in h98["agencies"])
    assert {a.get("parent") for a in h98["agencies"]} == {None, "000.00.00.H98"}
    assert h98["agencies"][0]["name"] == "Ủy ban nhân dân tỉnh Sông Ngân"
    assert "H99" not in json.dumps(h98["agencies"]) and "h99" not in json.dumps(h98["agencies"])
    assert load_demo("H42")["agencies"][0]["name"] == "Ủy ban nhân dân tỉnh Thử nghiệm H42"
    logins = demo_logins("H98")
    assert {login["agency"] for login in logins} == {a["code"] for a in h98["agencies"]}
    assert len(logins) == len(demo_logins())


def test_the_demo_province_code_is_checked() -> None:
    with pytest.raises(ValueError):
        RegistrySettings(seed_demo_province="h98")
    assert RegistrySettings(seed_demo_province="H98").seed_demo_province == "H98"

"""Enterprise names are compared after Unicode normalisation (NFKC, zero-width and bidi controls removed).

Four enterprises that all display as 泽州县示范矿业有限公司 could once be created in one town; then the
name-based enforcement import refused the name for everyone. Now a duplicate in a town is refused,
naming the existing enterprise, through the service, the API, the page form and the importer.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from openpyxl import Workbook
from rest_framework.test import APIClient

from inspections.imports import enforcement_import_commit
from inspections.models import EnforcementRecord
from portal import services
from portal.models import Enterprise
from portal.validators import clean_name, name_key
from tests.conftest import Cast, World
from tests.factories import make_credit_code

NAME = "泽州县示范矿业有限公司"
LOOKALIKES = [
    "泽州县示范矿业有限公司\u200b",  # zero-width space
    "\u202e泽州县示范矿业有限公司\u202c",  # right-to-left override
    "泽州县示范矿业\u200d有限公司",  # zero-width joiner
    " 泽州县示范矿业有限公司\ufeff",  # BOM, outer space
    "泽州县示范矿业有限公司\u2066\u2069",  # isolates
]


def test_lookalike_names_share_one_key() -> None:
    for name in LOOKALIKES:
        assert name_key(name) == name_key(NAME), repr(name)
        assert clean_name(name) == NAME, repr(name)
    # NFKC: full-width letters and brackets fold; different names stay different.
    assert name_key("泽州县ＡＢＣ矿业（集团）有限公司") == name_key("泽州县ABC矿业(集团)有限公司")
    assert name_key("泽州县示范矿业有限公司") != name_key("泽州县示范矿业有限责任公司")


def fields(world: World, name: str, n: int) -> dict[str, Any]:
    return dict(
        name=name, credit_code=make_credit_code(7000 + n), town=world.town_a, industry="open_pit",
        production_status="producing",
    )  # fmt: skip


def test_a_lookalike_name_in_the_same_town_is_refused_naming_the_existing_one(cast: Cast, world: World) -> None:
    before = Enterprise.objects.count()
    for n, name in enumerate(LOOKALIKES):
        with pytest.raises(ValidationError, match=f"巴公镇已有同名企业“{NAME}”（统一社会信用代码 91140525MA0K7XQ215）"):
            services.enterprise_create(actor=cast.admin, **fields(world, name, n))
    assert Enterprise.objects.count() == before
    # Another town may have an enterprise of that name; invisible characters are not stored.
    other = services.enterprise_create(actor=cast.admin, **{**fields(world, LOOKALIKES[0], 9), "town": world.town_b})
    assert other.name == NAME
    # Renaming another enterprise of the town into a lookalike is refused too.
    with pytest.raises(ValidationError, match="已有同名企业"):
        services.enterprise_update(actor=cast.admin, enterprise=world.enterprise_a2, data={"name": LOOKALIKES[1]})
    world.enterprise_a2.refresh_from_db()
    assert world.enterprise_a2.name == "巴公镇第二石料厂"
    # An enterprise keeps its own name through an edit.
    services.enterprise_update(actor=cast.admin, enterprise=world.enterprise_a, data={"address": "巴公镇"})


def test_the_api_and_the_page_refuse_a_lookalike(cast: Cast, world: World) -> None:
    client = APIClient()
    client.force_login(cast.county_staff)
    payload = {**fields(world, LOOKALIKES[1], 1), "town": world.town_a.pk}
    response = client.post("/api/v1/enterprises/", payload, format="json")
    assert response.status_code == 400 and "已有同名企业" in response.content.decode()
    page = Client()
    page.force_login(cast.county_staff)
    a2 = world.enterprise_a2
    edit = {name: "" for name in services.ENTERPRISE_EDITABLE_FIELDS}
    edit.update(
        name=LOOKALIKES[1], credit_code=a2.credit_code, town=world.town_a.pk, industry=a2.industry,
        production_status=a2.production_status,
    )  # fmt: skip
    form = page.post(f"/enterprises/{a2.pk}/edit/", edit)
    assert form.status_code == 200 and "已有同名企业" in form.content.decode()
    a2.refresh_from_db()
    assert a2.name == "巴公镇第二石料厂"
    assert Enterprise.objects.filter(town=world.town_a).count() == 2


def test_the_enforcement_import_finds_the_enterprise_by_a_lookalike_name(cast: Cast, world: World) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["序号", "处理类型", "日期", "企业名称", "姓名", "罚款金额（万元）", "文书编号", "事由"])
    sheet.append([1, "停产整顿", "2024-05-21", LOOKALIKES[1], "", "", "", "重大事故隐患"])
    sheet.append([2, "停产整顿", "2024-05-22", "泽州县示范矿业有限公司（ＺＺ）", "", "", "", ""])
    stream = io.BytesIO()
    workbook.save(stream)
    result = enforcement_import_commit(source=stream.getvalue(), actor=cast.town_a_staff)
    assert not result.committed
    lines = result.error_lines()
    assert not any(line.startswith("第2行") for line in lines), lines  # the lookalike is found
    assert any(line.startswith("第3行") and "不是本辖区" in line for line in lines), lines
    assert EnforcementRecord.objects.count() == 0


def test_the_directory_import_refuses_a_lookalike_of_an_enterprise_in_the_town(cast: Cast, world: World) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["序号", "企业名称", "统一社会信用代码", "所在镇", "行业类别", "生产状态"])
    sheet.append([1, LOOKALIKES[2], make_credit_code(7100), "巴公镇", "露天矿山", "正常生产"])
    sheet.append([2, "巴公镇新开石料有限公司", make_credit_code(7101), "巴公镇", "露天矿山", "正常生产"])
    sheet.append([3, "巴公镇新开石料有限公司\u200b", make_credit_code(7102), "巴公镇", "露天矿山", "正常生产"])
    stream = io.BytesIO()
    workbook.save(stream)
    before = Enterprise.objects.count()
    result = services_import(stream.getvalue(), cast)
    lines = result.error_lines()
    assert not result.committed, lines
    assert any(line.startswith("第2行") and "已有同名企业" in line and NAME in line for line in lines), lines
    assert any(line.startswith("第4行") and "与第3行的企业同镇同名" in line for line in lines), lines
    assert Enterprise.objects.count() == before


def services_import(data: bytes, cast: Cast) -> Any:
    from portal.imports import enterprise_import_commit

    return enterprise_import_commit(source=data, user=cast.admin)


def test_the_admin_site_refuses_a_lookalike(cast: Cast, world: World) -> None:
    from tests.otp_helpers import force_login_verified

    client = Client()
    force_login_verified(client, cast.admin)
    a2 = world.enterprise_a2
    data = {
        "name": LOOKALIKES[3], "credit_code": a2.credit_code, "town": world.town_a.pk, "industry": a2.industry,
        "production_status": a2.production_status, "risk_grade": "", "standardization_grade": "",
        "license_number": "", "address": "", "contact_name": "", "contact_phone": "",
        "people-TOTAL_FORMS": "0", "people-INITIAL_FORMS": "0",
    }  # fmt: skip
    response = client.post(f"/admin/portal/enterprise/{a2.pk}/change/", data)
    assert response.status_code == 200 and "已有同名企业" in response.content.decode()
    a2.refresh_from_db()
    assert a2.name == "巴公镇第二石料厂"

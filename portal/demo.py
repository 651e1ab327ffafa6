"""Demo and benchmark data: one deterministic builder at three nested scales.

    demo      泽州县 (140525) under 晋城市 with its real towns, about 60 fictional enterprises with
              people and parent companies, two smaller counties (上党区, 平陆县) so that the deployment
              holds several counties, and one user per role (password `DEMO_PASSWORD`).
    county    the demo, with 泽州县 filled up to 300 enterprises in bulk.
    province  the county scale, plus every city and county of 山西省 (11 cities, 117 counties, about
              1,400 towns) and about 6,000 enterprises in all, in bulk.

Every record is derived from a fixed seed and its own identity (a region code, or a county code and
an index), never from the order in which things are built, so the scales nest: the demo's
enterprises are the first rows of the county scale, which are the first rows of the province scale.
Building is idempotent: records are looked up by their natural key (region code, credit code,
username) and only the missing ones are created; nothing that exists is changed.

The demo part goes through `portal.services` (validated, audited, like an operator's work). Bench
data beyond it is written with `bulk_create` in batches, inside the same transaction, without
per-row audit rows.

Later issues extend the data with `register_step(...)`: a step receives the `DemoBuild` (scale, regions
by code, enterprises per county, a logger, counters) after the directory exists.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import transaction
from django.utils import timezone

from portal import services
from portal.choices import (
    Industry,
    PersonRole,
    PrincipalKind,
    ProductionStatus,
    RegionLevel,
    RiskGrade,
    Role,
    StandardizationGrade,
)
from portal.models import Enterprise, ParentCompany, Person, Region, User
from portal.scoping import in_subtree
from portal.validators import CREDIT_CODE_ALPHABET, credit_code_check_char

SEED = 20240408
DEMO_PASSWORD = "Demo-2024-portal"  # noqa: S105 - public demo password, documented in the README; passes the password validators  # nosec B105 # the public demo password
DEMO_URL = "http://127.0.0.1:8000"
BATCH_SIZE = 500

# --- Geography ---------------------------------------------------------------------------------

PROVINCE_CODE, PROVINCE_NAME = "140000", "山西省"
DEMO_CITY_CODE = "140500"  # 晋城市
DEMO_COUNTY_CODE = "140525"  # 泽州县

# The 11 cities and 117 county-level divisions of 山西省 (administrative division codes).
CITIES: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("140100", "太原市", (
        ("140105", "小店区"), ("140106", "迎泽区"), ("140107", "杏花岭区"), ("140108", "尖草坪区"),
        ("140109", "万柏林区"), ("140110", "晋源区"), ("140121", "清徐县"), ("140122", "阳曲县"),
        ("140123", "娄烦县"), ("140181", "古交市"),
    )),
    ("140200", "大同市", (
        ("140212", "新荣区"), ("140213", "平城区"), ("140214", "云冈区"), ("140215", "云州区"),
        ("140221", "阳高县"), ("140222", "天镇县"), ("140223", "广灵县"), ("140224", "灵丘县"),
        ("140225", "浑源县"), ("140226", "左云县"),
    )),
    ("140300", "阳泉市", (
        ("140302", "城区"), ("140303", "矿区"), ("140311", "郊区"), ("140321", "平定县"), ("140322", "盂县"),
    )),
    ("140400", "长治市", (
        ("140403", "潞州区"), ("140404", "上党区"), ("140405", "屯留区"), ("140406", "潞城区"),
        ("140423", "襄垣县"), ("140425", "平顺县"), ("140426", "黎城县"), ("140427", "壶关县"),
        ("140428", "长子县"), ("140429", "武乡县"), ("140430", "沁县"), ("140431", "沁源县"),
    )),
    ("140500", "晋城市", (
        ("140502", "城区"), ("140521", "沁水县"), ("140522", "阳城县"), ("140524", "陵川县"),
        ("140525", "泽州县"), ("140581", "高平市"),
    )),
    ("140600", "朔州市", (
        ("140602", "朔城区"), ("140603", "平鲁区"), ("140621", "山阴县"), ("140622", "应县"),
        ("140623", "右玉县"), ("140681", "怀仁市"),
    )),
    ("140700", "晋中市", (
        ("140702", "榆次区"), ("140703", "太谷区"), ("140721", "榆社县"), ("140722", "左权县"),
        ("140723", "和顺县"), ("140724", "昔阳县"), ("140725", "寿阳县"), ("140727", "祁县"),
        ("140728", "平遥县"), ("140729", "灵石县"), ("140781", "介休市"),
    )),
    ("140800", "运城市", (
        ("140802", "盐湖区"), ("140821", "临猗县"), ("140822", "万荣县"), ("140823", "闻喜县"),
        ("140824", "稷山县"), ("140825", "新绛县"), ("140826", "绛县"), ("140827", "垣曲县"),
        ("140828", "夏县"), ("140829", "平陆县"), ("140830", "芮城县"), ("140881", "永济市"),
        ("140882", "河津市"),
    )),
    ("140900", "忻州市", (
        ("140902", "忻府区"), ("140921", "定襄县"), ("140922", "五台县"), ("140923", "代县"),
        ("140924", "繁峙县"), ("140925", "宁武县"), ("140926", "静乐县"), ("140927", "神池县"),
        ("140928", "五寨县"), ("140929", "岢岚县"), ("140930", "河曲县"), ("140931", "保德县"),
        ("140932", "偏关县"), ("140981", "原平市"),
    )),
    ("141000", "临汾市", (
        ("141002", "尧都区"), ("141021", "曲沃县"), ("141022", "翼城县"), ("141023", "襄汾县"),
        ("141024", "洪洞县"), ("141025", "古县"), ("141026", "安泽县"), ("141027", "浮山县"),
        ("141028", "吉县"), ("141029", "乡宁县"), ("141030", "大宁县"), ("141031", "隰县"),
        ("141032", "永和县"), ("141033", "蒲县"), ("141034", "汾西县"), ("141081", "侯马市"),
        ("141082", "霍州市"),
    )),
    ("141100", "吕梁市", (
        ("141102", "离石区"), ("141121", "文水县"), ("141122", "交城县"), ("141123", "兴县"),
        ("141124", "临县"), ("141125", "柳林县"), ("141126", "石楼县"), ("141127", "岚县"),
        ("141128", "方山县"), ("141129", "中阳县"), ("141130", "交口县"), ("141181", "孝义市"),
        ("141182", "汾阳市"),
    )),
)  # fmt: skip

# Real towns of the demo counties, in a stable order: town k of a county gets code county + (100 + k).
# 泽州县's list is the one place its towns are named (巴公镇 = 140525108, 高都镇 = 140525107).
DEMO_TOWNS: dict[str, tuple[str, ...]] = {
    "140525": (
        "南村镇", "下村镇", "大东沟镇", "周村镇", "犁川镇", "晋庙铺镇", "金村镇", "高都镇", "巴公镇",
        "大阳镇", "山河镇", "李寨乡", "柳树口镇", "北义城镇", "南岭乡", "川底乡", "大箕镇",
    ),
    "140404": ("韩店镇", "苏店镇", "荫城镇"),  # 长治市上党区
    "140829": ("圣人涧镇", "常乐镇", "张店镇"),  # 运城市平陆县
}  # fmt: skip
DEMO_CITIES = ("140500", "140400", "140800")

# Generated town names for the bench counties (fictional).
_TOWN_HEADS = "东西南北新古上下大小石龙马杨白黄青柳桃杏"
_TOWN_TAILS = "庄村峪沟河坪泉口店堡寨关头岭"


def town_code(county_code: str, index: int) -> str:
    return f"{county_code}{100 + index:03d}"


def _county_index() -> dict[str, tuple[str, str, str]]:
    """county code → (county name, city code, city name)."""
    return {code: (name, city_code, city_name) for city_code, city_name, counties in CITIES for code, name in counties}


COUNTIES = _county_index()


def town_names(county_code: str, *, full_province: bool) -> tuple[str, ...]:
    """The towns of a county: the real ones for the demo counties, about 12 generated ones elsewhere."""
    if county_code in DEMO_TOWNS:
        return DEMO_TOWNS[county_code]
    if not full_province:
        return ()
    rng = random.Random(f"{SEED}:towns:{county_code}")  # noqa: S311 - demo data, not secrets  # nosec B311 # demo data
    count = rng.randint(9, 16)
    names: list[str] = []
    while len(names) < count:
        name = rng.choice(_TOWN_HEADS) + rng.choice(_TOWN_TAILS) + ("镇" if rng.random() < 0.8 else "乡")
        if name not in names:
            names.append(name)
    return tuple(names)


# --- Scales ------------------------------------------------------------------------------------

# Enterprises built through the services (the demo part), per county.
DEMO_ENTERPRISES: dict[str, int] = {"140525": 60, "140404": 3, "140829": 3}
COUNTY_SCALE_ENTERPRISES = 300
PROVINCE_SCALE_ENTERPRISES = 6000
PARENT_COMPANIES_PER_COUNTY = 4


@dataclass(frozen=True)
class Scale:
    name: str
    label: str
    full_province: bool

    def enterprise_targets(self) -> dict[str, int]:
        """How many enterprises each county holds at this scale (demo rows included)."""
        targets = dict(DEMO_ENTERPRISES)
        if self.name in {"county", "province"}:
            targets[DEMO_COUNTY_CODE] = COUNTY_SCALE_ENTERPRISES
        if self.name == "province":
            others = [code for code in COUNTIES if code != DEMO_COUNTY_CODE]
            base, extra = divmod(PROVINCE_SCALE_ENTERPRISES - COUNTY_SCALE_ENTERPRISES, len(others))
            for position, code in enumerate(others):
                targets[code] = base + (1 if position < extra else 0)
        return targets


SCALES: dict[str, Scale] = {
    "demo": Scale("demo", "演示", full_province=False),
    "county": Scale("county", "县级基准", full_province=False),
    "province": Scale("province", "省级基准", full_province=True),
}


# --- Identities --------------------------------------------------------------------------------

_SERIAL_SPACE = 31**7
_SERIAL_MULTIPLIER = 16_807_491_113  # coprime with 31, so serial → code is a bijection
_SERIAL_OFFSET = 123_456_789
_PARENT_SERIAL_BASE = 10_000_000

SHOWCASE_NAME = "泽州县示范矿业有限公司"
SHOWCASE_CREDIT_CODE = "91140525MA0K7XQ215"
SHOWCASE_TOWN = "巴公镇"


def credit_code(region_code: str, serial: int) -> str:
    """A valid 统一社会信用代码 (企业法人, 91…) registered in `region_code`, unique per (region, serial)."""
    n = (serial * _SERIAL_MULTIPLIER + _SERIAL_OFFSET) % _SERIAL_SPACE
    chars: list[str] = []
    for _ in range(7):
        n, r = divmod(n, 31)
        chars.append(CREDIT_CODE_ALPHABET[r])
    body = f"91{region_code}MA{''.join(reversed(chars))}"
    return body + credit_code_check_char(body)


def enterprise_credit_code(county_code: str, index: int) -> str:
    if county_code == DEMO_COUNTY_CODE and index == 0:
        return SHOWCASE_CREDIT_CODE
    return credit_code(county_code, index + 1)


def parent_company_credit_code(county_code: str, index: int) -> str:
    return credit_code(county_code, _PARENT_SERIAL_BASE + index)


def id_number(area: str, rng: random.Random) -> str:
    """A fictional 18-digit 居民身份证号 with a valid GB 11643 check digit."""
    birth = dt.date(1962, 1, 1) + dt.timedelta(days=rng.randrange(0, 33 * 365))
    body = f"{area}{birth:%Y%m%d}{rng.randrange(0, 1000):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(body, weights, strict=True))
    return body + "10X98765432"[total % 11]


def _phone(rng: random.Random) -> str:
    return rng.choice(("135", "136", "138", "139", "150", "152", "158", "187")) + f"{rng.randrange(0, 10**8):08d}"


_SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林郑梁宋韩冯牛申段常郝秦"
_GIVEN = (
    "建国", "国强", "志明", "卫东", "海军", "文斌", "晓东", "永红", "丽华", "建军", "红梅", "俊杰", "鹏飞", "志刚",
    "玉兰", "春生", "保平", "建平", "晋生", "小军", "学文", "利民", "二虎", "跃进", "宏伟", "振华", "秀英", "晓燕",
)  # fmt: skip


def _person_name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + rng.choice(_GIVEN)


# --- Specifications (pure functions of the seed and the identity) -------------------------------

_NAME_WORDS = (
    "鑫源", "宏达", "金鼎", "恒泰", "兴旺", "昌盛", "瑞丰", "华泰", "宝山", "聚鑫", "福源", "永安", "泰和", "德润",
    "金海", "天成", "广源", "隆盛", "晋丰", "盛达", "鸿运", "三友", "金石", "太行", "凤凰", "龙泉", "长青", "丰泽",
    "润土", "中和",
)  # fmt: skip
_NAME_SUFFIXES: dict[str, tuple[str, ...]] = {
    Industry.UNDERGROUND: ("铁矿有限公司", "铝土矿有限公司", "硫铁矿有限公司"),
    Industry.OPEN_PIT: ("石料有限公司", "石灰岩矿有限公司", "建材矿业有限公司"),
    Industry.TAILINGS: ("选矿有限公司尾矿库",),
    Industry.QUARRY: ("采石场",),
    Industry.EXPLORATION: ("地质勘查有限公司",),
    Industry.OTHER: ("矿业有限公司",),
}
_INDUSTRY_WEIGHTS = (
    (Industry.OPEN_PIT, 35), (Industry.QUARRY, 20), (Industry.UNDERGROUND, 20), (Industry.TAILINGS, 10),
    (Industry.EXPLORATION, 5), (Industry.OTHER, 10),
)  # fmt: skip
_STATUS_WEIGHTS = (
    (ProductionStatus.PRODUCING, 55), (ProductionStatus.BUILDING, 10), (ProductionStatus.SUSPENDED, 20),
    (ProductionStatus.CONSTRUCTION_HALTED, 5), (ProductionStatus.CLOSED, 10),
)  # fmt: skip
_RISK_WEIGHTS = ((RiskGrade.A, 10), (RiskGrade.B, 25), (RiskGrade.C, 40), (RiskGrade.D, 25))
_STANDARDIZATION_WEIGHTS = (
    (StandardizationGrade.FIRST, 5), (StandardizationGrade.SECOND, 30), (StandardizationGrade.THIRD, 45),
    (StandardizationGrade.NONE, 20),
)  # fmt: skip
_SPECIAL_OPERATIONS = (
    "金属非金属矿山爆破作业", "金属非金属矿山安全检查作业", "金属非金属矿山提升机操作作业",
    "金属非金属矿山排水作业", "尾矿作业", "低压电工作业", "焊接与热切割作业", "高处作业",
)  # fmt: skip
_PRINCIPAL_KINDS = (
    PrincipalKind.LEGAL_REPRESENTATIVE,
    PrincipalKind.ACTUAL_CONTROLLER,
    PrincipalKind.ACTUAL_RESPONSIBLE,
)
_LICENSED = {Industry.UNDERGROUND, Industry.OPEN_PIT, Industry.TAILINGS, Industry.QUARRY}
_CERTIFICATE_BASE = dt.date(2024, 1, 1)

_T = TypeVar("_T")

# Licences of a few demo enterprises expire relative to the day the demo is built, so that a newcomer
# sees one expired and others expiring within 30, 60 and 90 days (issue 13 §7): index → days from today.
# (The showcase's own expires in 45 days.) The live step keeps them in these windows on later runs.
LIVE_LICENCE_DAYS: dict[int, int] = {0: 45, 5: -20, 9: 25, 10: 50, 12: 80}


def demo_today() -> dt.date:
    """Today in the portal's time zone (Beijing), the day the live demo data is relative to."""
    return timezone.localdate()


def _weighted(rng: random.Random, weighted: Sequence[tuple[_T, int]]) -> _T:
    return rng.choices([value for value, _ in weighted], weights=[weight for _, weight in weighted])[0]


@dataclass
class EnterpriseSpec:
    """What one enterprise of a county looks like; `parent_index` names one of its county's parents."""

    fields: dict[str, Any]
    parent_index: int | None
    people: list[dict[str, Any]]


def _person(rng: random.Random, area: str, role: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": _person_name(rng),
        "role": role,
        "id_number": id_number(area, rng),
        "phone": _phone(rng),
        **extra,
    }


def enterprise_spec(county_code: str, county_name: str, towns: Sequence[Region], index: int) -> EnterpriseSpec:
    """Enterprise number `index` of a county, with its people. Deterministic in (county, index)."""
    rng = random.Random(f"{SEED}:enterprise:{county_code}:{index}")  # noqa: S311 - demo data  # nosec B311 # demo data
    showcase = county_code == DEMO_COUNTY_CODE and index == 0
    if showcase:
        town = next(t for t in towns if t.name == SHOWCASE_TOWN)
        industry: str = Industry.OPEN_PIT
        status: str = ProductionStatus.PRODUCING
        name = SHOWCASE_NAME
    else:
        town = towns[index % len(towns)]
        industry = _weighted(rng, _INDUSTRY_WEIGHTS)
        status = _weighted(rng, _STATUS_WEIGHTS)
        word = _NAME_WORDS[index % len(_NAME_WORDS)]
        name = f"{county_name}{town.name}{word}{rng.choice(_NAME_SUFFIXES[industry])}"
    licensed = industry in _LICENSED and status != ProductionStatus.CLOSED
    license_year = rng.randint(2021, 2024)
    fields: dict[str, Any] = {
        "name": name,
        "credit_code": enterprise_credit_code(county_code, index),
        "town": town,
        "industry": industry,
        "production_status": status,
        "risk_grade": RiskGrade.C if showcase else _weighted(rng, _RISK_WEIGHTS),
        "standardization_grade": StandardizationGrade.THIRD if showcase else _weighted(rng, _STANDARDIZATION_WEIGHTS),
        "license_number": f"（晋）FM安许证字〔{license_year}〕{county_code[2:4]}{index + 1:04d}" if licensed else "",
        "license_expiry": (dt.date(license_year + 3, rng.randint(1, 12), rng.randint(1, 28)) if licensed else None),
        "address": f"{town.name}{rng.choice(_TOWN_HEADS)}{rng.choice(_TOWN_TAILS)}村",
    }
    if county_code == DEMO_COUNTY_CODE and index in LIVE_LICENCE_DAYS and licensed:
        fields["license_expiry"] = demo_today() + dt.timedelta(days=LIVE_LICENCE_DAYS[index])
    parent_index = 0 if showcase else (rng.randrange(PARENT_COMPANIES_PER_COUNTY) if rng.random() < 0.3 else None)

    principal = _person(
        rng, county_code, PersonRole.PRINCIPAL,
        principal_kind=PrincipalKind.LEGAL_REPRESENTATIVE if showcase else _PRINCIPAL_KINDS[index % 3],
        certificate_type="主要负责人安全生产知识和管理能力考核合格证",
    )  # fmt: skip
    if showcase:
        principal["name"] = "王建国"
    people = [
        principal,
        _person(
            rng, county_code, PersonRole.SAFETY, certificate_type="安全生产管理人员安全生产知识和管理能力考核合格证"
        ),
        _person(rng, county_code, PersonRole.TECHNICAL),
    ]
    for person in people:
        if person.get("certificate_type"):
            person["certificate_number"] = f"{county_code}{rng.randrange(10**9):09d}"
            person["certificate_expiry"] = _CERTIFICATE_BASE + dt.timedelta(days=rng.randrange(0, 4 * 365))
    operators = 3 if showcase else (rng.randint(1, 3) if index % 3 == 0 else 0)
    for _ in range(operators):
        person = _person(
            rng, county_code, PersonRole.SPECIAL_OPERATOR, certificate_type=rng.choice(_SPECIAL_OPERATIONS)
        )
        person["certificate_number"] = "T" + person["id_number"]
        # Some certificates expire soon or have expired: 特种作业操作证 are valid six years.
        person["certificate_expiry"] = _CERTIFICATE_BASE + dt.timedelta(days=rng.randrange(-120, 6 * 365))
        people.append(person)
    fields["contact_name"] = principal["name"]
    fields["contact_phone"] = principal["phone"]
    return EnterpriseSpec(fields=fields, parent_index=parent_index, people=people)


_PARENT_WORDS = ("晋煤", "太行", "华晋", "丹河", "凤城", "泫氏", "沁河", "晋东", "王屋", "中条")


def parent_company_spec(county_code: str, county_name: str, index: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Parent company number `index` of a county, with its 主要负责人 and 分管负责人."""
    rng = random.Random(f"{SEED}:parent:{county_code}:{index}")  # noqa: S311 - demo data  # nosec B311 # demo data
    word = _PARENT_WORDS[(int(county_code) + index) % len(_PARENT_WORDS)]
    fields = {
        "name": f"{county_name}{word}{('矿业集团', '实业集团', '建材集团', '投资集团')[index % 4]}有限公司",
        "credit_code": parent_company_credit_code(county_code, index),
        "address": f"{county_name}{rng.choice(_TOWN_HEADS)}{rng.choice(_TOWN_TAILS)}路{rng.randint(1, 200)}号",
    }
    people = [
        _person(rng, county_code, PersonRole.PRINCIPAL, principal_kind=PrincipalKind.LEGAL_REPRESENTATIVE),
        _person(rng, county_code, PersonRole.DEPUTY),
    ]
    return fields, people


# --- Users -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str
    role: str
    region_code: str | None = None
    enterprise_credit_code: str | None = None
    is_staff: bool = False
    is_superuser: bool = False
    # The demo enterprise Person the account signs as (enterprise principal).
    person_role: str | None = None

    @property
    def role_label(self) -> str:
        return "超级管理员" if self.is_superuser else Role(self.role).label


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("clerk", "李晓燕", Role.ENTERPRISE_CLERK, enterprise_credit_code=SHOWCASE_CREDIT_CODE),
    DemoUser(
        "principal", "王建国", Role.ENTERPRISE_PRINCIPAL,
        enterprise_credit_code=SHOWCASE_CREDIT_CODE, person_role=PersonRole.PRINCIPAL,
    ),
    DemoUser("town_bagong", "赵卫东", Role.TOWN_STAFF, region_code=town_code("140525", 8)),
    DemoUser("town_gaodu", "陈丽华", Role.TOWN_STAFF, region_code=town_code("140525", 7)),
    DemoUser("county_staff", "刘志刚", Role.COUNTY_STAFF, region_code=DEMO_COUNTY_CODE),
    DemoUser("county_leader", "张振华", Role.COUNTY_LEADER, region_code=DEMO_COUNTY_CODE),
    DemoUser("county_admin", "杨俊杰", Role.ADMIN, region_code=DEMO_COUNTY_CODE, is_staff=True),
    DemoUser("city_viewer", "孙宏伟", Role.CITY_VIEWER, region_code=DEMO_CITY_CODE),
    DemoUser("superadmin", "系统管理员", Role.ADMIN, is_staff=True, is_superuser=True),
)  # fmt: skip


# --- The build ---------------------------------------------------------------------------------


@dataclass
class DemoBuild:
    """What a step sees: the scale, the regions by code, and where to log and count."""

    scale: Scale
    log: Callable[[str], None] = print
    regions: dict[str, Region] = field(default_factory=dict)
    created: Counter[str] = field(default_factory=Counter)
    timings: dict[str, float] = field(default_factory=dict)

    def towns_of(self, county_code: str) -> list[Region]:
        prefix = county_code
        return sorted(
            (r for r in self.regions.values() if r.level == RegionLevel.TOWN and r.code.startswith(prefix)),
            key=lambda r: r.code,
        )

    def counties(self) -> list[Region]:
        return sorted((r for r in self.regions.values() if r.level == RegionLevel.COUNTY), key=lambda r: r.code)

    def reload_regions(self) -> None:
        self.regions = {r.code: r for r in Region.objects.filter(in_subtree(f"/{PROVINCE_CODE}/"))}


Step = Callable[[DemoBuild], None]


def _batches(items: Sequence[_T], size: int = BATCH_SIZE) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _ensure_region(build: DemoBuild, *, code: str, name: str, level: str, parent: Region | None) -> Region:
    region = build.regions.get(code)
    if region is None:
        region = services.region_create(actor=None, code=code, name=name, level=level, parent=parent)
        build.regions[code] = region
        build.created["regions"] += 1
    return region


def step_demo_regions(build: DemoBuild) -> None:
    """山西省, and the three demo cities with one county each and its real towns (through the service)."""
    build.reload_regions()
    province = _ensure_region(build, code=PROVINCE_CODE, name=PROVINCE_NAME, level=RegionLevel.PROVINCE, parent=None)
    for city_code, city_name, counties in CITIES:
        if city_code not in DEMO_CITIES:
            continue
        city = _ensure_region(build, code=city_code, name=city_name, level=RegionLevel.CITY, parent=province)
        for county_code, county_name in counties:
            if county_code not in DEMO_TOWNS:
                continue
            county = _ensure_region(build, code=county_code, name=county_name, level=RegionLevel.COUNTY, parent=city)
            for k, town_name in enumerate(DEMO_TOWNS[county_code]):
                _ensure_region(
                    build, code=town_code(county_code, k), name=town_name, level=RegionLevel.TOWN, parent=county
                )


def step_province_regions(build: DemoBuild) -> None:
    """Every city, county and (generated) town of 山西省, in bulk, level by level."""
    if not build.scale.full_province:
        return
    province = build.regions[PROVINCE_CODE]
    wanted: list[tuple[str, str, str, str]] = []  # code, name, level, parent code
    for city_code, city_name, counties in CITIES:
        wanted.append((city_code, city_name, RegionLevel.CITY, PROVINCE_CODE))
        for county_code, county_name in counties:
            wanted.append((county_code, county_name, RegionLevel.COUNTY, city_code))
            for k, town_name in enumerate(town_names(county_code, full_province=True)):
                wanted.append((town_code(county_code, k), town_name, RegionLevel.TOWN, county_code))
    for level in (RegionLevel.CITY, RegionLevel.COUNTY, RegionLevel.TOWN):
        rows = []
        for code, name, row_level, parent_code in wanted:
            if row_level != level or code in build.regions:
                continue
            parent = build.regions[parent_code] if parent_code != PROVINCE_CODE else province
            # Same path rule as portal.services.region_create.
            path = services._region_path(code=code, parent=parent)
            rows.append(Region(code=code, name=name, level=level, parent=parent, path=path))
        for batch in _batches(rows):
            Region.objects.bulk_create(batch)
        build.created["regions"] += len(rows)
        if rows:
            build.reload_regions()


def _existing_credit_codes(codes: Iterable[str], model: type[Enterprise] | type[ParentCompany]) -> set[str]:
    codes = list(codes)
    found: set[str] = set()
    for batch in _batches(codes, 900):
        found.update(
            str(code) for code in model.objects.filter(credit_code__in=batch).values_list("credit_code", flat=True)
        )
    return found


def step_demo_directory(build: DemoBuild) -> None:
    """The demo enterprises, their parent companies and people, through the services (audited)."""
    for county_code, count in DEMO_ENTERPRISES.items():
        county = build.regions[county_code]
        towns = build.towns_of(county_code)
        specs = [enterprise_spec(county_code, county.name, towns, i) for i in range(count)]
        existing = _existing_credit_codes((s.fields["credit_code"] for s in specs), Enterprise)
        parents = _ensure_parent_companies_via_services(build, county, {s.parent_index for s in specs})
        for spec in specs:
            if spec.fields["credit_code"] in existing:
                continue
            parent = parents[spec.parent_index] if spec.parent_index is not None else None
            enterprise = services.enterprise_create(actor=None, parent_company=parent, **spec.fields)
            build.created["enterprises"] += 1
            for person in spec.people:
                services.person_create(actor=None, enterprise=enterprise, **person)
                build.created["people"] += 1


def _ensure_parent_companies_via_services(
    build: DemoBuild, county: Region, indexes: set[int | None]
) -> dict[int, ParentCompany]:
    wanted = sorted(i for i in indexes if i is not None)
    specs = {i: parent_company_spec(county.code, county.name, i) for i in wanted}
    by_code = {
        p.credit_code: p
        for p in ParentCompany.objects.filter(credit_code__in=[fields["credit_code"] for fields, _ in specs.values()])
    }
    result: dict[int, ParentCompany] = {}
    for i, (fields, people) in specs.items():
        company = by_code.get(fields["credit_code"])
        if company is None:
            company = services.parent_company_create(actor=None, region=county, **fields)
            build.created["parent_companies"] += 1
            for person in people:
                services.person_create(actor=None, parent_company=company, **person)
                build.created["people"] += 1
        result[i] = company
    return result


def step_bulk_directory(build: DemoBuild) -> None:
    """Bench enterprises beyond the demo (county and province scales), in bulk, without audit rows."""
    targets = build.scale.enterprise_targets()
    bulk_targets = {code: n for code, n in targets.items() if n > DEMO_ENTERPRISES.get(code, 0)}
    if not bulk_targets:
        return
    started = time.perf_counter()

    # Parent companies first (4 per county), with their two people.
    parent_rows: list[ParentCompany] = []
    parent_people: dict[str, list[dict[str, Any]]] = {}
    for county_code in bulk_targets:
        county = build.regions[county_code]
        for i in range(PARENT_COMPANIES_PER_COUNTY):
            fields, people = parent_company_spec(county_code, county.name, i)
            parent_rows.append(ParentCompany(region=county, **fields))
            parent_people[fields["credit_code"]] = people
    existing = _existing_credit_codes((p.credit_code or "" for p in parent_rows), ParentCompany)
    new_parents = [p for p in parent_rows if p.credit_code not in existing]
    for parent_batch in _batches(new_parents):
        ParentCompany.objects.bulk_create(parent_batch)
    build.created["parent_companies"] += len(new_parents)
    parent_ids = _ids_by_credit_code(ParentCompany, [p.credit_code or "" for p in parent_rows])
    people_rows = [
        Person(parent_company_id=parent_ids[p.credit_code or ""], **person)
        for p in new_parents
        for person in parent_people[p.credit_code or ""]
    ]

    # Enterprises: every missing index below the county's target.
    enterprise_rows: list[Enterprise] = []
    enterprise_people: dict[str, list[dict[str, Any]]] = {}
    for county_code, target in bulk_targets.items():
        county = build.regions[county_code]
        towns = build.towns_of(county_code)
        codes = [enterprise_credit_code(county_code, i) for i in range(target)]
        existing = _existing_credit_codes(codes, Enterprise)
        for i, code in enumerate(codes):
            if code in existing:
                continue
            spec = enterprise_spec(county_code, county.name, towns, i)
            parent_id = (
                parent_ids[parent_company_credit_code(county_code, spec.parent_index)]
                if spec.parent_index is not None
                else None
            )
            enterprise_rows.append(Enterprise(parent_company_id=parent_id, **spec.fields))
            enterprise_people[code] = spec.people
    for enterprise_batch in _batches(enterprise_rows):
        Enterprise.objects.bulk_create(enterprise_batch)
    build.created["enterprises"] += len(enterprise_rows)
    enterprise_ids = _ids_by_credit_code(Enterprise, [e.credit_code for e in enterprise_rows])
    people_rows.extend(
        Person(enterprise_id=enterprise_ids[e.credit_code], **person)
        for e in enterprise_rows
        for person in enterprise_people[e.credit_code]
    )
    for people_batch in _batches(people_rows):
        Person.objects.bulk_create(people_batch)
    build.created["people"] += len(people_rows)
    build.timings["bulk_directory"] = time.perf_counter() - started


def _ids_by_credit_code(model: type[Enterprise] | type[ParentCompany], codes: Sequence[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for batch in _batches(list(codes), 900):
        for code, pk in model.objects.filter(credit_code__in=batch).values_list("credit_code", "id"):
            ids[str(code)] = pk
    return ids


def step_demo_users(build: DemoBuild) -> None:
    """One account per role (password DEMO_PASSWORD), created through the service if missing."""
    existing = set(
        User.objects.filter(username__in=[u.username for u in DEMO_USERS]).values_list("username", flat=True)
    )
    for spec in DEMO_USERS:
        if spec.username in existing:
            continue
        enterprise = (
            Enterprise.objects.get(credit_code=spec.enterprise_credit_code) if spec.enterprise_credit_code else None
        )
        person = (
            Person.objects.filter(enterprise=enterprise, role=spec.person_role).order_by("id").first()
            if enterprise is not None and spec.person_role
            else None
        )
        services.user_create(
            actor=None,
            username=spec.username,
            password=DEMO_PASSWORD,
            role=spec.role,
            full_name=spec.full_name,
            region=build.regions[spec.region_code] if spec.region_code else None,
            enterprise=enterprise,
            person=person,
            is_staff=spec.is_staff,
            is_superuser=spec.is_superuser,
        )
        build.created["users"] += 1


# Steps run in this order, in one transaction. Later issues append theirs with `register_step`.
STEPS: list[tuple[str, Step]] = [
    ("demo_regions", step_demo_regions),
    ("province_regions", step_province_regions),
    ("demo_directory", step_demo_directory),
    ("demo_users", step_demo_users),
    ("bulk_directory", step_bulk_directory),
]


def register_step(name: str, step: Step, *, after: str | None = None) -> None:
    """Add a data step (e.g. hazards, enforcement records); idempotent by name."""
    if any(existing == name for existing, _ in STEPS):
        return
    if after is None:
        STEPS.append((name, step))
        return
    position = next(i for i, (existing, _) in enumerate(STEPS) if existing == after)
    STEPS.insert(position + 1, (name, step))


def build(scale: str = "demo", *, log: Callable[[str], None] = print) -> DemoBuild:
    """Build (or complete) the data of a scale. Safe to run again: only what is missing is created."""
    state = DemoBuild(scale=SCALES[scale], log=log)
    with transaction.atomic():
        for name, step in STEPS:
            started = time.perf_counter()
            step(state)
            state.timings.setdefault(name, time.perf_counter() - started)
    return state


def login_table() -> list[tuple[str, str, str, str]]:
    """(role, username, password, scope) of the demo accounts, for the command's closing table."""
    rows = []
    for spec in DEMO_USERS:
        if spec.enterprise_credit_code == SHOWCASE_CREDIT_CODE:
            scope = SHOWCASE_NAME
        elif spec.region_code:
            scope = _region_label(spec.region_code)
        else:
            scope = "全部"
        rows.append((spec.role_label, spec.username, DEMO_PASSWORD, scope))
    return rows


def _region_label(code: str) -> str:
    if code == DEMO_CITY_CODE:
        return "晋城市"
    if code in COUNTIES:
        return COUNTIES[code][0]
    county_code = code[:6]
    return COUNTIES[county_code][0] + DEMO_TOWNS[county_code][int(code[6:]) - 100]

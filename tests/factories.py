"""factory_boy factories. Credit codes are generated valid (GB 32100-2015 check digit)."""

from __future__ import annotations

from typing import Any

import factory
from factory.django import DjangoModelFactory

from portal.choices import Industry, PersonRole, ProductionStatus, RegionLevel, Role
from portal.models import Enterprise, ParentCompany, Person, Region, User
from portal.validators import credit_code_check_char


def make_credit_code(n: int, region_code: str = "140525") -> str:
    body = f"91{region_code}MA{n:07d}"[:17]
    body = body.replace("I", "1").replace("O", "0")
    return body + credit_code_check_char(body)


class RegionFactory(DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"9{n:08d}")
    name = factory.Sequence(lambda n: f"测试区划{n}")
    level = RegionLevel.TOWN
    parent = None
    path = factory.LazyAttribute(lambda o: f"{o.parent.path if o.parent else '/'}{o.code}/")


class ParentCompanyFactory(DjangoModelFactory):
    class Meta:
        model = ParentCompany

    name = factory.Sequence(lambda n: f"测试集团{n}有限公司")
    credit_code = factory.Sequence(lambda n: make_credit_code(900000 + n))
    region: Any = None


class EnterpriseFactory(DjangoModelFactory):
    class Meta:
        model = Enterprise

    name = factory.Sequence(lambda n: f"测试矿业{n}有限公司")
    credit_code = factory.Sequence(lambda n: make_credit_code(n + 1))
    town: Any = None
    industry = Industry.OPEN_PIT
    production_status = ProductionStatus.PRODUCING


class PersonFactory(DjangoModelFactory):
    class Meta:
        model = Person

    name = factory.Sequence(lambda n: f"张{n}")
    role = PersonRole.PRINCIPAL
    id_number = "140525198001011234"
    phone = "13800001234"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"用户{n}")
    role = Role.TOWN_STAFF
    password = factory.PostGenerationMethodCall("set_password", "Portal-Test-2024!")

    @factory.post_generation
    def _save(obj: User, create: bool, extracted: Any, **kwargs: Any) -> None:  # type: ignore[misc]
        if create:
            obj.save()


TEST_PASSWORD = "Portal-Test-2024!"

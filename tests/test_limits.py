"""Nothing runs unbounded — the class-closing walkers: every text field of every model has a max_length,
every string the API accepts has a maxLength, every registered Celery task has soft and hard time limits.
And over-long text refused in Chinese, naming row and column, by the enterprise and enforcement importers
(the ledger, API, form and admin paths are in tests/hazards/test_text_limits.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.db import models
from drf_spectacular.generators import SchemaGenerator

from inspections.imports import enforcement_import_commit
from inspections.models import EnforcementRecord
from portal import limits
from portal.celery import app
from portal.imports import enterprise_import_commit
from portal.models import Enterprise
from tests.conftest import Cast, World
from tests.inspections.test_enforcement_import import _good_rows as enforcement_rows
from tests.inspections.test_enforcement_import import _xlsx as enforcement_file
from tests.test_enterprise_import import code, simple_file

# Text fields that may stay unbounded, each with its reason. None of them is typed by a user of the portal.
UNBOUNDED_TEXT = {
    ("admin", "LogEntry", "object_id"): "Django admin's own history, written by Django from the object's key",
    ("admin", "LogEntry", "change_message"): "written by the admin itself (the changed fields' names), not typed",
    ("sessions", "Session", "session_data"): "Django's signed session payload, written by the framework",
    ("axes", "AccessAttempt", "get_data"): "django-axes records a failed login's query string; request size "
    "is bounded by DATA_UPLOAD_MAX_MEMORY_SIZE",
    ("axes", "AccessAttempt", "post_data"): "django-axes records a failed login's form (password masked); "
    "bounded by DATA_UPLOAD_MAX_MEMORY_SIZE",
}


def test_every_text_field_of_every_model_has_a_max_length() -> None:
    unbounded = {
        (model._meta.app_label, model.__name__, field.name)
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.CharField | models.TextField) and not field.max_length
    }
    missing = sorted(unbounded - set(UNBOUNDED_TEXT))
    assert not missing, f"text fields without max_length (add one from portal.limits): {missing}"
    assert not set(UNBOUNDED_TEXT) - unbounded, "the allow-list names a field that is bounded now or gone"


def test_our_long_texts_use_the_declared_limits() -> None:
    """Spot checks that the issue's field got its limit (a 1,000,000-character description was accepted)."""
    hazard = apps.get_model("hazards", "Hazard")
    assert hazard._meta.get_field("description").max_length == limits.TEXT_NOTE
    assert apps.get_model("hazards", "HazardEvent")._meta.get_field("comment").max_length == limits.TEXT_COMMENT
    assert apps.get_model("inspections", "Campaign")._meta.get_field("summary").max_length == limits.TEXT_LONG


def _unbounded_inputs() -> list[str]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    found: list[str] = []

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = components[node["$ref"].rsplit("/", 1)[-1]]
        return node

    def walk(node: dict[str, Any], where: str) -> None:
        node = resolve(node)
        for key in ("allOf", "oneOf", "anyOf"):
            for sub in node.get(key, []):
                walk(sub, where)
        if node.get("type") == "object" or "properties" in node:
            for name, prop in node.get("properties", {}).items():
                if not prop.get("readOnly"):
                    walk(prop, f"{where}.{name}")
        elif node.get("type") == "array":
            walk(node.get("items", {}), f"{where}[]")
        elif node.get("type") == "string" and not ({"enum", "format", "maxLength"} & set(node)):
            found.append(where)

    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for content_type, content in operation.get("requestBody", {}).get("content", {}).items():
                walk(content["schema"], f"{method.upper()} {path} ({content_type})")
    return found


@pytest.mark.django_db
def test_every_string_the_api_accepts_has_a_max_length() -> None:
    """Explicit serializer fields (serializers.CharField without max_length) are caught here too."""
    assert not _unbounded_inputs()


def test_every_registered_task_has_soft_and_hard_time_limits() -> None:
    app.loader.import_default_modules()
    tasks = {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}
    assert {"reporting.tasks.run_export", "reporting.tasks.run_sign", "portal.tasks.ping"} <= set(tasks)
    for name, task in tasks.items():
        soft, hard = task.soft_time_limit, task.time_limit
        assert soft and hard and 0 < soft < hard, f"{name}: soft_time_limit={soft}, time_limit={hard}"


def test_report_job_limits_come_from_the_environment_with_the_documented_defaults() -> None:
    assert limits.report_job_limits({}) == {"soft_time_limit": 300, "time_limit": 360}
    assert limits.report_job_limits({"REPORT_JOB_SOFT_SECONDS": "2", "REPORT_JOB_HARD_SECONDS": "6"}) == {
        "soft_time_limit": 2,
        "time_limit": 6,
    }
    # The hard limit must leave the task the chance to fail its job itself at the soft one.
    for soft, hard in (("6", "6"), ("10", "5"), ("0", "5")):
        with pytest.raises(ValueError, match="REPORT_JOB_HARD_SECONDS"):
            limits.report_job_limits({"REPORT_JOB_SOFT_SECONDS": soft, "REPORT_JOB_HARD_SECONDS": hard})


def test_the_worker_has_a_default_limit_too(settings: Any) -> None:
    assert 0 < settings.CELERY_TASK_SOFT_TIME_LIMIT < settings.CELERY_TASK_TIME_LIMIT


@pytest.mark.django_db
def test_the_enterprise_importer_refuses_an_over_long_cell_by_row_and_column(world: World, cast: Cast) -> None:
    header = ["序号", "企业名称", "统一社会信用代码", "所在镇", "行业类别", "生产状态", "地址"]
    limit = Enterprise._meta.get_field("address").max_length
    rows = [
        [1, "导入测试矿业甲有限公司", code(1), "巴公镇", "露天矿山", "正常生产", "泽州县巴公镇"],
        [2, "导入测试矿业乙有限公司", code(2), "巴公镇", "露天矿山", "正常生产", "地" * (limit + 1)],
    ]
    before = Enterprise.objects.count()
    result = enterprise_import_commit(source=simple_file(rows, header), user=cast.county_staff)
    assert not result.committed and Enterprise.objects.count() == before
    assert result.error_lines() == [f"第3行 地址：不能超过 {limit} 个字（现有 {limit + 1} 个字）。"]
    rows[1][6] = "地" * limit
    assert enterprise_import_commit(source=simple_file(rows, header), user=cast.county_staff).committed


@pytest.mark.django_db
def test_the_enforcement_importer_refuses_an_over_long_cell_by_row_and_column(world: World, cast: Cast) -> None:
    rows = enforcement_rows(world)
    rows[1][7] = "由" * (limits.TEXT_NOTE + 1)  # 事由及内容
    result = enforcement_import_commit(source=enforcement_file(rows), actor=cast.town_a_staff)
    assert not result.committed and EnforcementRecord.objects.count() == 0
    over = limits.TEXT_NOTE + 1
    assert result.error_lines() == [f"第5行 事由：不能超过 {limits.TEXT_NOTE} 个字（现有 {over} 个字）。"]
    rows[1][7] = "由" * limits.TEXT_NOTE
    assert enforcement_import_commit(source=enforcement_file(rows), actor=cast.town_a_staff).committed


def test_max_length_messages_read_in_chinese(settings: Any) -> None:
    """Django's and DRF's own messages, as forms, the admin and the API give them (portal/locale wins)."""
    from django import forms
    from django.core.exceptions import ValidationError
    from rest_framework import serializers

    assert settings.LANGUAGE_CODE == "zh-hans"
    with pytest.raises(ValidationError) as form_error:
        forms.CharField(max_length=5).clean("超" * 7)
    assert form_error.value.messages == ["不能超过 5 个字（现有 7 个字）。"]
    with pytest.raises(serializers.ValidationError) as api_error:
        serializers.CharField(max_length=5).run_validation("超" * 7)
    assert [str(message) for message in api_error.value.detail] == ["不能超过 5 个字。"]

"""Excel exports. Rows come from the same selectors (and FilterSets) as the pages; every export is audited.

The headers are the importer's column labels, so an exported directory can be edited and imported
back. Text cells go through ``portal.spreadsheets.neutralise_formula`` (in ``write_table``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.http import FileResponse
from django.utils import timezone

from portal import audit_events, selectors
from portal.models import Enterprise, User
from portal.scoping import sees_personal_data
from portal.spreadsheets import write_table

ENTERPRISE_EXPORT_COLUMNS: list[tuple[str, float]] = [
    ("企业名称", 36),
    ("统一社会信用代码", 22),
    ("所在县（区）", 12),
    ("所在镇", 12),
    ("行业类别", 20),
    ("生产状态", 10),
    ("上级企业/主体公司", 30),
    ("安全风险等级", 12),
    ("安全生产标准化等级", 16),
    ("安全生产许可证编号", 24),
    ("许可证有效期至", 14),
    ("地址", 36),
    ("联系人", 10),
    ("联系电话", 16),
]
_FILTER_KEYS = ("q", "town", "industry", "production_status", "risk_grade", "parent_company", "active", "ordering")


def _enterprise_rows(enterprises: Any, *, user: User, counter: list[int]) -> Iterator[list[Any]]:
    enterprise: Enterprise
    for enterprise in enterprises.iterator(chunk_size=2000):
        counter[0] += 1
        town = enterprise.town
        yield [
            enterprise.name,
            enterprise.credit_code,
            town.parent.name if town.parent is not None else "",
            town.name,
            enterprise.get_industry_display(),
            enterprise.get_production_status_display(),
            enterprise.parent_company.name if enterprise.parent_company is not None else "",
            enterprise.get_risk_grade_display() if enterprise.risk_grade else "",
            enterprise.get_standardization_grade_display() if enterprise.standardization_grade else "",
            enterprise.license_number,
            enterprise.license_expiry,
            enterprise.address,
            enterprise.contact_name,
            enterprise.contact_phone
            if sees_personal_data(user, enterprise_id=enterprise.pk)
            else enterprise.masked_contact_phone,
        ]


def filter_summary(params: Any, keys: Iterable[str]) -> str:
    """The filters an export was made with, for its audit row: "town=3，industry=quarry" or 无."""
    if params is None:
        return "无"
    parts = []
    for key in keys:
        values = params.getlist(key) if hasattr(params, "getlist") else [params.get(key)]
        values = [str(v) for v in values if v]
        if values:
            parts.append(f"{key}={','.join(values)}")
    return "，".join(parts) or "无"


def enterprise_export_response(*, user: User, params: Any = None) -> FileResponse:
    """The filtered enterprise list as .xlsx, streamed from a spooled file; one EXPORT audit row.

    The query count does not depend on the number of rows: one query for the rows (towns, counties
    and parent companies joined), plus what the FilterSet needs to validate its choices.
    """
    enterprises = selectors.enterprise_list(user=user, params=params)
    counter = [0]
    headers = [label for label, _ in ENTERPRISE_EXPORT_COLUMNS]
    widths = [width for _, width in ENTERPRISE_EXPORT_COLUMNS]
    stream = write_table(
        headers,
        _enterprise_rows(enterprises, user=user, counter=counter),
        sheet_title="企业名录",
        widths=widths,
    )
    audit_events.enterprises_exported(user=user, rows=counter[0], filters=filter_summary(params, _FILTER_KEYS))
    filename = f"企业名录_{timezone.localtime():%Y%m%d_%H%M}.xlsx"
    return FileResponse(stream, as_attachment=True, filename=filename)


__all__ = ["ENTERPRISE_EXPORT_COLUMNS", "enterprise_export_response", "filter_summary"]

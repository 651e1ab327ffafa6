"""Who is told when an enterprise's work arrives (issue 13 §2): a 自查自改报告 whose every item is answered →
the enterprise's 主要负责人, who signs it; a signed report or an imported 隐患台账 → the staff of the
enterprise's town. In-app always, e-mail when a server is configured (hazards.services.notify). Called by
the services inside their transactions."""

from __future__ import annotations

from hazards.choices import NotificationKind
from hazards.services import notify
from inspections.models import SelfCheckReport
from portal.choices import Role
from portal.models import User

SUBJECT = "非煤矿山安全监管门户：自查自改报告"


def self_check_ready(*, report: SelfCheckReport, actor: User) -> int:
    """Every item answered: the principal is asked to sign (not when the principal answered it themselves)."""
    principals = User.objects.filter(is_active=True, role=Role.ENTERPRISE_PRINCIPAL, enterprise_id=report.enterprise_id)
    message = (
        f"{report.enterprise.name}的“{report.campaign.name}”自查自改报告已逐项填写完毕，请主要负责人核对后签字报送。"
    )
    rows = notify(recipients=principals, hazard=None, message=message, exclude=actor, subject=SUBJECT)
    return len(rows)


def self_check_submitted(*, report: SelfCheckReport, actor: User) -> int:
    """Signed and submitted: the enterprise's town is told."""
    town_staff = User.objects.filter(is_active=True, role=Role.TOWN_STAFF, region_id=report.enterprise.town_id)
    message = (
        f"{report.enterprise.name}已报送“{report.campaign.name}”自查自改报告（主要负责人{report.signed_name}签字），"
        "请镇应急管理中心查阅。"
    )
    rows = notify(
        recipients=town_staff, hazard=None, message=message, kind=NotificationKind.INFO, exclude=actor,
        subject=SUBJECT,
    )  # fmt: skip
    return len(rows)

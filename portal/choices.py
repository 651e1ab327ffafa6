"""Choices of the directory. Chinese labels are what users read; values stay stable in the DB."""

from django.db import models


class RegionLevel(models.TextChoices):
    PROVINCE = "province", "省"
    CITY = "city", "市"
    COUNTY = "county", "县（市、区）"
    TOWN = "town", "镇/乡"


# The level as a short tag after a region's name, "泽州县（县级）": the choice labels themselves carry
# brackets ("县（市、区）") and read double-bracketed there.
REGION_LEVEL_TAGS: dict[str, str] = {
    RegionLevel.PROVINCE: "省级",
    RegionLevel.CITY: "市级",
    RegionLevel.COUNTY: "县级",
    RegionLevel.TOWN: "乡镇级",
}


class Industry(models.TextChoices):
    UNDERGROUND = "underground", "金属非金属地下矿山"
    OPEN_PIT = "open_pit", "金属非金属露天矿山"
    TAILINGS = "tailings", "尾矿库"
    QUARRY = "quarry", "小型露天采石场"
    EXPLORATION = "exploration", "地质勘探单位"
    OTHER = "other", "其他"


class ProductionStatus(models.TextChoices):
    PRODUCING = "producing", "正常生产"
    BUILDING = "building", "正常建设"
    SUSPENDED = "suspended", "停产"
    CONSTRUCTION_HALTED = "halted", "停建"
    CLOSED = "closed", "关闭"

    @classmethod
    def active(cls) -> list[str]:
        """正常生产建设: the enterprises the campaigns target."""
        return [cls.PRODUCING, cls.BUILDING]


class RiskGrade(models.TextChoices):
    A = "A", "A级"
    B = "B", "B级"
    C = "C", "C级"
    D = "D", "D级"


class StandardizationGrade(models.TextChoices):
    FIRST = "1", "一级"
    SECOND = "2", "二级"
    THIRD = "3", "三级"
    NONE = "none", "未达标"


class Role(models.TextChoices):
    ENTERPRISE_CLERK = "enterprise_clerk", "企业填报员"
    ENTERPRISE_PRINCIPAL = "enterprise_principal", "企业主要负责人"
    TOWN_STAFF = "town_staff", "镇应急管理中心"
    COUNTY_STAFF = "county_staff", "县局股室"
    COUNTY_LEADER = "county_leader", "分管负责人"
    ADMIN = "admin", "管理员"
    CITY_VIEWER = "city_viewer", "市局"

    @classmethod
    def enterprise_roles(cls) -> set[str]:
        return {cls.ENTERPRISE_CLERK, cls.ENTERPRISE_PRINCIPAL}


# The region level a role's scope must have; enterprise roles are scoped to one enterprise.
ROLE_REGION_LEVEL: dict[str, str] = {
    Role.TOWN_STAFF: RegionLevel.TOWN,
    Role.COUNTY_STAFF: RegionLevel.COUNTY,
    Role.COUNTY_LEADER: RegionLevel.COUNTY,
    Role.ADMIN: RegionLevel.COUNTY,
    Role.CITY_VIEWER: RegionLevel.CITY,
}


class PersonRole(models.TextChoices):
    PRINCIPAL = "principal", "主要负责人"
    DEPUTY = "deputy", "分管负责人"
    SAFETY = "safety", "安全负责人"
    TECHNICAL = "technical", "技术负责人"
    SPECIAL_OPERATOR = "special_operator", "特种作业人员"


class PrincipalKind(models.TextChoices):
    LEGAL_REPRESENTATIVE = "legal", "法定代表人"
    ACTUAL_CONTROLLER = "controller", "实际控制人"
    ACTUAL_RESPONSIBLE = "responsible", "实际负责人"


class AuditAction(models.TextChoices):
    CREATE = "create", "新增"
    UPDATE = "update", "修改"
    DELETE = "delete", "删除"
    LOGIN = "login", "登录"
    LOGIN_FAILED = "login_failed", "登录失败"
    LOGOUT = "logout", "退出"
    EXPORT = "export", "导出"
    IMPORT = "import", "导入"
    DENIED = "denied", "越权访问"
    OTP_ADDED = "otp_added", "绑定动态口令"
    OTP_REMOVED = "otp_removed", "解绑动态口令"
    OTP_VERIFIED = "otp_verified", "动态口令验证通过"
    OTP_FAILED = "otp_failed", "动态口令错误"
    OTP_BACKUP_CODES = "otp_backup_codes", "生成备用码"
    OTP_RESET = "otp_reset", "重置两步验证"
    TOKEN_ISSUED = "token_issued", "签发令牌"
    TOKEN_REVOKED = "token_revoked", "作废令牌"

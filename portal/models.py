"""The directory: regions, enterprises, parent companies, people, accounts and the audit log."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone

from portal.choices import (
    REGION_LEVEL_TAGS,
    ROLE_REGION_LEVEL,
    AuditAction,
    AuditKind,
    Industry,
    PersonRole,
    PrincipalKind,
    ProductionStatus,
    RegionLevel,
    RiskGrade,
    Role,
    StagedImportState,
    StandardizationGrade,
)
from portal.scoping import ScopedManager, ScopedQuerySet, path_within
from portal.validators import (
    clean_name,
    mask_id_number,
    mask_phone,
    name_key,
    validate_credit_code,
    validate_plausible_date,
)


class Region(models.Model):
    """A node of 省 → 市 → 县 → 镇/乡, identified by its administrative division code.

    `path` is the chain of codes from the root ("/140000/140500/140525/"), kept by
    `portal.services.region_create`, so that a subtree is one indexed prefix match.
    """

    code = models.CharField("行政区划代码", max_length=12, unique=True)
    name = models.CharField("名称", max_length=50)
    level = models.CharField("级别", max_length=10, choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self", verbose_name="上级区划", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField("路径", max_length=120, unique=True, editable=False)

    scope_region_path = "path"
    scope_enterprise_path = "enterprises"

    objects = ScopedManager["Region"]()

    class Meta:
        verbose_name = "行政区划"
        verbose_name_plural = "行政区划"
        ordering = ["code"]
        indexes = [models.Index(fields=["path"], name="region_path_idx", opclasses=["varchar_pattern_ops"])]

    def __str__(self) -> str:
        return self.name

    @property
    def level_tag(self) -> str:
        """The short level shown after the name: "泽州县（县级）"."""
        return REGION_LEVEL_TAGS.get(self.level, self.get_level_display())

    def is_within(self, other: Region) -> bool:
        return path_within(self.path, other.path)

    def county(self) -> Region | None:
        node: Region | None = self
        while node is not None and node.level != RegionLevel.COUNTY:
            node = node.parent
        return node


class ParentCompany(models.Model):
    """上级企业/主体公司: owns one or more mines; has its own 主要负责人 and 分管负责人 (Person rows)."""

    name = models.CharField("名称", max_length=200)
    credit_code = models.CharField(
        "统一社会信用代码", max_length=18, unique=True, null=True, blank=True, validators=[validate_credit_code]
    )
    region = models.ForeignKey(
        Region, verbose_name="监管辖区", on_delete=models.PROTECT, related_name="parent_companies"
    )
    address = models.CharField("地址", max_length=200, blank=True)

    scope_region_path = "region__path"
    scope_enterprise_path = "enterprises"

    objects = ScopedManager["ParentCompany"]()

    class Meta:
        verbose_name = "上级企业/主体公司"
        verbose_name_plural = "上级企业/主体公司"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Enterprise(models.Model):
    """非煤矿山企业."""

    name = models.CharField("企业名称", max_length=200)
    credit_code = models.CharField(
        "统一社会信用代码",
        max_length=18,
        unique=True,
        validators=[validate_credit_code],
        error_messages={"unique": "统一社会信用代码已存在，不能重复登记。"},
    )
    town = models.ForeignKey(
        Region,
        verbose_name="所在镇",
        on_delete=models.PROTECT,
        related_name="enterprises",
        limit_choices_to={"level": RegionLevel.TOWN},
        error_messages={"null": "必须选择所在镇。"},
    )
    industry = models.CharField("行业类别", max_length=20, choices=Industry.choices)
    production_status = models.CharField("生产状态", max_length=20, choices=ProductionStatus.choices)
    parent_company = models.ForeignKey(
        ParentCompany,
        verbose_name="上级企业/主体公司",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="enterprises",
    )
    risk_grade = models.CharField("安全风险等级", max_length=1, choices=RiskGrade.choices, blank=True)
    standardization_grade = models.CharField(
        "安全生产标准化等级", max_length=10, choices=StandardizationGrade.choices, blank=True
    )
    license_number = models.CharField("安全生产许可证编号", max_length=60, blank=True)
    license_expiry = models.DateField("许可证有效期至", null=True, blank=True, validators=[validate_plausible_date])
    address = models.CharField("地址", max_length=200, blank=True)
    contact_name = models.CharField("联系人", max_length=50, blank=True)
    contact_phone = models.CharField("联系电话", max_length=30, blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    scope_region_path = "town__path"
    scope_enterprise_path = "pk"

    objects = ScopedManager["Enterprise"]()

    class Meta:
        verbose_name = "非煤矿山企业"
        verbose_name_plural = "非煤矿山企业"
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["town", "name"], name="enterprise_town_name_idx"),
            # The list pages sort by name then id.
            models.Index(fields=["name", "id"], name="enterprise_name_id_idx"),
            models.Index(fields=["industry"], name="enterprise_industry_idx"),
            models.Index(fields=["production_status"], name="enterprise_status_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("enterprise-detail", args=[self.pk])

    @property
    def masked_contact_phone(self) -> str:
        return mask_phone(self.contact_phone)

    @property
    def is_active_target(self) -> bool:
        return self.production_status in ProductionStatus.active()

    def clean(self) -> None:
        if self.town_id is not None and self.town.level != RegionLevel.TOWN:
            raise ValidationError({"town": "所在镇必须是镇/乡一级的行政区划。"})
        self.name = clean_name(self.name)
        if self.town_id is not None and self.name:
            duplicate = self.same_name_in_town()
            if duplicate is not None:
                raise ValidationError({"name": self.duplicate_name_message(duplicate)})

    def duplicate_name_message(self, duplicate: Enterprise) -> str:
        """Refusal of a name equal (by name_key) to `duplicate`'s in the same town: pages, API, importer."""
        where = f"{self.town.name}已有同名企业“{duplicate.name}”"
        return f"{where}（统一社会信用代码 {duplicate.credit_code}），不能重复登记。"

    def same_name_in_town(self) -> Enterprise | None:
        """Another enterprise of the town whose name compares equal (portal.validators.name_key)."""
        key = name_key(self.name)
        others = Enterprise.objects.filter(town_id=self.town_id).exclude(pk=self.pk).only("pk", "name", "credit_code")
        return next((other for other in others if name_key(other.name) == key), None)


class Person(models.Model):
    """A person of an enterprise or of a parent company. Only the data the work needs is kept."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name="企业", null=True, blank=True, on_delete=models.CASCADE, related_name="people"
    )
    parent_company = models.ForeignKey(
        ParentCompany,
        verbose_name="上级企业",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="people",
    )
    name = models.CharField("姓名", max_length=50)
    role = models.CharField("职务", max_length=20, choices=PersonRole.choices)
    principal_kind = models.CharField("主要负责人类型", max_length=20, choices=PrincipalKind.choices, blank=True)
    id_number = models.CharField("身份证号", max_length=18, blank=True)
    phone = models.CharField("电话", max_length=30, blank=True)
    certificate_type = models.CharField("证书类别", max_length=60, blank=True)
    certificate_number = models.CharField("证书编号", max_length=60, blank=True)
    certificate_expiry = models.DateField("证书有效期至", null=True, blank=True, validators=[validate_plausible_date])

    scope_region_path = ("enterprise__town__path", "parent_company__region__path")
    scope_enterprise_path = "enterprise"

    objects = ScopedManager["Person"]()

    class Meta:
        verbose_name = "人员"
        verbose_name_plural = "人员"
        ordering = ["role", "name"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(enterprise__isnull=False, parent_company__isnull=True)
                    | models.Q(enterprise__isnull=True, parent_company__isnull=False)
                ),
                name="person_belongs_to_one_organisation",
                violation_error_message="人员必须属于一个企业或一个上级企业。",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_role_display()}）"

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)


class ScopedUserManager(UserManager["User"]):
    # Scoping reads the user's region path on every request: load it with the user.
    def get_queryset(self) -> ScopedQuerySet[User]:
        return ScopedQuerySet(self.model, using=self._db).select_related("region", "enterprise__town")

    def visible_to(self, user: Any, *, semijoin: bool = False) -> ScopedQuerySet[User]:
        return self.get_queryset().visible_to(user, semijoin=semijoin)


class User(AbstractUser):
    """An account: one role and one scope (a region, or one enterprise)."""

    full_name = models.CharField("姓名", max_length=50, blank=True)
    role = models.CharField("角色", max_length=30, choices=Role.choices)
    region = models.ForeignKey(
        Region, verbose_name="所属辖区", null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    enterprise = models.ForeignKey(
        Enterprise, verbose_name="所属企业", null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    phone = models.CharField("电话", max_length=30, blank=True)
    person = models.ForeignKey(
        Person,
        verbose_name="对应人员",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="accounts",
        help_text="企业主要负责人账号对应的人员档案（用于签字）。",
    )

    objects: ClassVar[ScopedUserManager] = ScopedUserManager()  # type: ignore[assignment]

    scope_region_path = ("region__path", "enterprise__town__path")
    scope_enterprise_path = "enterprise"

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"
        ordering = ["username"]
        constraints = [
            models.CheckConstraint(
                condition=~(models.Q(region__isnull=False) & models.Q(enterprise__isnull=False)),
                name="user_has_one_scope",
                violation_error_message="用户只能属于一个辖区或一个企业。",
            )
        ]

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def region_path(self) -> str:
        return self.region.path if self.region_id is not None and self.region is not None else ""

    @property
    def is_enterprise_user(self) -> bool:
        return self.enterprise_id is not None

    @property
    def scope_label(self) -> str:
        if self.enterprise_id is not None and self.enterprise is not None:
            return self.enterprise.name
        if self.region_id is not None and self.region is not None:
            return self.region.name
        return "全部" if self.is_superuser else "未设置"

    def clean(self) -> None:
        super().clean()
        errors: dict[str, Any] = {}
        if self.is_superuser:
            return
        if self.role in Role.enterprise_roles():
            if self.enterprise_id is None:
                errors["enterprise"] = "企业角色必须指定所属企业。"
            if self.region_id is not None:
                errors["region"] = "企业角色不设所属辖区。"
        elif self.role:
            if self.region_id is None:
                errors["region"] = "该角色必须指定所属辖区。"
            elif self.region is not None and self.region.level != ROLE_REGION_LEVEL[self.role]:
                expected = RegionLevel(ROLE_REGION_LEVEL[self.role]).label
                errors["region"] = f"{self.get_role_display()}的所属辖区应为{expected}一级。"
            if self.enterprise_id is not None:
                errors["enterprise"] = "非企业角色不设所属企业。"
        if errors:
            raise ValidationError(errors)


class AuditEvent(models.Model):
    """修改留痕: who did what, when, to which record, with the values before and after."""

    created_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        User, verbose_name="操作人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField("操作人账号", max_length=150, blank=True)
    action = models.CharField("操作", max_length=20, choices=AuditAction.choices)
    # What happened (one value per domain event); `action` above is the older, coarse reading of it. The
    # database defaults keep a raw INSERT or COPY that names neither column (bulk importers) valid.
    kind = models.CharField(
        "事件",
        max_length=48,
        choices=AuditKind.choices,
        default=AuditKind.LEGACY_UNKNOWN,
        db_default=AuditKind.LEGACY_UNKNOWN.value,
    )
    object_type = models.CharField("对象类型", max_length=100, blank=True)
    object_id = models.CharField("对象编号", max_length=64, blank=True)
    object_repr = models.CharField("对象", max_length=200, blank=True)
    before = models.JSONField("修改前", null=True, blank=True)
    after = models.JSONField("修改后", null=True, blank=True)
    detail = models.CharField("说明", max_length=500, blank=True)
    # The event's own data (ids, before/after of the fields it is about, reason), by kind.
    extra = models.JSONField("事件数据", default=dict, db_default={}, blank=True)
    ip_address = models.GenericIPAddressField("IP 地址", null=True, blank=True)
    # The region path of the record (or of the actor) so that a county admin reads the county's log.
    region_path = models.CharField("辖区路径", max_length=120, blank=True, db_index=True)

    scope_region_path = "region_path"
    scope_enterprise_path = None

    objects = ScopedManager["AuditEvent"]()

    class Meta:
        verbose_name = "操作日志"
        verbose_name_plural = "操作日志"
        ordering = ["-created_at", "-id"]
        # The audit page and API filter by kind, newest first.
        indexes = [models.Index(fields=["kind", "-created_at"], name="audit_kind_created_idx")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name} {self.get_action_display()} {self.object_repr}"


class StagedImport(models.Model):
    """An uploaded spreadsheet between its preview and its confirmation (portal.import_flow.StagedUploads).

    Not a record anyone reads: the row makes the confirmation single-use on every database (the claim is a
    conditional UPDATE of `state`, atomic on SQLite and PostgreSQL alike, where the cache was atomic only on
    Redis), and tells the sweep an abandoned file (pending, old) from the original file of an import
    (committed, named in its audit row, kept)."""

    path = models.CharField("存储路径", max_length=255, unique=True)
    uploaded_by = models.ForeignKey(
        User, verbose_name="上传人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(
        "状态", max_length=10, choices=StagedImportState.choices, default=StagedImportState.PENDING
    )
    created_at = models.DateTimeField("上传时间", default=timezone.now)

    class Meta:
        verbose_name = "待确认的导入文件"
        verbose_name_plural = "待确认的导入文件"
        # The sweep reads the old pending rows.
        indexes = [models.Index(fields=["state", "created_at"], name="staged_import_sweep_idx")]

    def __str__(self) -> str:
        return self.path


# API tokens live in their own module (portal/tokens); imported here so that Django registers the model.
from portal.tokens.models import ApiToken as ApiToken  # noqa: E402

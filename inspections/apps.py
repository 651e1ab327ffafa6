from django.apps import AppConfig


class InspectionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "inspections"
    verbose_name = "检查与执法"

    def ready(self) -> None:
        from inspections import (
            calendar_admin,  # noqa: F401 - registers the calendar's ModelAdmins
            rules,
        )
        from inspections import worklist as sections
        from portal import worklist

        rules.register()

        worklist.register("inspections.self_checks", order=12)(sections.self_check_sections)
        worklist.register("inspections.deliverables", order=30)(sections.deliverable_sections)
        # 已逾期 from the warnings engine: the hazards' deadlines selector given its overdue rows (replacing the
        # due-only one by name), and the late filings (the tables' selector leaves them to this one).
        worklist.register("hazards.deadlines", order=20)(sections.deadline_sections)
        worklist.register("inspections.late", order=21)(sections.late_sections)

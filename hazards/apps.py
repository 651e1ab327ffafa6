from django.apps import AppConfig


class HazardsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "hazards"
    verbose_name = "隐患排查治理"

    def ready(self) -> None:
        # The 工作台's hazard sections (portal/worklist.py is the registry; portal imports no app).
        from hazards import rules
        from hazards import worklist as sections
        from portal import worklist

        rules.register()

        worklist.register("hazards.waiting", order=10)(sections.waiting_sections)
        worklist.register("hazards.uploads", order=11)(sections.upload_sections)
        worklist.register("hazards.deadlines", order=20)(sections.deadline_sections)
        worklist.register("hazards.notices", order=90)(sections.notice_sections)

from django.apps import AppConfig


class ReportingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reporting"
    verbose_name = "月报统计"

    def ready(self) -> None:
        # The demo county's live data (issue 13 §7) is a step of portal.demo's build, registered here
        # because it uses hazards and inspections (portal imports none of them).
        from reporting import demo_live

        demo_live.register()

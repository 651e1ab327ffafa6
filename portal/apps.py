from django.apps import AppConfig


class PortalConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "portal"
    verbose_name = "基础信息"

    def ready(self) -> None:
        # Login, failed login and logout are facts about authentication, recorded where
        # Django announces them; no workflow hangs on these receivers.
        from portal import receivers, worklist  # noqa: F401 - the receivers connect on import

        # The 工作台's own section: the enterprise's papers (the other apps register theirs).
        worklist.register("portal.papers", order=40)(worklist.papers_sections)

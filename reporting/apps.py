from django.apps import AppConfig


class ReportingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reporting"
    verbose_name = "月报统计"

    def ready(self) -> None:
        from portal.backup import SignedFiles, register_signed_files
        from reporting.choices import VersionStatus

        # Backup records the signed versions' checksums; restore checks the Excel and PDF against them.
        register_signed_files(
            SignedFiles(
                model="reporting.ReportVersion",
                status_field="status",
                signed_value=VersionStatus.SIGNED.value,
                extra=("report_id", "number"),
                files={"xlsx": ("xlsx_file", "xlsx_sha256"), "pdf": ("pdf_file", "pdf_sha256")},
            )
        )
        from inspections.worklist import COVERED_ELSEWHERE
        from portal import worklist
        from reporting import rules
        from reporting import worklist as sections
        from reporting.schedule import kind_of

        rules.register()

        COVERED_ELSEWHERE.append(lambda deliverable: kind_of(deliverable) is not None)

        worklist.register("reporting.signing", order=13)(sections.signing_sections)
        worklist.register("reporting.tables", order=31)(sections.table_sections)
        # The demo county's live data (issue 13 §7) is a step of portal.demo's build, registered here
        # because it uses hazards and inspections (portal imports none of them).
        from reporting import demo_live

        demo_live.register()

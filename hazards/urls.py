"""Pages of 隐患排查治理, under /hazards/."""

from django.urls import URLPattern, path

from hazards import bulk_views, ledger_views, views

app_name = "hazards"

urlpatterns: list[URLPattern] = [
    # Hazard list, report, detail and the steps of the workflow
    path("", views.hazard_list, name="hazard-list"),
    path("export.xlsx", views.hazard_export, name="hazard-export"),
    path("new/", views.hazard_report, name="hazard-report"),
    path("criteria/options/", views.criterion_options, name="criterion-options"),
    path("queue/", views.work_queue, name="work-queue"),
    path("queue/bulk/", bulk_views.bulk_step, name="work-queue-bulk"),
    path("notifications/", views.notification_list, name="notification-list"),
    path("notifications/read/", views.notification_read, name="notification-read"),
    path("<int:pk>/", views.hazard_detail, name="hazard-detail"),
    path("<int:pk>/<slug:step>/", views.hazard_step, name="hazard-step"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence-download"),
    # Ledger upload (隐患台账导入)
    path("ledger/", ledger_views.ledger_upload, name="ledger-upload"),
    path("ledger/template.xlsx", ledger_views.ledger_template_download, name="ledger-template"),
    path("ledger/<int:pk>/", ledger_views.ledger_upload_detail, name="ledger-upload-detail"),
    path("ledger/<int:pk>/confirm/", ledger_views.ledger_upload_confirm, name="ledger-upload-confirm"),
    path("ledger/<int:pk>/file/", ledger_views.ledger_upload_file, name="ledger-upload-file"),
]

"""Pages of campaigns and field work, under /inspections/."""

from django.urls import path

from inspections import views

app_name = "inspections"

urlpatterns = [
    path("", views.campaign_list, name="campaign-list"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign-detail"),
    path("coverage/", views.coverage, name="coverage"),
    path("warnings/", views.warning_list, name="warning-list"),
    path("warnings/resolve/", views.warning_resolve, name="warning-resolve"),
    path("campaigns/<int:campaign_pk>/self-checks/", views.self_check_list, name="self-check-list"),
    path("campaigns/<int:campaign_pk>/progress/", views.progress_list, name="progress-list"),
    path("campaigns/<int:campaign_pk>/deliverables/", views.deliverable_matrix, name="deliverable-matrix"),
    path(
        "campaigns/<int:campaign_pk>/deliverables/<int:deliverable_pk>/submit/",
        views.submission_create,
        name="submission-create",
    ),
    path("self-checks/<int:pk>/", views.self_check_detail, name="self-check-detail"),
    path("self-checks/<int:pk>/items/<int:item_pk>/", views.self_check_answer, name="self-check-answer"),
    path("self-checks/<int:pk>/items/<int:item_pk>/evidence/", views.self_check_evidence, name="self-check-evidence"),
    path("self-checks/<int:pk>/summary/", views.self_check_summary, name="self-check-summary"),
    path("self-checks/<int:pk>/sign/", views.self_check_sign, name="self-check-sign"),
    path("enforcement/", views.enforcement_list, name="enforcement-list"),
    path("enforcement/new/", views.enforcement_create, name="enforcement-create"),
    path("enforcement/import/", views.enforcement_import, name="enforcement-import"),
    path("enforcement/<int:pk>/", views.enforcement_detail, name="enforcement-detail"),
    path("enforcement/<int:pk>/edit/", views.enforcement_edit, name="enforcement-edit"),
    path("enforcement/<int:pk>/delete/", views.enforcement_delete, name="enforcement-delete"),
    path("enforcement/<int:pk>/attachments/", views.enforcement_attachment_add, name="enforcement-attachment-add"),
    path("talks/", views.talk_list, name="talk-list"),
    path("inspections/", views.inspection_list, name="inspection-list"),
    path("inspections/new/", views.inspection_create, name="inspection-create"),
    path("inspections/<int:pk>/", views.inspection_detail, name="inspection-detail"),
    path("inspections/<int:pk>/edit/", views.inspection_edit, name="inspection-edit"),
    path("inspections/<int:pk>/delete/", views.inspection_delete, name="inspection-delete"),
    path("inspections/<int:pk>/photos/", views.inspection_photo_add, name="inspection-photo-add"),
    path("inspections/<int:pk>/hazards/", views.inspection_hazard_add, name="inspection-hazard-add"),
    path("teams/", views.team_list, name="team-list"),
    path("exams/", views.exam_list, name="exam-list"),
    path("exams/new/", views.exam_create, name="exam-create"),
    path("duty-logs/", views.duty_log_list, name="duty-log-list"),
    path("duty-logs/new/", views.duty_log_edit, name="duty-log-create"),
    path("duty-logs/<int:pk>/", views.duty_log_edit, name="duty-log-edit"),
    path("files/<str:kind>/<int:pk>/", views.file_download, name="file"),
]

"""/api/v1/: campaigns and field work (included from portal/urls.py, next to the directory API)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from inspections.api import views

app_name = "inspections-api"


class Router(SimpleRouter):
    include_format_suffixes = False


router = Router()
router.register("campaigns", views.CampaignViewSet, basename="campaign")
router.register("enforcement-records", views.EnforcementRecordViewSet, basename="enforcement-record")
router.register("inspections", views.InspectionViewSet, basename="inspection")
router.register("inspection-teams", views.TeamViewSet, basename="inspection-team")
router.register("exams", views.ExamViewSet, basename="exam")
router.register("duty-logs", views.DutyLogViewSet, basename="duty-log")
router.register("self-check-reports", views.SelfCheckReportViewSet, basename="self-check-report")
router.register("progress-reports", views.ProgressViewSet, basename="progress-report")
router.register("deliverable-submissions", views.SubmissionViewSet, basename="deliverable-submission")

urlpatterns = [
    path("enforcement-kinds/", views.EnforcementKindsView.as_view(), name="enforcement-kinds"),
    path("coverage/", views.CoverageView.as_view(), name="coverage"),
    path("warnings/", views.WarningView.as_view(), name="warnings"),
    path("warnings/resolve/", views.WarningResolveView.as_view(), name="warning-resolve"),
    *router.urls,
]

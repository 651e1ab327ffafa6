"""/api/v1/: hazards, their steps, evidence, extensions, the 判定依据 catalogue, the work queue and
notifications (included from portal/urls.py, next to the directory API)."""

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from hazards.api import views
from hazards.api.bulk import HazardBulkStepView
from hazards.api.ledger import LedgerUploadViewSet

app_name = "hazards-api"


class Router(SimpleRouter):
    include_format_suffixes = False


router = Router()
router.register("hazards", views.HazardViewSet, basename="hazard")
router.register("hazard-extensions", views.ExtensionRequestViewSet, basename="hazard-extension")
router.register("hazard-evidence", views.HazardEvidenceViewSet, basename="hazard-evidence")
router.register("hazard-criteria", views.CriterionViewSet, basename="hazard-criterion")
router.register("work-queue", views.WorkQueueViewSet, basename="work-queue")
router.register("notifications", views.NotificationViewSet, basename="notification")
router.register("ledger-uploads", LedgerUploadViewSet, basename="ledger-upload")

urlpatterns: list[URLPattern | URLResolver] = [
    *router.urls,
    path("hazard-bulk/<str:step>/", HazardBulkStepView.as_view(), name="hazard-bulk-step"),
]

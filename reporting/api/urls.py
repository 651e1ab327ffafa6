"""/api/v1/: the monthly tables (included from portal/urls.py, next to the directory API)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from reporting.api import filing, views

app_name = "reporting-api"


class Router(SimpleRouter):
    include_format_suffixes = False


router = Router()
router.register("reports", views.ReportViewSet, basename="report")

urlpatterns = [
    path("report-tables/<str:kind>/<str:code>/<str:month>/", views.ReportTableView.as_view(), name="report-table"),
    path(
        "report-tables/<str:kind>/<str:code>/<str:month>/submit/",
        filing.TableSubmitView.as_view(),
        name="report-table-submit",
    ),
    path("report-versions/<int:pk>/sign/", views.VersionSignView.as_view(), name="report-version-sign"),
    path("report-versions/verify/", filing.VerifyView.as_view(), name="report-version-verify"),
    path("report-exports/", views.ExportCreateView.as_view(), name="report-export-create"),
    path("report-exports/<uuid:pk>/", views.ExportDetailView.as_view(), name="report-export"),
    *router.urls,
]

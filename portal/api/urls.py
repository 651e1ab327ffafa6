"""/api/v1/: the directory's REST API (names under the `api:` namespace)."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from portal.api import views

app_name = "api"


class Router(DefaultRouter):
    include_format_suffixes = False


router = Router()
router.register("regions", views.RegionViewSet, basename="region")
router.register("enterprises", views.EnterpriseViewSet, basename="enterprise")
router.register("parent-companies", views.ParentCompanyViewSet, basename="parent-company")
router.register("people", views.PersonViewSet, basename="person")
router.register("users", views.UserViewSet, basename="user")
router.register("audit-events", views.AuditEventViewSet, basename="audit-event")

urlpatterns = [
    path("auth/token/", views.ObtainTokenView.as_view(), name="auth-token"),
    path("me/", views.MeView.as_view(), name="me"),
    path("me/tasks/", views.MeTasksView.as_view(), name="me-tasks"),
    *router.urls,
]

"""/api/v1/: the directory's REST API (names under the `api:` namespace)."""

from django.urls import path, re_path
from rest_framework.routers import DefaultRouter

from portal.api import token_views, views

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
    path("auth/logout/", token_views.LogoutView.as_view(), name="auth-logout"),
    path("auth/logout-all/", token_views.SignOutEverywhereView.as_view(), name="auth-logout-all"),
    path("auth/tokens/", token_views.ApiTokenViewSet.as_view({"get": "list"}), name="auth-token-list"),
    re_path(
        r"^auth/tokens/(?P<pk>[^/]+)/$",
        token_views.ApiTokenViewSet.as_view({"delete": "destroy"}),
        name="auth-token-detail",
    ),
    path("me/", views.MeView.as_view(), name="me"),
    path("me/tasks/", views.MeTasksView.as_view(), name="me-tasks"),
    *router.urls,
]

from django.contrib.auth import views as auth_views
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from portal import views
from portal.tokens import views as token_views

urlpatterns = [
    path("", views.home, name="home"),
    path("me/badges/", views.menu_badges, name="menu-badges"),
    path("login/", views.PortalLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", token_views.PortalPasswordChangeView.as_view(), name="password_change"),
    path("devices/", token_views.devices, name="devices"),
    path("devices/tokens/<int:pk>/revoke/", token_views.device_revoke, name="device-revoke"),
    path("devices/sign-out-everywhere/", token_views.sign_out_everywhere, name="sign-out-everywhere"),
    path("devices/sessions/end/", token_views.session_end, name="session-end"),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="registration/password_change_done.html"),
        name="password_change_done",
    ),
    path("enterprises/", views.enterprise_list, name="enterprise-list"),
    path("enterprises/export.xlsx", views.enterprise_export, name="enterprise-export"),
    path("enterprises/import/", views.enterprise_import, name="enterprise-import"),
    path("enterprises/<int:pk>/", views.enterprise_detail, name="enterprise-detail"),
    path("enterprises/<int:pk>/edit/", views.enterprise_edit, name="enterprise-edit"),
    path("audit/", views.audit_list, name="audit-list"),
    path("healthz", views.healthz, name="healthz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

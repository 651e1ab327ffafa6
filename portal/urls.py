from django.contrib import admin
from django.urls import include, path

from portal import errors

urlpatterns = [
    path("favicon.ico", errors.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("", include("portal.web_urls")),
    path("otp/", include("portal.otp.urls")),
    path("api/v1/", include("portal.api.urls")),
    path("api/v1/", include("inspections.api.urls")),
    path("api/v1/", include("hazards.api.urls")),
    path("api/v1/", include("reporting.api.urls")),
    path("hazards/", include("hazards.urls")),
    path("inspections/", include("inspections.urls")),
    path("reports/", include("reporting.urls")),
]

# Uploaded files are never served as static media: every download goes through a view that
# checks the user's scope.

handler500 = "portal.errors.server_error"
handler404 = "portal.errors.page_not_found"
handler403 = "portal.errors.permission_denied"

"""月报统计: /reports/…"""

from django.urls import path

from reporting import views

app_name = "reporting"
urlpatterns = [
    path("", views.index, name="index"),
    path("open/", views.pick, name="pick"),
    path("dashboard/", views.dashboard_page, name="dashboard"),
    path("dashboard/hazards/", views.dashboard_hazards, name="dashboard-hazards"),
    path("verify/", views.verify, name="verify"),
    path("versions/<int:pk>/<str:file_format>/", views.version_file, name="version-file"),
    path("exports/<uuid:pk>/", views.export, name="export"),
    path("exports/<uuid:pk>/file/", views.export_file, name="export-file"),
    path("<str:kind>/<str:code>/<str:month>/", views.table, name="table"),
    path("<str:kind>/<str:code>/<str:month>/act/", views.act, name="act"),
    path("<str:kind>/<str:code>/<str:month>/cell/<str:key>/", views.cell, name="cell"),
]

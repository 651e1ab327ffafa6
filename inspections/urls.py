"""Pages of campaigns and field work, under /inspections/."""

from django.urls import path

from inspections import views

app_name = "inspections"

urlpatterns = [
    path("enforcement/", views.enforcement_list, name="enforcement-list"),
    path("enforcement/new/", views.enforcement_create, name="enforcement-create"),
    path("enforcement/import/", views.enforcement_import, name="enforcement-import"),
    path("enforcement/<int:pk>/", views.enforcement_detail, name="enforcement-detail"),
    path("enforcement/<int:pk>/edit/", views.enforcement_edit, name="enforcement-edit"),
    path("enforcement/<int:pk>/delete/", views.enforcement_delete, name="enforcement-delete"),
    path("enforcement/<int:pk>/attachments/", views.enforcement_attachment_add, name="enforcement-attachment-add"),
    path("files/<str:kind>/<int:pk>/", views.file_download, name="file"),
]

from django.urls import path

from portal.otp import views

urlpatterns = [
    path("", views.overview, name="otp-overview"),
    path("enrol/", views.enrol, name="otp-enrol"),
    path("verify/", views.verify, name="otp-verify"),
    path("remove/", views.remove, name="otp-remove"),
    path("backup-codes/", views.backup_codes, name="otp-backup-codes"),
    path("reset/<int:pk>/", views.reset, name="otp-reset"),
]

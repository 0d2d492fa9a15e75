from django.urls import path

from hub.system import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("system/", views.status, name="system_status"),
]

from django.urls import path

from hub.engine import views

urlpatterns = [
    path("", views.run_list, name="runs"),
    path("retention/", views.retention, name="run_retention"),
    path("<int:pk>/", views.run_detail, name="run_detail"),
    path("<int:pk>/cancel/", views.run_cancel, name="run_cancel"),
    path("<int:pk>/replay/", views.run_replay, name="run_replay"),
]

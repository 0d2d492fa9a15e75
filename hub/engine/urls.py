from django.urls import path

from hub.engine import views

urlpatterns = [
    path("", views.run_list, name="runs"),
]

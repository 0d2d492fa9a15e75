from django.urls import path

from hub.connections import views

urlpatterns = [
    path("", views.connection_list, name="connections"),
]

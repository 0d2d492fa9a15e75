from django.urls import path

from hub.connections import views

urlpatterns = [
    path("", views.connection_list, name="connections"),
    path("apps/<slug:slug>/", views.app_setup, name="connection_app"),
    path("apps/<slug:slug>/connect/", views.connect, name="connection_connect"),
    path("<slug:slug>/callback/", views.callback, name="connection_callback"),
    path("<int:pk>/", views.detail, name="connection_detail"),
    path("<int:pk>/settings/", views.update_settings, name="connection_settings"),
    path("<int:pk>/test/", views.test, name="connection_test"),
    path("<int:pk>/disconnect/", views.disconnect, name="connection_disconnect"),
]

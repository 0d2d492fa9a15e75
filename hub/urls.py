from django.contrib import admin
from django.urls import include, path

from hub import views
from hub.engine import webhooks

urlpatterns = [
    path("", views.home, name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("allauth.urls")),
    path("connections/", include("hub.connections.urls")),
    path("recipes/", include("hub.recipes.urls")),
    path("runs/", include("hub.engine.urls")),
    path("hooks/<str:public_id>/<str:secret>", webhooks.catch, name="webhook"),
    path("hooks/<str:public_id>", webhooks.catch, name="webhook_header_secret"),
    path("", include("hub.accounts.urls")),
    path("", include("hub.system.urls")),
    path("django-admin/", admin.site.urls),
]

handler400 = "hub.views.bad_request"
handler403 = "hub.views.permission_denied"
handler404 = "hub.views.page_not_found"
handler500 = "hub.views.server_error"

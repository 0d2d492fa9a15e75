"""Django admin for connections: secrets are not fields here at all, so they cannot show."""

from django.contrib import admin

from hub.connections.models import Connection, OAuthApp


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    list_display = ["label", "integration", "workspace", "status", "expires_at", "last_checked_at"]
    list_filter = ["integration", "status"]
    search_fields = ["label", "external_id"]
    fields = [
        "workspace",
        "integration",
        "kind",
        "label",
        "external_id",
        "status",
        "scopes",
        "details",
        "expires_at",
        "token_version",
        "last_error",
        "last_checked_at",
        "last_check_ok",
        "created_by",
        "shared_with_all",
        "allowed_users",
    ]
    readonly_fields = ["token_version", "expires_at", "external_id", "integration", "kind"]


@admin.register(OAuthApp)
class OAuthAppAdmin(admin.ModelAdmin):
    list_display = ["integration", "workspace", "client_id", "updated_at"]
    fields = ["workspace", "integration", "client_id"]

from django.urls import path

from hub.accounts import audit_views, views

urlpatterns = [
    path("members/", views.members, name="members"),
    path("audit/", audit_views.audit_log, name="audit_log"),
    path("members/invite/", views.invite, name="invite_member"),
    path("members/invites/<int:invite_id>/revoke/", views.revoke_invite, name="revoke_invite"),
    path("members/<int:membership_id>/role/", views.change_role, name="change_role"),
    path("members/<int:membership_id>/remove/", views.remove_member, name="remove_member"),
    path("workspace/switch/", views.switch_workspace, name="switch_workspace"),
    path("invites/<str:token>/", views.accept_invite, name="accept_invite"),
]

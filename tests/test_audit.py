"""The audit log page: admins only, filters by what, who and when."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from hub.accounts.models import AuditEvent, audit


def test_admins_see_events_with_filters(admin_client, admin_user, workspace, other_workspace):
    audit(workspace, admin_user, "connection.connected", "Acme", app="slack")
    audit(workspace, None, "connection.refresh_failed", "Docs", reason="The app refused")
    audit(workspace, admin_user, "member.invited", "new@acme.test", role="member")
    old = audit(workspace, admin_user, "oauth_app.changed", "Slack", secret_changed=True)
    AuditEvent.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=40))
    audit(other_workspace, None, "connection.connected", "Globex Slack")

    page = admin_client.get("/audit/").content.decode()
    assert "Connected an app" in page and "Connection refresh failed" in page
    assert "The app refused" in page and "The hub itself" in page
    assert "Globex Slack" not in page

    page = admin_client.get("/audit/", {"action": "connection."}).content.decode()
    assert "Acme" in page and "new@acme.test" not in page
    page = admin_client.get("/audit/", {"actor": "system"}).content.decode()
    assert "Docs" in page and "new@acme.test" not in page
    page = admin_client.get("/audit/", {"actor": admin_user.pk}).content.decode()
    assert "new@acme.test" in page and "Docs" not in page
    page = admin_client.get("/audit/", {"period": "30"}).content.decode()
    assert "Secret changed" not in page
    page = admin_client.get("/audit/", {"action": "oauth_app.changed"}).content.decode()
    assert "Secret changed: yes" in page


def test_members_cannot_open_the_audit_log(member_client):
    assert member_client.get("/audit/").status_code == 403


def test_role_changes_are_recorded(admin_client, workspace, member_user):
    membership = member_user.memberships.get(workspace=workspace)
    admin_client.post(f"/members/{membership.pk}/role/", {"role": "admin"})
    assert "Changed a member" in admin_client.get("/audit/").content.decode()

import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from hub.accounts.models import AuditEvent, Invite, Membership, User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_signed_out_visitor_is_sent_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_home_shows_every_section_to_an_admin(admin_client):
    page = admin_client.get("/").content.decode()
    for section in ("Recipes", "Runs", "Connections", "Members", "System status"):
        assert section in page


def test_member_does_not_see_or_open_admin_pages(member_client):
    assert "System status" not in member_client.get("/").content.decode()
    assert member_client.get(reverse("system_status")).status_code == 403


def test_empty_pages_say_what_to_do_next(member_client):
    assert "No recipes yet" in member_client.get(reverse("recipes")).content.decode()
    assert "Nothing has run yet" in member_client.get(reverse("runs")).content.decode()
    page = member_client.get(reverse("connections")).content.decode()
    assert "Ask one to connect" in page


def test_admin_of_another_workspace_gets_404_on_our_members(client, outsider, member_user):
    membership = Membership.objects.get(user=member_user)
    client.force_login(outsider)
    response = client.post(reverse("change_role", args=[membership.id]), {"role": "admin"})
    assert response.status_code == 404
    response = client.post(reverse("remove_member", args=[membership.id]))
    assert response.status_code == 404
    membership.refresh_from_db()
    assert membership.role == "member"


def test_members_cannot_change_roles(member_client, admin_user):
    admin_membership = Membership.objects.get(user=admin_user)
    response = member_client.post(
        reverse("change_role", args=[admin_membership.id]), {"role": "member"}
    )
    assert response.status_code == 403
    admin_membership.refresh_from_db()
    assert admin_membership.role == "admin"


def test_last_admin_cannot_be_demoted(admin_client, admin_user):
    membership = Membership.objects.get(user=admin_user)
    response = admin_client.post(
        reverse("change_role", args=[membership.id]), {"role": "member"}, follow=True
    )
    assert "at least one admin" in response.content.decode()
    membership.refresh_from_db()
    assert membership.role == "admin"


def test_admin_changes_a_role_and_it_is_audited(admin_client, member_user, workspace):
    membership = Membership.objects.get(user=member_user)
    admin_client.post(reverse("change_role", args=[membership.id]), {"role": "admin"})
    membership.refresh_from_db()
    assert membership.role == "admin"
    event = AuditEvent.objects.get(workspace=workspace, action="member.role_changed")
    assert event.details == {"old": "member", "new": "admin"}


def _invite_link() -> str:
    return re.search(r"http://\S+/invites/\S+/", mail.outbox[-1].body).group(0)


def test_invite_accept_and_sign_in(admin_client, client, workspace):
    response = admin_client.post(
        reverse("invite_member"), {"email": "Newbie@Acme.test", "role": "member"}
    )
    assert response.status_code == 302
    assert mail.outbox[-1].to == ["newbie@acme.test"]
    link = _invite_link()
    path = link.split("127.0.0.1:8000", 1)[-1]
    token = path.rstrip("/").rsplit("/", 1)[-1]
    assert not Invite.objects.filter(token_hash=token).exists()  # only the hash is kept

    admin_client.logout()
    form = client.get(path)
    assert "newbie@acme.test" in form.content.decode()
    weak = client.post(path, {"first_name": "New", "password1": "123", "password2": "123"})
    assert weak.status_code == 200
    assert "too short" in weak.content.decode()
    done = client.post(path, {"first_name": "New", "password1": PASSWORD, "password2": PASSWORD})
    assert done.status_code == 302
    user = User.objects.get(email="newbie@acme.test")
    assert Membership.objects.get(user=user, workspace=workspace).role == "member"

    client.logout()
    assert client.get(path).status_code == 410  # used once, never again
    signed_in = client.post(
        reverse("account_login"), {"login": "newbie@acme.test", "password": PASSWORD}
    )
    assert signed_in.status_code == 302
    assert client.get("/").status_code == 200


def test_expired_invite_is_refused(client, workspace, admin_user):
    from datetime import timedelta

    from django.utils import timezone

    invite, token = Invite.issue(workspace, "late@acme.test", "member", admin_user)
    Invite.objects.filter(pk=invite.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(reverse("accept_invite", args=[token]))
    assert response.status_code == 410
    assert "can no longer be used" in response.content.decode()


def test_self_sign_up_is_closed_by_default(client):
    response = client.post(
        reverse("account_signup"),
        {"email": "intruder@evil.test", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert not User.objects.filter(email="intruder@evil.test").exists()
    assert response.status_code == 200
    assert "closed" in response.content.decode().lower()


def test_user_in_two_workspaces_switches_between_them(client, admin_user, other_workspace):
    Membership.objects.create(workspace=other_workspace, user=admin_user, role="member")
    client.force_login(admin_user)
    assert "Acme" in client.get("/").content.decode()
    client.post(reverse("switch_workspace"), {"workspace": other_workspace.id})
    page = client.get("/").content.decode()
    assert "<h1>Globex</h1>" in page
    # A member there: no admin pages.
    assert client.get(reverse("system_status")).status_code == 403


def test_cannot_switch_into_a_workspace_you_are_not_in(client, admin_user, other_workspace):
    client.force_login(admin_user)
    response = client.post(reverse("switch_workspace"), {"workspace": other_workspace.id})
    assert response.status_code == 404


def test_bootstrap_creates_the_first_admin_once(monkeypatch, capsys):
    monkeypatch.setenv("HUB_ADMIN_EMAIL", "boss@example.com")
    monkeypatch.delenv("HUB_ADMIN_PASSWORD", raising=False)
    call_command("bootstrap")
    first = capsys.readouterr().out
    assert "boss@example.com" in first
    password = re.search(r"Password: (\S+)", first).group(1)
    user = User.objects.get(email="boss@example.com")
    assert user.check_password(password)
    assert Membership.objects.get(user=user).role == "admin"

    call_command("bootstrap")
    second = capsys.readouterr().out
    assert "Nothing to do" in second
    assert "Password" not in second
    assert User.objects.count() == 1


def test_bootstrap_uses_the_given_password(monkeypatch):
    monkeypatch.setenv("HUB_ADMIN_EMAIL", "ops@example.com")
    monkeypatch.setenv("HUB_ADMIN_PASSWORD", PASSWORD)
    call_command("bootstrap")
    assert User.objects.get(email="ops@example.com").check_password(PASSWORD)


def test_friendly_404(admin_client):
    response = admin_client.get("/no/such/page/")
    assert response.status_code == 404
    assert "There is nothing here" in response.content.decode()


def test_password_reset_by_email(client, admin_user):
    client.post(reverse("account_reset_password"), {"email": admin_user.email})
    link = re.search(r"http://\S+/accounts/password/reset/key/\S+/", mail.outbox[-1].body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    form = client.get("/" + path, follow=True)
    assert form.status_code == 200
    new_password = "a brand new long passphrase"
    done = client.post(
        form.redirect_chain[-1][0] if form.redirect_chain else "/" + path,
        {"password1": new_password, "password2": new_password},
    )
    assert done.status_code == 302
    admin_user.refresh_from_db()
    assert admin_user.check_password(new_password)


def test_two_factor_setup_asks_for_the_password_then_offers_an_app(admin_client):
    first = admin_client.get(reverse("mfa_activate_totp"))
    assert first.status_code == 302
    assert first["Location"].startswith(reverse("account_reauthenticate"))
    admin_client.post(first["Location"], {"password": PASSWORD})
    page = admin_client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    assert "Authenticator" in page.content.decode()

"""No secret anywhere: connect every app, use it, render every page (ours and the Django
admin's), collect every log line at DEBUG, and look for any token or client secret."""

from __future__ import annotations

import logging

import pytest
from django.db import connection as db

from hub.accounts.models import AuditEvent
from integrations import registry
from integrations.base import Context, IntegrationError
from tests.test_connections_support import (  # noqa: F401  (fixtures)
    clickup,
    connect_ok,
    google,
    notion,
    rotating_slack,
)


@pytest.fixture
def every_log_line():
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Collect(level=logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    # Libraries that set their own levels must speak too.
    quiet = {}
    for name in ("urllib3", "slack_sdk", "notion_client", "httpx", "httpcore", "hub", "django"):
        logger = logging.getLogger(name)
        quiet[name] = logger.level
        logger.setLevel(logging.DEBUG)
    yield records
    root.removeHandler(handler)
    root.setLevel(old_level)
    for name, level in quiet.items():
        logging.getLogger(name).setLevel(level)


def test_no_secret_in_any_page_log_line_or_database_column(
    admin_client, admin_user, member_user, client, rotating_slack, notion, google, clickup,
    every_log_line,
):  # fmt: skip
    fakes = [rotating_slack, notion, google, clickup]
    conns = {
        slug: connect_ok(admin_client, slug) for slug in ("slack", "notion", "gmail", "clickup")
    }
    # Use each connection: refresh, test, run its action, break one, disconnect one.
    conns["slack"].refresh(force=True)
    conns["notion"].refresh(force=True)
    for conn in conns.values():
        admin_client.post(f"/connections/{conn.pk}/test/")
    channel = rotating_slack.add_channel("ops")
    for slug, key, config in [
        ("slack", "send_message", {"channel": channel, "text": "hi"}),
        ("notion", "get_me", {}),
        ("gmail", "get_profile", {}),
        ("clickup", "get_user", {}),
    ]:
        conn = conns[slug].__class__.objects.get(pk=conns[slug].pk)
        registry.get(slug).action(key).run(
            Context(conn.workspace_id, config, connection=conn, integration=conn.app)
        )
    admin_client.get(f"/connections/{conns['slack'].pk}/")
    notion.fail_refresh()
    conn = conns["notion"].__class__.objects.get(pk=conns["notion"].pk)
    with pytest.raises(IntegrationError):
        conn.refresh(force=True)  # refused: needs reconnecting, admins emailed
    admin_client.post(f"/connections/{conns['gmail'].pk}/disconnect/")

    # Every secret the fakes ever issued or hold.
    secrets = {t for fake in fakes for t in fake.tokens}
    secrets |= {fake.client_secret for fake in fakes}
    secrets |= {g for fake in fakes for g in fake.grants}  # authorization codes too
    assert len(secrets) > 10

    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    pages = [
        "/connections/",
        *[f"/connections/apps/{slug}/" for slug in ("slack", "notion", "gmail", "clickup")],
        *[f"/connections/{c.pk}/" for c in conns.values()],
        "/audit/",
        "/members/",
        "/",
        "/django-admin/connections/connection/",
        *[f"/django-admin/connections/connection/{c.pk}/change/" for c in conns.values()],
        "/django-admin/connections/oauthapp/",
        "/django-admin/accounts/auditevent/",
    ]
    rendered = []
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        rendered.append((url, response.content.decode()))
    client.force_login(member_user)
    for url in ["/connections/", f"/connections/{conns['slack'].pk}/"]:
        rendered.append((url, client.get(url).content.decode()))

    lines = []
    for record in every_log_line:
        lines.append(record.getMessage())
        if record.exc_info:
            lines.append(logging.Formatter().formatException(record.exc_info))
    assert len(lines) > 20
    audit_text = [str(e.details) + e.target for e in AuditEvent.objects.all()]
    with db.cursor() as cursor:
        cursor.execute("SELECT * FROM connections_connection")
        rows = [str(r) for r in cursor.fetchall()]
        cursor.execute("SELECT * FROM django_session")
        sessions = [str(r) for r in cursor.fetchall()]

    for secret in secrets:
        for url, html in rendered:
            assert secret not in html, f"a secret is on {url}"
        for line in lines:
            assert secret not in line, f"a secret is in a log line: {line[:80]}"
        for text in audit_text + rows:
            assert secret not in text
        # Sessions hold only state and the PKCE verifier, both single-use.
        for text in sessions:
            assert secret not in text

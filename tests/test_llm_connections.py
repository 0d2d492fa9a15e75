"""API-key connections: the add-key page and command (the key tried, kept encrypted, never
shown or taken from argv), Test connection listing models, and the models admins allow."""

from __future__ import annotations

import os

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from hub.connections.models import Connection
from tests.llm_support import start_fake

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake(settings):
    fake = start_fake("openai")
    settings.OPENAI_BASE_URL = fake.base_url
    yield fake
    fake.stop()


def test_admin_adds_a_key_and_it_is_never_shown_again(admin_client, workspace, fake):
    key = fake.issue_key()
    response = admin_client.post(
        "/connections/keys/openai/add/", {"label": "OpenAI", "key": key}, follow=True
    )
    page = response.content.decode()
    assert "3 models available" in page
    conn = Connection.objects.get(workspace=workspace)
    assert (conn.integration, conn.kind, conn.access_token) == ("openai", "api_key", key)
    assert key not in page
    assert [m["id"] for m in conn.details["available"]] == [
        "gpt-4o-mini",
        "gpt-4.1-mini",
        "o4-mini",
    ]
    # Encrypted at rest.
    from django.db import connection as db

    with db.cursor() as cursor:
        cursor.execute("SELECT access_token FROM connections_connection WHERE id = %s", [conn.pk])
        assert key not in cursor.fetchone()[0]


def test_a_refused_key_is_not_saved(admin_client, workspace, fake):
    response = admin_client.post(
        "/connections/keys/openai/add/", {"label": "OpenAI", "key": "sk-bad"}
    )
    assert response.status_code == 400
    assert "refused the API key" in response.content.decode()
    assert not Connection.objects.exists()


def test_members_cannot_add_keys(member_client, fake):
    assert member_client.get("/connections/keys/openai/add/").status_code == 403


def test_admins_choose_the_models_members_may_pick(admin_client, member_user, workspace, fake):
    from django.test import Client

    admin_client.post("/connections/keys/openai/add/", {"label": "OpenAI", "key": fake.issue_key()})
    conn = Connection.objects.get()
    admin_client.post(f"/connections/{conn.pk}/models/", {"allowed": ["o4-mini", "not-a-model"]})
    conn.refresh_from_db()
    assert conn.details["allowed"] == ["o4-mini"]
    member_client = Client()
    member_client.force_login(member_user)
    answer = member_client.get(
        "/recipes/choices/",
        {"app": "llm", "action": "ask", "field": "model", "connection": conn.pk},
    )
    assert answer.status_code == 200, answer.content
    assert [c["value"] for c in answer.json()["choices"]] == ["o4-mini"]


def test_test_connection_lists_models_and_a_new_key_repairs_a_refused_one(
    admin_client, workspace, fake
):
    admin_client.post("/connections/keys/openai/add/", {"label": "OpenAI", "key": fake.issue_key()})
    conn = Connection.objects.get()
    fake.add_model("gpt-5-mini")
    page = admin_client.post(f"/connections/{conn.pk}/test/", follow=True).content.decode()
    assert "4 models available" in page
    conn.mark_broken("refused")
    page = admin_client.post(
        f"/connections/{conn.pk}/key/", {"key": fake.issue_key()}, follow=True
    ).content.decode()
    conn.refresh_from_db()
    assert conn.status == Connection.Status.ACTIVE and "The new key works" in page


def test_add_key_command_reads_the_key_from_the_environment(workspace, fake, monkeypatch, capsys):
    key = fake.issue_key()
    monkeypatch.setenv("HUB_TEST_OPENAI_KEY", key)
    call_command(
        "connections", "add-key", "openai", "--label", "OpenAI", "--key-env", "HUB_TEST_OPENAI_KEY"
    )
    out = capsys.readouterr().out
    assert "Added OpenAI connection “OpenAI”" in out and "gpt-4o-mini" in out and key not in out
    assert Connection.objects.get().access_token == key
    call_command("connections", "list")
    listing = capsys.readouterr().out
    assert "openai\tOpenAI\tapi_key\tactive" in listing and key not in listing


def test_add_key_command_refuses_a_missing_variable_and_an_unknown_app(workspace, fake):
    os.environ.pop("HUB_TEST_MISSING", None)
    with pytest.raises(CommandError, match="HUB_TEST_MISSING is not set"):
        call_command(
            "connections", "add-key", "openai", "--label", "X", "--key-env", "HUB_TEST_MISSING"
        )
    os.environ["HUB_TEST_SOME"] = "x"
    with pytest.raises(CommandError, match="not an app connected with an API key"):
        call_command(
            "connections", "add-key", "slack", "--label", "X", "--key-env", "HUB_TEST_SOME"
        )


def test_a_keyless_compatible_server_needs_its_base_url(workspace, monkeypatch, capsys):
    server = start_fake("openai_compatible")
    try:
        monkeypatch.setenv("EMPTY_KEY", "")
        with pytest.raises(CommandError, match="base URL"):
            call_command(
                "connections",
                "add-key",
                "openai_compatible",
                "--label",
                "Ollama",
                "--key-env",
                "EMPTY_KEY",
            )
        call_command(
            "connections",
            "add-key",
            "openai_compatible",
            "--label",
            "Ollama",
            "--key-env",
            "EMPTY_KEY",
            "--base-url",
            f"{server.origin}/v1",
        )
        assert "llama3.1:8b" in capsys.readouterr().out
    finally:
        server.stop()

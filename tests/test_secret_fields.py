"""Secret step fields (``Field(kind="secret")``), through the HTTP step's sign-in value: the
server the step calls receives the value, and it is nowhere else in plain text — not in any
database table, not in the exported file, not on the recipe or run page."""

from __future__ import annotations

import copy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection as db

from hub.connections import crypto
from hub.engine import secrets
from hub.engine.executor import execute
from hub.engine.models import Run, StepRun
from hub.engine.runs import start_run
from hub.recipes.format import RecipeFormatError
from hub.recipes.models import Recipe, RecipeVersion
from hub.recipes.services import export_recipe, import_recipe, publish_recipe
from integrations.builtin.http_request import ACTION
from tests.conftest import make_recipe

SECRET = "Bearer s3cr3t-0f-the-hub-7f3a9c"


class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[dict] = []

    def log_message(self, *args):
        pass

    def _handle(self):
        Echo.seen.append({"path": self.path, "headers": dict(self.headers)})
        if self.path.startswith("/away"):
            port = self.server.server_address[1]
            self.send_response(302)
            self.send_header("Location", f"http://elsewhere.test:{port}/json")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = json.dumps({"ok": True}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _handle


@pytest.fixture
def server(settings):
    settings.HTTP_STEP_ALLOWLIST = ["127.0.0.1", "elsewhere.test"]
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    Echo.seen = []
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def http_step(url: str, **config) -> dict:
    return {
        "key": "call",
        "app": "builtin",
        "action": "http_request",
        "config": {"method": "POST", "url": url, **config},
    }


def run_once(recipe) -> Run:
    run = start_run(recipe, Run.Source.MANUAL, {})
    execute(run.id)
    run.refresh_from_db()
    return run


def every_stored_value() -> list[str]:
    """Every row of every table, as text."""
    rows = []
    with db.cursor() as cursor:
        for table in db.introspection.table_names():
            cursor.execute(f"SELECT * FROM {db.ops.quote_name(table)}")  # noqa: S608
            rows += [f"{table}: {row}" for row in cursor.fetchall()]
    return rows


def test_the_secret_reaches_the_server_and_nowhere_else(server, workspace, admin_client):
    recipe = make_recipe(workspace, [http_step(f"{server}/json", auth_value=SECRET)])
    run = run_once(recipe)
    assert run.status == "succeeded", run.error
    assert Echo.seen[-1]["headers"]["Authorization"] == SECRET

    step = run.steps.get()
    assert step.input["auth_value"] == secrets.SHOWN
    assert step.input["url"] == f"{server}/json"
    exported = export_recipe(recipe)
    assert exported["steps"][0]["config"]["auth_value"] == ""
    pages = [
        admin_client.get(f"/recipes/{recipe.pk}/").content.decode(),
        admin_client.get(f"/runs/{run.pk}/").content.decode(),
    ]
    assert "Secret values" in pages[0] and "Sign-in value" in pages[0]

    stored = every_stored_value()
    assert any("recipes_recipeversion" in row for row in stored)
    for text in [*stored, json.dumps(exported), *pages]:
        assert SECRET not in text
        assert "s3cr3t" not in text


def test_an_exported_recipe_imports_with_the_secret_to_be_entered(server, workspace, admin_client):
    original = make_recipe(workspace, [http_step(f"{server}/json", auth_value=SECRET)])
    document = export_recipe(original)
    document["name"] = "Copy"
    copy_, problems = import_recipe(workspace, document, publish=True)
    assert copy_.current_version is None and copy_.state == Recipe.State.DRAFT
    assert [p.field for p in problems] == ["auth_value"]
    assert "Enter “Sign-in value”" in str(problems[0])
    with pytest.raises(RecipeFormatError, match="Sign-in value"):
        publish_recipe(copy_)

    page = admin_client.get(f"/recipes/{copy_.pk}/").content.decode()
    assert '<span class="secret-state"><strong>to be entered</strong></span>' in page
    response = admin_client.post(
        f"/recipes/{copy_.pk}/secret/",
        {"step": "call", "field": "auth_value", "value": "Bearer typed-in-later"},
    )
    assert response.status_code == 302
    page = admin_client.get(f"/recipes/{copy_.pk}/").content.decode()
    assert "typed-in-later" not in page and "to be entered" not in page
    assert '<span class="secret-state">set</span>' in page
    publish_recipe(Recipe.objects.get(pk=copy_.pk))
    run = run_once(Recipe.objects.get(pk=copy_.pk))
    assert run.status == "succeeded", run.error
    assert Echo.seen[-1]["headers"]["Authorization"] == "Bearer typed-in-later"
    assert not any("typed-in-later" in row for row in every_stored_value())


def test_only_the_owner_or_an_admin_sets_a_secret(server, workspace, member_client):
    recipe = make_recipe(workspace, [http_step(f"{server}/json")])
    response = member_client.post(
        f"/recipes/{recipe.pk}/secret/",
        {"step": "call", "field": "auth_value", "value": "Bearer nope"},
    )
    assert response.status_code == 403
    # Only declared secret fields can be set this way.
    recipe.owner = member_client.get("/").wsgi_request.user
    recipe.save()
    response = member_client.post(
        f"/recipes/{recipe.pk}/secret/", {"step": "call", "field": "url", "value": "x"}
    )
    assert response.status_code == 404
    assert "nope" not in json.dumps(Recipe.objects.get(pk=recipe.pk).draft)


def test_a_sealed_value_in_a_file_is_not_opened(server, workspace, other_workspace):
    """Ciphertext copied into a file (from a backup, another workspace, a connection's
    token) is dropped on import, and never opened for another workspace at run time."""
    source = make_recipe(workspace, [http_step(f"{server}/json", auth_value=SECRET)])
    sealed = source.current_version.steps[0]["config"]["auth_value"]
    assert secrets.is_sealed(sealed)

    document = export_recipe(source)
    document["steps"][0]["config"]["auth_value"] = sealed
    document["name"] = "Smuggled"
    smuggled, problems = import_recipe(other_workspace, document)
    assert smuggled.draft["steps"][0]["config"]["auth_value"] == ""
    assert [p.field for p in problems] == ["auth_value"]

    # Written straight into another workspace's version, it still does not open.
    planted = copy.deepcopy(document)
    planted["name"] = "Planted"
    planted["steps"][0]["config"]["auth_value"] = "Bearer placeholder"
    recipe = make_recipe(other_workspace, planted["steps"], name="Planted")
    version = recipe.current_version
    version.document["steps"][0]["config"]["auth_value"] = sealed
    RecipeVersion.objects.filter(pk=version.pk).update(document=version.document)
    Echo.seen = []
    run = run_once(recipe)
    assert run.status == "failed" and "cannot be read here" in run.error
    assert Echo.seen == []

    # Nor does a value sealed for another purpose (a connection's token uses the same keys).
    version.document["steps"][0]["config"]["auth_value"] = {"$secret": crypto.encrypt("xoxb-1")}
    RecipeVersion.objects.filter(pk=version.pk).update(document=version.document)
    run = run_once(recipe)
    assert run.status == "failed" and "cannot be read here" in run.error
    assert Echo.seen == []


def test_a_plain_secret_in_a_draft_is_sealed_when_published(server, workspace):
    recipe = make_recipe(workspace, [http_step(f"{server}/json")], publish=False)
    recipe.draft["steps"][0]["config"]["auth_value"] = SECRET
    Recipe.objects.filter(pk=recipe.pk).update(draft=recipe.draft)
    version = publish_recipe(Recipe.objects.get(pk=recipe.pk))
    assert secrets.is_sealed(version.steps[0]["config"]["auth_value"])
    assert not any(SECRET in row for row in every_stored_value())


def test_custom_sign_in_header_is_sent_and_dropped_on_a_cross_host_redirect(server, monkeypatch):
    from integrations.base import Context
    from integrations.builtin.http_request import addresses

    monkeypatch.setattr(addresses, "resolve", lambda host, port: ["127.0.0.1"])
    config = {
        "url": f"{server}/json",
        "auth_header": "X-Api-Key",
        "auth_value": "k-123",
        "headers": [{"key": "x-api-key", "value": "replaced"}],
    }
    ACTION.run(Context(workspace_id=1, config=config))
    assert Echo.seen[-1]["headers"]["X-Api-Key"] == "k-123"
    ACTION.run(Context(workspace_id=1, config={**config, "url": f"{server}/away"}))
    assert Echo.seen[-1]["path"] == "/json"
    assert "X-Api-Key" not in Echo.seen[-1]["headers"]


def test_rotate_keys_re_encrypts_recipe_secrets(settings, server, workspace):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    recipe = make_recipe(workspace, [http_step(f"{server}/json", auth_value=SECRET)])
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    call_command("rotate_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.FIELD_ENCRYPTION_KEYS = [new]
    run = run_once(recipe)
    assert run.status == "succeeded", run.error
    assert Echo.seen[-1]["headers"]["Authorization"] == SECRET
    assert StepRun.objects.get(run=run).input["auth_value"] == secrets.SHOWN


def test_secret_values_read_in_korean(server, workspace, admin_client):
    from django.utils import translation

    original = make_recipe(workspace, [http_step(f"{server}/json", auth_value=SECRET)])
    document = export_recipe(original)
    document["name"] = "Copy"
    recipe, _problems = import_recipe(workspace, document)
    try:
        html = admin_client.get(f"/recipes/{recipe.pk}/", HTTP_ACCEPT_LANGUAGE="ko")
        html = html.content.decode()
    finally:
        translation.deactivate()
    assert '<h2 id="secrets">비밀 값</h2>' in html
    assert "입력 필요" in html
    assert "이 레시피 페이지의 비밀 값에서 “인증 값” 항목을 입력하세요." in html

"""Shared fixtures: the standard workspace with an admin and a member, a second workspace for
scoping tests, and a real Celery worker process for behaviour that depends on one."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from hub.accounts.models import Membership, User, Workspace

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def rate_limit_windows(settings, tmp_path):
    """Each test's rate-limit windows start empty (integrations/ratelimit.py): connection ids
    repeat between tests, and one test's calls must not slow the next one down."""
    settings.RATE_LIMIT_STORAGE = f"file://{tmp_path / 'ratelimit'}"


def using_postgres() -> bool:
    return connection.vendor == "postgresql"


def using_redis() -> bool:
    from django.conf import settings

    return settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://"))


@pytest.fixture
def workspace(db) -> Workspace:
    return Workspace.objects.create(name="Acme")


@pytest.fixture
def other_workspace(db) -> Workspace:
    return Workspace.objects.create(name="Globex")


def make_user(email: str, workspace: Workspace | None, role: str) -> User:
    user = User.objects.create_user(email, PASSWORD, first_name=email.split("@")[0].title())
    if workspace is not None:
        Membership.objects.create(workspace=workspace, user=user, role=role)
    return user


@pytest.fixture
def admin_user(workspace) -> User:
    return make_user("ada@acme.test", workspace, Membership.Role.ADMIN)


@pytest.fixture
def member_user(workspace) -> User:
    return make_user("max@acme.test", workspace, Membership.Role.MEMBER)


@pytest.fixture
def outsider(other_workspace) -> User:
    return make_user("olga@globex.test", other_workspace, Membership.Role.ADMIN)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def member_client(client, member_user):
    client.force_login(member_user)
    return client


def database_url_for_subprocess() -> str:
    """The URL of the database this test uses (the test database), for a child process."""
    params = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{params['NAME']}"
    user = params.get("USER") or ""
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    port = f":{params['PORT']}" if params.get("PORT") else ""
    return f"postgres://{auth}{params.get('HOST') or '127.0.0.1'}{port}/{params['NAME']}"


class WorkerProcess:
    """A real `celery worker` process on its own queue, reading the test database."""

    def __init__(
        self,
        queue: str,
        concurrency: int = 1,
        extra_env: dict | None = None,
        name: str = "w",
    ):
        self.queue = queue
        self.concurrency = concurrency
        self.extra_env = extra_env or {}
        self.name = name
        self.process: subprocess.Popen | None = None
        self.log_path = ROOT / "var" / f"worker-{queue}-{name}.log"

    def start(self) -> WorkerProcess:
        env = {
            **os.environ,
            "DATABASE_URL": database_url_for_subprocess(),
            "CELERY_QUEUE": self.queue,
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(  # noqa: S603  (our own command line)
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "hub",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                str(self.concurrency),
                "--queues",
                self.queue,
                "--hostname",
                f"{self.queue}-{self.name}@%h",
                "--without-mingle",
                "--without-gossip",
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # Its own process group, so kill() takes the pool's children down with it.
            start_new_session=True,
        )
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"The worker exited early:\n{self.log()}")
            if "ready." in self.log():
                return
            time.sleep(0.2)
        raise RuntimeError(f"The worker did not start in {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def kill(self) -> None:
        """kill -9 the worker and its pool processes, as a crash or OOM kill would."""
        import signal

        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "_log", None):
            self._log.close()


@pytest.fixture
def celery_queue(settings):
    """Route tasks sent by this test to a queue of its own, so parallel runs never mix."""
    from hub.celery import app

    queue = f"test-{uuid.uuid4().hex[:10]}"
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    yield queue
    app.conf.task_default_queue = previous


@pytest.fixture
def worker_env() -> dict:
    """Extra environment for worker processes; override in a test module (fake URLs)."""
    return {}


@pytest.fixture
def celery_worker_process(transactional_db, celery_queue, worker_env):
    worker = WorkerProcess(celery_queue, extra_env=worker_env).start()
    yield worker
    worker.stop()


# ---------------------------------------------------------------- the recipe engine


class _KitIntegration:
    """A stand-in app for engine tests: each action does one thing the engine must handle."""

    slug = "kit"
    name = "Kit"
    oauth = None
    uses_api_key = False
    calls: list = []
    failures: dict = {}

    def __init__(self):
        from integrations.base import (
            Action,
            Field,
            IntegrationError,
            OutputField,
            StopRun,
            WaitUntil,
        )

        kit = type(self)

        def echo(ctx):
            kit.calls.append((ctx.step_key, dict(ctx.config)))
            return dict(ctx.config)

        def flaky(ctx):
            kit.calls.append((ctx.step_key, dict(ctx.config)))
            left = kit.failures.get(ctx.step_key, 0)
            if left:
                kit.failures[ctx.step_key] = left - 1
                raise IntegrationError(
                    ctx.config.get("message", "flaky"),
                    permanent=bool(ctx.config.get("permanent")),
                    reauth=bool(ctx.config.get("reauth")),
                    retry_after=ctx.config.get("retry_after"),
                )
            return {"ok": True}

        def stop(ctx):
            raise StopRun(ctx.config.get("reason", "no match"))

        def wait(ctx):
            from datetime import timedelta

            from django.utils import timezone

            kit.calls.append((ctx.step_key, {"resumed": ctx.resumed}))
            if ctx.resumed:
                return {"waited": True}
            raise WaitUntil(timezone.now() + timedelta(seconds=ctx.config.get("seconds", 60)))

        def slow(ctx):
            time.sleep(float(ctx.config.get("seconds", 1)))
            return {"slept": True}

        def big(ctx):
            return {"text": "x" * int(ctx.config.get("size", 10))}

        def boom(ctx):
            raise RuntimeError("a bug")

        any_fields = (
            Field("text", "Text"),
            Field("value", "Value", kind="json"),
            Field("items", "Items", kind="list"),
        )
        self.actions = {
            "echo": Action(
                "echo",
                "Echo",
                echo,
                fields=any_fields,
                # Echo gives back what it was given: every field is an output.
                outputs=tuple(OutputField(f.key, f.label, kind=f.kind) for f in any_fields),
                sample={"text": "hi", "value": None, "items": []},
            ),
            "need": Action(
                "need",
                "Need",
                echo,
                fields=(Field("text", "Text", required=True),),
                outputs=(OutputField("text", "Text"),),
                sample={"text": "hi"},
            ),
            "flaky": Action(
                "flaky",
                "Flaky",
                flaky,
                fields=(
                    Field("message", "Message"),
                    Field("permanent", "Permanent", kind="bool"),
                    Field("reauth", "Reauth", kind="bool"),
                    Field("retry_after", "Retry after", kind="number"),
                ),
                outputs=(OutputField("ok", "OK", kind="bool"),),
                sample={"ok": True},
            ),
            "stop": Action("stop", "Stop", stop, fields=(Field("reason", "Reason"),)),
            "wait": Action(
                "wait",
                "Wait",
                wait,
                fields=(Field("seconds", "Seconds"),),
                outputs=(OutputField("waited", "Waited", kind="bool"),),
                sample={"waited": True},
            ),
            "slow": Action(
                "slow",
                "Slow",
                slow,
                fields=(Field("seconds", "Seconds"),),
                outputs=(OutputField("slept", "Slept", kind="bool"),),
                sample={"slept": True},
            ),
            "big": Action(
                "big",
                "Big",
                big,
                fields=(Field("size", "Size"),),
                outputs=(OutputField("text", "Text"),),
                sample={"text": "xxxx"},
            ),
            "boom": Action("boom", "Boom", boom),
        }
        self.triggers = {}

    def action(self, key):
        return self.actions[key]


@pytest.fixture
def kit(monkeypatch):
    """Register the stand-in ``kit`` app for this test."""
    from integrations import registry

    registry.get.cache_clear()
    original = registry.get.__wrapped__

    def get(slug):
        if slug == "kit":
            return _KitIntegration()
        return original(slug)

    monkeypatch.setattr(registry, "get", get)
    _KitIntegration.calls = []
    _KitIntegration.failures = {}
    return _KitIntegration


def make_recipe(workspace, steps, *, trigger=None, name="Test recipe", publish=True):
    """Import and (by default) publish a recipe from steps given as dicts."""
    from hub.recipes.services import import_recipe

    document = {
        "format": "toolstack.recipe/1",
        "name": name,
        "trigger": trigger or {"app": "manual"},
        "steps": steps,
    }
    recipe, problems = import_recipe(workspace, document, publish=publish)
    assert not problems, problems
    recipe.refresh_from_db()
    return recipe


@pytest.fixture
def hook(workspace, kit):
    """A published recipe started by a webhook, its one step echoing ``trigger.x``."""
    return make_recipe(
        workspace,
        [{"key": "a", "app": "kit", "action": "echo", "config": {"text": "{{ trigger.x }}"}}],
        trigger={"app": "webhook", "event": "catch"},
    )


def hook_path(recipe, secret: str | None = None) -> str:
    return f"/hooks/{recipe.public_id}/{secret or recipe.webhook_secret}"


def post_hook(client, recipe, body=b'{"x": 1}', secret=None, **headers):
    """POST ``body`` to the recipe's webhook address through the test client."""
    return client.post(hook_path(recipe, secret), body, content_type="application/json", **headers)


@pytest.fixture
def web(transactional_db, celery_queue):
    """The Procfile's web process (gunicorn) on the test database, sending to this test's
    queue."""
    from tests.procfile import ProcfileProcess

    process = ProcfileProcess(
        "web", ROOT / "var" / f"web-{celery_queue}.log", env={"CELERY_QUEUE": celery_queue}
    )
    process.start().wait_listening()
    yield process
    process.stop()


@pytest.fixture
def sent(monkeypatch):
    """The messages handed to the broker instead of sent, by task name and arguments."""
    from celery import current_app

    messages = []
    monkeypatch.setattr(
        current_app, "send_task", lambda name, args, **options: messages.append((name, args))
    )
    return messages


@pytest.fixture
def fake_slack(settings):
    """The Slack fake on a free port, with the hub's settings pointing at it."""
    from tests.fakes.slack import FakeSlack

    with FakeSlack() as fake:
        for key, value in fake.settings().items():
            setattr(settings, key, value)
        fake.general = fake.add_channel("general")
        yield fake


def slack_connection(workspace, fake, label: str = "Acme Slack"):
    """A Slack connection holding a token the fake accepts, without the OAuth dance."""
    from hub.connections.models import Connection

    connection = Connection(workspace=workspace, integration="slack", label=label)
    connection.set_tokens(fake.issue_token(), None, None)
    connection.save()
    return connection


def slack_step(channel, text="Hello {{ trigger.name | upper }}", key="notify"):
    """A recipe step posting ``text`` to ``channel`` through the "Acme Slack" connection."""
    return {
        "key": key,
        "app": "slack",
        "action": "send_message",
        "connection": "Acme Slack",
        "config": {"channel": channel, "text": text},
    }

"""The per-connection rate limiter (integrations/ratelimit.py): windows shared by processes,
a short wait in the worker, a longer one handed back to the engine as a retry, and each
app's seam counting what its app counts (Notion requests, Slack tiers and channels, Gmail
quota units, ClickUp's reported plan limit)."""

from __future__ import annotations

import multiprocessing

import pytest

from hub.connections.models import Connection
from integrations import ratelimit, registry
from integrations.base import Context, IntegrationError
from integrations.ratelimit import Limiter
from tests.fakes.clickup import FakeClickUp
from tests.fakes.gmail import FakeGoogle
from tests.fakes.notion import FakeNotion
from tests.ratelimit_worker import take_slots


def busiest_second(stamps: list[float]) -> int:
    """The most requests inside any one-second window (each window starting at a request)."""
    stamps = sorted(stamps)
    return max(
        (sum(1 for t in stamps[i:] if t - start < 1.0) for i, start in enumerate(stamps)),
        default=0,
    )


@pytest.fixture
def slept(monkeypatch):
    """What each Limiter.acquire slept waiting for its slot, in call order."""
    record: list[float] = []
    acquire = Limiter.acquire

    def recording(self, *args, **kwargs):
        record.append(acquire(self, *args, **kwargs))
        return record[-1]

    monkeypatch.setattr(Limiter, "acquire", recording)
    return record


def use(settings, fake):
    for key, value in fake.settings().items():
        setattr(settings, key, value)


def connection_for(workspace, app: str, token: str, label: str = "Team") -> Connection:
    connection = Connection(workspace=workspace, integration=app, label=label)
    connection.set_tokens(token, None, None)
    connection.save()
    return connection


def test_busiest_second_counts_a_sliding_window():
    assert busiest_second([0.0, 0.5, 0.99, 1.0, 1.98]) == 3
    assert busiest_second([0.0, 0.1, 0.2, 0.3]) == 4


def test_short_wait_happens_in_process(settings):
    settings.RATE_LIMITS = {"notion": "2/second"}
    limiter = Limiter("notion", "1", "Notion")
    waits = [limiter.acquire("notion") for _ in range(3)]
    assert waits[:2] == [0.0, 0.0]
    assert 0.5 < waits[2] <= 1.2


def test_long_wait_becomes_a_retry_for_the_engine(settings):
    settings.RATE_LIMITS = {"clickup": "1/minute"}
    limiter = Limiter("clickup", "7", "ClickUp")
    limiter.acquire("clickup")
    with pytest.raises(IntegrationError) as caught:
        limiter.acquire("clickup")
    error = caught.value
    assert error.retryable and 55 < error.retry_after <= 60.2
    assert "ClickUp" in error.message


def test_connections_have_separate_budgets(settings):
    settings.RATE_LIMITS = {"clickup": "1/minute"}
    Limiter("clickup", "1").acquire("clickup")
    assert Limiter("clickup", "2").acquire("clickup") == 0.0


def test_file_windows_are_shared_by_two_processes(settings, tmp_path):
    url = f"file://{tmp_path / 'windows'}"
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    workers = [context.Process(target=take_slots, args=(url, 6, out)) for _ in range(2)]
    for worker in workers:
        worker.start()
    stamps = [out.get(timeout=30) for _ in range(12)]
    for worker in workers:
        worker.join(timeout=10)
    assert busiest_second(stamps) <= 3
    # 12 slots at 3 a second: the last one at least 3 s after the first.
    assert max(stamps) - min(stamps) >= 3.0


def test_notion_requests_reach_the_fake_at_three_a_second(workspace, settings):
    settings.RATE_LIMITS = {"notion": "3/second"}
    with FakeNotion() as fake:
        use(settings, fake)
        connection = connection_for(workspace, "notion", fake.issue_token())
        app = registry.get("notion")
        client = app.client(connection)
        for _ in range(7):
            client.users.me()
        stamps = [call.at for call in fake.calls("users.me")]
    assert len(stamps) == 7
    assert busiest_second(stamps) <= 3


def test_slack_posts_are_limited_per_channel_not_per_workspace(
    workspace, settings, fake_slack, slept
):
    settings.RATE_LIMITS = {"slack.chat.postMessage": "1/second", "slack.tier3": "50/minute"}
    fake = fake_slack
    connection = connection_for(workspace, "slack", fake.issue_token())
    other = fake.add_channel("random")
    client = registry.get("slack").client(connection)
    client.chat_postMessage(channel=fake.general, text="one")
    client.chat_postMessage(channel=other, text="two")
    client.chat_postMessage(channel=fake.general, text="three")
    stamps = [c.at for c in fake.calls("chat.postMessage")]
    assert slept[:2] == [0.0, 0.0]  # another channel: no wait
    assert slept[2] > 0  # the same channel again waits for its second
    assert stamps[2] - stamps[0] >= 1.0


def test_slack_tier_two_method_over_its_minute_is_rescheduled(workspace, settings, fake_slack):
    settings.RATE_LIMITS = {"slack.tier2": "2/minute"}
    connection = connection_for(workspace, "slack", fake_slack.issue_token())
    client = registry.get("slack").client(connection)
    client.conversations_list()
    client.conversations_list()
    with pytest.raises(IntegrationError) as caught:
        client.conversations_list()
    assert len(fake_slack.calls("conversations.list")) == 2
    assert caught.value.retry_after > 50


def test_gmail_counts_quota_units(workspace, settings, slept):
    # 250 units a second: two sends (100 each) and ten reads (5 each) fit; a third send waits.
    settings.RATE_LIMITS = {"gmail": "250/second"}
    with FakeGoogle() as fake:
        use(settings, fake)
        connection = connection_for(workspace, "gmail", fake.issue_token())
        client = registry.get("gmail").client(connection)
        raw = "VG86IGFAYWNtZS50ZXN0DQpTdWJqZWN0OiBoaQ0KDQpoaQ"
        client.send(raw)
        client.send(raw)
        for _ in range(10):
            client.get("labels")
        client.send(raw)
        assert len(fake.calls("messages.send")) == 3
    assert slept[:12] == [0.0] * 12
    assert slept[12] > 0
    assert ratelimit.gmail_units("POST", "messages/send") == 100
    assert ratelimit.gmail_units("GET", "messages/abc") == 5


def test_clickup_follows_the_limit_the_app_reports(workspace, settings):
    settings.RATE_LIMITS = {"clickup": "2/minute"}
    with FakeClickUp() as fake:
        use(settings, fake)
        connection = connection_for(workspace, "clickup", fake.issue_token())
        client = registry.get("clickup").client(connection)
        # A Business Plus token: ClickUp's 429 says 1,000 a minute (and when it resets).
        fake.limit_rate(1000, 60)
        fake.rate_limit("*", retry_after=1)
        with pytest.raises(IntegrationError) as caught:
            client.user()
        assert caught.value.retryable and caught.value.retry_after is not None
        for _ in range(5):  # over the configured 2/minute, within the reported 1,000
            client.user()
        assert len(fake.calls("/api/v2/user")) == 6
    assert ratelimit.clickup_rates({"X-RateLimit-Limit": "100"}) == "100/minute"
    assert ratelimit.clickup_rates({}) is None


def test_a_step_over_the_limit_is_rescheduled_like_a_429(workspace, settings, fake_slack):
    from hub.engine.executor import execute
    from hub.engine.models import Run
    from hub.engine.runs import start_run

    settings.RATE_LIMITS = {"slack.chat.postMessage": "1/minute"}
    fake = fake_slack
    recipe = slack_post_recipe(workspace, fake)
    first = start_run(recipe, Run.Source.MANUAL, {})
    assert execute(first.id) == "succeeded"
    second = start_run(recipe, Run.Source.MANUAL, {})
    assert execute(second.id) == "waiting"
    second.refresh_from_db()
    assert len(fake.calls("chat.postMessage")) == 1
    attempt = second.steps.get()
    assert attempt.status == "retrying"
    assert "rate limit" in attempt.error
    # Rescheduled for when the channel's minute has passed, not retried at once.
    assert (second.resume_at - attempt.started_at).total_seconds() > 50


def test_context_client_carries_the_connections_limiter(workspace, settings):
    with FakeNotion() as fake:
        use(settings, fake)
        connection = connection_for(workspace, "notion", fake.issue_token())
        app = registry.get("notion")
        ctx = Context(workspace_id=workspace.pk, connection=connection, integration=app)
        hooks = ctx.client().client.event_hooks["request"]
    assert len(hooks) == 1


def test_a_store_that_cannot_be_reached_is_an_attempt_retried_not_a_failed_run(settings):
    import socket

    with socket.socket() as free:  # a port nothing listens on: Redis restarting
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    settings.RATE_LIMIT_STORAGE = f"redis://127.0.0.1:{port}/0"
    settings.RATE_LIMITS = {"notion": "3/second"}
    with pytest.raises(IntegrationError) as caught:
        Limiter("notion", "1", "Notion").acquire("notion")
    error = caught.value
    assert error.retryable and not error.permanent and not error.throttled
    assert "store of its rate limits" in error.message


def test_holds_of_the_hubs_own_limiter_use_up_none_of_the_steps_attempts(
    workspace, settings, fake_slack
):
    """Held back more times than a step has attempts, the step still gets all its attempts
    at the app once its turn comes."""
    from hub.engine.executor import execute
    from hub.engine.models import Run
    from hub.engine.runs import start_run

    settings.RATE_LIMITS = {"slack.chat.postMessage": "1/minute"}
    settings.ENGINE_MAX_ATTEMPTS = 3
    fake = fake_slack
    recipe = slack_post_recipe(workspace, fake)
    assert execute(start_run(recipe, Run.Source.MANUAL, {}).id) == "succeeded"
    run = start_run(recipe, Run.Source.MANUAL, {})
    for _ in range(4):  # more holds than the three attempts
        Run.objects.filter(pk=run.pk).update(resume_at=None)
        assert execute(run.id) == "waiting"
    held = list(run.steps.order_by("id"))
    assert [r.attempt for r in held] == [1, 1, 1, 1]
    assert all("waiting its turn" in r.error for r in held)

    # Its turn comes, and the app fails twice: the third attempt still happens.
    settings.RATE_LIMITS = {"slack.chat.postMessage": "1000/second"}
    fake.fail_next("chat.postMessage", status=500, times=2)
    for expected in ("waiting", "waiting", "succeeded"):
        Run.objects.filter(pk=run.pk).update(resume_at=None)
        assert execute(run.id) == expected
    attempts = [r.attempt for r in run.steps.order_by("id")]
    assert attempts == [1, 1, 1, 1, 1, 2, 3]
    assert len(fake.calls("chat.postMessage")) == 4  # the first run's, two failures, the post


def slack_post_recipe(workspace, fake):
    """A published recipe of one step posting "hi" to the fake's #general."""
    from tests.conftest import make_recipe

    connection_for(workspace, "slack", fake.issue_token(), label="Acme Slack")
    step = {
        "key": "post",
        "app": "slack",
        "action": "send_message",
        "connection": "Acme Slack",
        "config": {"channel": fake.general, "text": "hi"},
    }
    return make_recipe(workspace, [step])

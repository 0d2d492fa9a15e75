"""The worker's work per run is bounded: a fresh run of a local step and an app step is a
fixed handful of statements (the claim returns what the steps' contexts need; the step's
connection and its publisher's right to use it are one statement), and the statements built
once return what the ORM would."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hub.connections.models import Connection
from hub.engine import step_connections
from hub.engine.executor import execute
from hub.engine.models import Run, StepRun
from hub.engine.runs import start_run
from tests.conftest import make_recipe, slack_connection, slack_step

FORMAT = {
    "key": "fmt",
    "app": "builtin",
    "action": "formatter",
    "config": {"operation": "text_upper", "input": "{{ trigger.name }}"},
}


@pytest.mark.django_db(transaction=True)
def test_a_fresh_run_of_two_steps_costs_a_bounded_number_of_statements(
    workspace, fake_slack, settings
):
    # Two posts to one channel within a second: Slack's own limit is not what is tested.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "slack.chat.postMessage": "100/second"}
    slack_connection(workspace, fake_slack)
    recipe = make_recipe(
        workspace, [FORMAT, slack_step(fake_slack.general, text="{{ steps.fmt.output }}")]
    )
    warm = start_run(recipe, Run.Source.MANUAL, {"name": "warm"})
    assert execute(warm.id) == "succeeded"
    run = start_run(recipe, Run.Source.MANUAL, {"name": "ada"})
    with CaptureQueriesContext(connection) as queries:
        assert execute(run.id) == "succeeded"
    sql = [q["sql"] for q in queries]
    # The claim; the formatter's row; the lease renewed with the app step's "running" row
    # (one statement on PostgreSQL; on SQLite an UPDATE and an INSERT between BEGIN
    # IMMEDIATE and COMMIT); its connection with the publisher's right; its result and the
    # run's end (one statement on PostgreSQL, two on SQLite).
    limit = 5 if connection.vendor == "postgresql" else 9
    assert len(sql) <= limit, "\n".join(s[:90] for s in sql)
    assert [m["text"] for m in fake_slack.messages[fake_slack.general]] == ["WARM", "ADA"]
    steps = list(StepRun.objects.filter(run=run).values_list("key", "status"))
    assert steps == [("fmt", "succeeded"), ("notify", "succeeded")]


def test_the_connection_built_once_is_the_one_the_orm_loads(workspace, fake_slack, admin_user):
    conn = slack_connection(workspace, fake_slack)
    query = step_connections._by_id_query(("slack",))
    fast = query.first(workspace.pk, conn.pk, admin_user.pk)
    orm = Connection.objects.get(pk=conn.pk)
    columns = [f.attname for f in Connection._meta.concrete_fields]
    assert {c: getattr(fast, c) for c in columns} == {c: getattr(orm, c) for c in columns}
    assert fast.access_token == orm.access_token and fast.access_token  # decrypted
    assert fast.publisher_may_use is True
    assert fast.fresh_token() == orm.fresh_token()
    # Another workspace's connection, or an app that may not use it: none.
    assert query.first(workspace.pk + 1000, conn.pk, admin_user.pk) is None
    assert step_connections._by_id_query(("notion",)).first(workspace.pk, conn.pk, 0) is None


def test_the_publishers_right_follows_the_sharing_rule(workspace, fake_slack, member_user):
    conn = slack_connection(workspace, fake_slack)
    query = step_connections._by_id_query(("slack",))

    def may(user_id):
        found = query.first(workspace.pk, conn.pk, user_id)
        rule = Connection.objects.usable_by(user_id, workspace).filter(pk=conn.pk).exists()
        assert found.publisher_may_use is rule
        return rule

    assert may(member_user.pk)  # shared with everyone
    Connection.objects.filter(pk=conn.pk).update(shared_with_all=False)
    assert not may(member_user.pk)
    conn.allowed_users.add(member_user)
    assert may(member_user.pk)
    type(member_user).objects.filter(pk=member_user.pk).update(is_active=False)
    assert not may(member_user.pk)
    assert not may(step_connections.NO_PUBLISHER)

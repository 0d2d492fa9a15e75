"""Recipes get a time zone: the workspace's by default, the recipe file's "timezone" when it
names one. A date a member types ("09:00") means that zone's 09:00 in the formatter, the
delay and the schedule; the file keeps the key through export and import; a typo is refused
with a message saying what to write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hub.accounts.models import Workspace
from hub.engine.executor import execute
from hub.engine.models import Run, StepRun, TriggerState
from hub.engine.runs import start_run
from hub.engine.scheduler import tick
from hub.recipes import format as recipe_format
from hub.recipes.models import Recipe
from hub.recipes.services import export_recipe, import_recipe
from tests.conftest import make_recipe

SEOUL = "Asia/Seoul"


def document(name="Morning", timezone=None, steps=None, trigger=None):
    doc = {
        "format": "toolstack.recipe/1",
        "name": name,
        "trigger": trigger or {"app": "manual"},
        "steps": steps or [],
    }
    if timezone is not None:
        doc["timezone"] = timezone
    return doc


def formatter_step(text="2026-12-01 09:00"):
    return {
        "key": "when",
        "app": "builtin",
        "action": "formatter",
        "config": {"operation": "date_parse", "input": text},
    }


def run_now(recipe):
    run = start_run(recipe, Run.Source.MANUAL, {})
    execute(run.id)
    run.refresh_from_db()
    return run


def output_of(run, key):
    return StepRun.objects.get(run=run, key=key).output


def test_new_workspace_takes_the_deployments_time_zone(db, settings):
    settings.TIME_ZONE = "Europe/Paris"
    assert Workspace.objects.create(name="Paris office").timezone == "Europe/Paris"


def test_formatter_reads_0900_in_the_recipes_time_zone(workspace):
    recipe = make_recipe(workspace, [formatter_step()], name="Seoul")
    import_recipe(workspace, document("Seoul file", SEOUL, [formatter_step()]), publish=True)
    seoul = Recipe.objects.get(workspace=workspace, name="Seoul file")
    assert output_of(run_now(seoul), "when") == {"output": "2026-12-01T09:00:00+09:00"}
    # The other recipe names no zone: the workspace's (UTC here).
    assert output_of(run_now(recipe), "when") == {"output": "2026-12-01T09:00:00+00:00"}


def test_a_recipe_without_a_zone_follows_the_workspace(workspace):
    workspace.timezone = SEOUL
    workspace.save()
    recipe = make_recipe(workspace, [formatter_step()])
    assert output_of(run_now(recipe), "when") == {"output": "2026-12-01T09:00:00+09:00"}


def test_a_steps_own_zone_wins_over_the_recipes(workspace):
    step = formatter_step()
    step["config"]["timezone"] = "Europe/London"
    import_recipe(workspace, document("London step", SEOUL, [step]), publish=True)
    run = run_now(Recipe.objects.get(name="London step"))
    assert output_of(run, "when") == {"output": "2026-12-01T09:00:00+00:00"}


def test_delay_until_a_seoul_morning(workspace, monkeypatch):
    from integrations.builtin import delay

    now = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)  # 05:00 in Seoul
    monkeypatch.setattr(delay, "utcnow", lambda: now)
    step = {
        "key": "wait",
        "app": "builtin",
        "action": "delay",
        "config": {"mode": "until", "until": "2026-12-01 09:00"},
    }
    import_recipe(workspace, document("Wait", SEOUL, [step]), publish=True)
    run = run_now(Recipe.objects.get(name="Wait"))
    assert run.status == Run.Status.WAITING
    assert output_of(run, "wait") == {"waiting_until": "2026-12-01T00:00:00+00:00"}


def test_weekday_0900_schedule_fires_at_0900_seoul(workspace, kit):
    trigger = {"app": "schedule", "event": "cron", "config": {"cron": "0 9 * * 1-5"}}
    steps = [{"key": "a", "app": "kit", "action": "echo", "config": {"text": "x"}}]
    import_recipe(workspace, document("Weekdays", SEOUL, steps, trigger), publish=True)
    state = TriggerState.objects.get(recipe__name="Weekdays")
    due = state.next_fire_at.astimezone(UTC)
    assert (due.hour, due.minute) == (0, 0)  # 09:00 +09:00
    assert due.astimezone(ZoneInfo(SEOUL)).weekday() < 5
    assert tick(due) == 1
    run = Run.objects.get(recipe__name="Weekdays")
    assert run.trigger_data["timezone"] == SEOUL


def test_schedule_with_its_own_zone_keeps_it(workspace, kit):
    trigger = {
        "app": "schedule",
        "event": "daily",
        "config": {"at": "09:00", "timezone": "America/New_York"},
    }
    steps = [{"key": "a", "app": "kit", "action": "echo", "config": {"text": "x"}}]
    import_recipe(workspace, document("NY", SEOUL, steps, trigger), publish=True)
    due = TriggerState.objects.get(recipe__name="NY").next_fire_at.astimezone(UTC)
    assert due.hour in (13, 14)  # 09:00 in New York (EST or EDT)


def test_changing_the_workspace_zone_moves_schedules_that_follow_it(admin_client, workspace, kit):
    trigger = {"app": "schedule", "event": "daily", "config": {"at": "09:00"}}
    steps = [{"key": "a", "app": "kit", "action": "echo", "config": {"text": "x"}}]
    make_recipe(workspace, steps, trigger=trigger, name="Follows")
    import_recipe(workspace, document("Own", "UTC", steps, trigger), publish=True)
    assert TriggerState.objects.get(recipe__name="Follows").next_fire_at.hour == 9
    response = admin_client.post("/workspace/settings/", {"timezone": SEOUL})
    assert response.status_code == 302
    workspace.refresh_from_db()
    assert workspace.timezone == SEOUL
    assert TriggerState.objects.get(recipe__name="Follows").next_fire_at.hour == 0
    assert TriggerState.objects.get(recipe__name="Own").next_fire_at.hour == 9


def test_file_round_trips_timezone(workspace):
    recipe, problems = import_recipe(workspace, document("Round", SEOUL, [formatter_step()]))
    assert not problems
    exported = export_recipe(recipe)
    assert exported["timezone"] == SEOUL
    again, _ = import_recipe(workspace, {**exported, "name": "Round again"}, publish=True)
    again.refresh_from_db()
    assert again.current_version.timezone == SEOUL
    assert export_recipe(again)["timezone"] == SEOUL


def test_a_file_without_timezone_exports_none(workspace):
    recipe = make_recipe(workspace, [formatter_step()])
    assert "timezone" not in export_recipe(recipe)
    assert recipe.current_version.timezone == ""


@pytest.mark.parametrize("bad", ["Mars/Olympus", "asia/seoul ", 9, "../etc/passwd"])
def test_unknown_zone_is_refused_with_what_to_write(bad):
    with pytest.raises(recipe_format.RecipeFormatError) as caught:
        recipe_format.normalize(document(timezone=bad))
    [problem] = caught.value.problems
    assert problem.field == "timezone"
    assert "is not a time zone" in problem.message and "Asia/Seoul" in problem.message


def test_settings_page_lists_zones_and_refuses_a_typo(admin_client, workspace):
    page = admin_client.get("/workspace/settings/")
    assert page.status_code == 200
    body = page.content.decode()
    assert '<option value="Asia/Seoul">' in body and 'list="zone-names"' in body
    response = admin_client.post("/workspace/settings/", {"timezone": "Seoul"})
    assert response.status_code == 400
    assert "is not a time zone" in response.content.decode()
    workspace.refresh_from_db()
    assert workspace.timezone == "UTC"


def test_members_may_not_change_the_zone(member_client, workspace):
    assert member_client.post("/workspace/settings/", {"timezone": SEOUL}).status_code == 403
    workspace.refresh_from_db()
    assert workspace.timezone == "UTC"


def test_step_context_carries_zone_recipe_version_and_owner(
    workspace, kit, admin_user, monkeypatch
):
    from hub.engine import step_attempt
    from integrations.base import Context

    seen = []

    class Recording(Context):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            seen.append(self)

    monkeypatch.setattr(step_attempt, "Context", Recording)
    steps = [{"key": "a", "app": "kit", "action": "echo", "config": {"text": "x"}}]
    recipe, _ = import_recipe(workspace, document("Ctx", SEOUL, steps), user=admin_user)
    from hub.recipes.services import publish_recipe

    version = publish_recipe(recipe, user=admin_user)
    recipe.refresh_from_db()
    run_now(recipe)
    [ctx] = seen
    assert (ctx.timezone, ctx.recipe_id, ctx.version_id) == (SEOUL, recipe.pk, version.pk)
    assert ctx.member_id == admin_user.pk


def test_tick_data_names_the_zone_used(workspace, kit):
    trigger = {"app": "schedule", "event": "every", "config": {"minutes": 5}}
    steps = [{"key": "a", "app": "kit", "action": "echo", "config": {"text": "x"}}]
    recipe = make_recipe(workspace, steps, trigger=trigger, name="Every five")
    due = TriggerState.objects.get(recipe=recipe).next_fire_at
    assert tick(due + timedelta(seconds=1)) == 1
    assert Run.objects.get(recipe=recipe).trigger_data["timezone"] == "UTC"


def test_an_empty_timezone_field_gets_the_recipes_zone():
    from hub.engine.run_context import with_recipe_zone
    from integrations import registry

    actions = [
        a
        for slug in registry.available()
        for a in registry.get(slug).actions.values()
        if a.field("timezone")
    ]
    assert actions  # the formatter and the delay at least
    for action in actions:
        assert with_recipe_zone(action, {"input": "09:00"}, SEOUL)["timezone"] == SEOUL
        own = {"input": "09:00", "timezone": "Europe/Paris"}
        assert with_recipe_zone(action, own, SEOUL) == own
    # An action without a time zone field is left alone.
    send = registry.get("slack").action("send_message")
    assert with_recipe_zone(send, {"text": "hi"}, SEOUL) == {"text": "hi"}

"""The Runs page's filters, its keyset pages, live refresh, and the run page that follows a
run while it goes on — and that none of it costs a query per run."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hub.connections.models import Connection
from hub.engine.models import Run
from hub.recipes.models import Recipe
from hub.web import dashboard
from tests.conftest import make_recipe

BASE = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _recipe(workspace, name):
    return make_recipe(
        workspace,
        [{"key": "say", "app": "kit", "action": "echo", "config": {"text": "hi"}}],
        trigger={"app": "webhook", "event": "catch"},
        name=name,
    )


def _runs(recipe, count, status=Run.Status.SUCCEEDED, start=BASE, step=timedelta(minutes=1)):
    Run.objects.bulk_create(
        Run(
            workspace=recipe.workspace,
            recipe=recipe,
            version=recipe.current_version,
            source=Run.Source.WEBHOOK,
            status=status,
            dedupe_key=f"t:{recipe.pk}:{status}:{start.isoformat()}:{i}",
            created_at=start + i * step,
        )
        for i in range(count)
    )


def _shown(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'href="/runs/(\d+)/"', response.content.decode())]


@pytest.fixture(autouse=True)
def _fresh_cache():
    # The dashboard caches the earlier days' counts per workspace id, and ids repeat
    # between tests.
    cache.clear()


@pytest.fixture
def recipes(workspace, kit):
    return _recipe(workspace, "Greeter"), _recipe(workspace, "Digest")


def test_filters_by_recipe_status_and_dates(member_client, recipes):
    greeter, digest = recipes
    _runs(greeter, 3)
    _runs(digest, 2, status=Run.Status.FAILED, start=BASE + timedelta(days=2))
    by_recipe = _shown(member_client.get(f"/runs/?recipe={greeter.pk}"))
    assert len(by_recipe) == 3
    assert set(Run.objects.filter(pk__in=by_recipe).values_list("recipe", flat=True)) == {
        greeter.pk
    }
    failed = _shown(member_client.get("/runs/?status=failed"))
    assert len(failed) == 2
    assert _shown(member_client.get("/runs/?since=2026-11-22&until=2026-11-22")) == failed[:2]
    assert _shown(member_client.get("/runs/?until=2026-11-21")) == by_recipe
    empty = member_client.get(f"/runs/?recipe={digest.pk}&status=succeeded")
    assert b"No run matches these filters." in empty.content


def test_filters_ignore_another_workspaces_recipe(member_client, recipes, other_workspace, kit):
    stranger = _recipe(other_workspace, "Theirs")
    _runs(stranger, 2)
    _runs(recipes[0], 1)
    shown = _shown(member_client.get(f"/runs/?recipe={stranger.pk}"))
    # The unknown recipe is ignored: the member sees their own workspace's runs only.
    assert shown == list(
        Run.objects.filter(workspace=recipes[0].workspace).values_list("pk", flat=True)
    )


def test_keyset_pages_show_every_run_once_in_order(member_client, recipes):
    greeter, _ = recipes
    # Several runs share a creation time, so the cut must use the id too.
    _runs(greeter, 70, step=timedelta(0))
    _runs(greeter, 60, start=BASE + timedelta(hours=1))
    seen, query, pages = [], "", 0
    while True:
        response = member_client.get(f"/runs/?{query}")
        shown = _shown(response)
        seen += shown
        pages += 1
        html = response.content.decode()
        if "Older" not in html:
            break
        query = html.split('href="?', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert pages == 3
    expected = list(Run.objects.order_by("-created_at", "-id").values_list("pk", flat=True))
    assert seen == expected


def test_runs_page_queries_do_not_grow_with_runs(member_client, recipes):
    greeter, digest = recipes
    _runs(greeter, 5)
    member_client.get("/runs/")  # the session's first request does a little more
    with CaptureQueriesContext(connection) as few:
        member_client.get("/runs/")
    _runs(digest, 120, start=BASE + timedelta(days=1))
    with CaptureQueriesContext(connection) as many:
        member_client.get("/runs/")
    assert len(many) == len(few)


def test_the_newest_page_refreshes_itself_and_older_pages_do_not(member_client, recipes):
    _runs(recipes[0], 60)
    first = member_client.get("/runs/?status=succeeded").content.decode()
    assert 'hx-trigger="every 5s"' in first and "status=succeeded&amp;part=table" in first
    older = first.split('href="?', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert 'hx-trigger="every 5s"' not in member_client.get(f"/runs/?{older}").content.decode()
    part = member_client.get("/runs/?status=succeeded&part=table", HTTP_HX_REQUEST="true")
    body = part.content.decode()
    assert body.startswith('<div id="runs-live"') and "<h1>" not in body


def test_a_running_run_page_follows_it_until_it_finishes(member_client, recipes):
    greeter, _ = recipes
    _runs(greeter, 1, status=Run.Status.RUNNING)
    run = Run.objects.get()
    page = member_client.get(f"/runs/{run.pk}/").content.decode()
    assert f'hx-get="/runs/{run.pk}/?part=live"' in page
    Run.objects.filter(pk=run.pk).update(status=Run.Status.SUCCEEDED)
    part = member_client.get(f"/runs/{run.pk}/?part=live", HTTP_HX_REQUEST="true").content.decode()
    assert part.startswith('<div id="run-live"') and "hx-trigger" not in part
    assert "Succeeded" in part


def test_home_dashboard_counts_days_and_lists_what_needs_attention(
    member_client, recipes, workspace, settings
):
    greeter, digest = recipes
    now = datetime.now(UTC)
    _runs(greeter, 4, start=now - timedelta(days=1, minutes=10))
    _runs(digest, 2, status=Run.Status.FAILED, start=now - timedelta(minutes=5))
    Recipe.objects.filter(pk=greeter.pk).update(
        state=Recipe.State.PAUSED, paused_reason="Connection “Acme Slack” needs reconnecting."
    )
    Connection.objects.create(
        workspace=workspace,
        integration="slack",
        label="Acme Slack",
        status=Connection.Status.NEEDS_RECONNECT,
        access_token="x",
        refresh_token="",
    )
    days = dashboard.runs_per_day(workspace, UTC)
    assert len(days) == dashboard.DAYS and sum(d.total for d in days) == 6
    assert days[-1].failed == 2 and days[-2].succeeded == 4
    page = member_client.get("/").content.decode()
    assert "67 %" in page  # 4 of 6 judged runs succeeded
    attention = page.split('id="d-attention"', 1)[1].split("</section>", 1)[0]
    assert "Greeter" in attention and "Paused by the hub" in attention
    assert "Digest" in attention and "Its last run failed" in attention
    assert "Acme Slack" in attention and "Needs reconnecting" in attention
    failed = page.split('id="d-failed"', 1)[1].split("</section>", 1)[0]
    assert len(re.findall(r'href="/runs/\d+/"', failed)) == 2


def test_home_with_nothing_run_yet_says_so(member_client, recipes):
    before = member_client.get("/").content.decode()
    assert "Nothing has run in these days." in before
    _runs(recipes[0], 1, start=datetime.now(UTC))
    # The first run shows at once, though the earlier days' counts are cached.
    assert "Nothing has run in these days." not in member_client.get("/").content.decode()


def test_home_with_nothing_set_up_says_so(member_client):
    page = member_client.get("/").content.decode()
    assert "Nothing has run in these days." in page
    assert "Nothing needs attention" in page


def test_recipe_pages_queries_do_not_grow_with_runs_or_recipes(member_client, recipes, kit):
    greeter, _digest = recipes
    _runs(greeter, 3)
    member_client.get("/recipes/")  # the session's first request does a little more
    with CaptureQueriesContext(connection) as few_list:
        member_client.get("/recipes/")
    with CaptureQueriesContext(connection) as few_page:
        member_client.get(f"/recipes/{greeter.pk}/")
    for n in range(5):
        _runs(_recipe(greeter.workspace, f"More {n}"), 3)
    _runs(greeter, 40, start=BASE + timedelta(days=1))
    with CaptureQueriesContext(connection) as many_list:
        listing = member_client.get("/recipes/").content.decode()
    with CaptureQueriesContext(connection) as many_page:
        page = member_client.get(f"/recipes/{greeter.pk}/")
    assert len(many_list) == len(few_list)
    assert len(many_page) == len(few_page)
    assert listing.count("Succeeded") == 6  # the last run of each recipe that has run
    assert len(_shown(page)) == 10  # the recipe's ten newest runs

"""The editor's interactions read the database a bounded number of times, whatever the
recipe's size: typing into a step, opening the editor, adding a step. (Their speed is
bench/editor.py's; these counts keep the fixes from coming undone.)"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hub.recipes.models import Recipe
from tests.conftest import slack_connection

pytestmark = pytest.mark.django_db

# Session, user, membership, the recipe, the member's connections, the draft's row lock
# and update (in a savepoint), the workspace's connections, the used ones the member may
# use: no more, and no more for a longer recipe. (Before: 14, 12 and 15 for a member; an
# admin's answers also read both banners once per partial, adding a step 21.) The page an
# admin opens shows the banners: two reads more, once.
TYPING = 11
OPENING = {"member": 9, "admin": 11}
ADDING = 12


def slack_recipe(client, steps: int) -> Recipe:
    client.post(reverse("recipe_new"))
    recipe = Recipe.objects.latest("pk")
    for n in range(steps):
        client.post(reverse("editor_add_step", args=[recipe.pk]), {"position": n})
        url = reverse("editor_step", args=[recipe.pk, "step"])
        client.post(url, {"app": "slack"})
        client.post(url, {"app": "slack", "action": "send_message"})
    recipe.refresh_from_db()
    assert len(recipe.draft["steps"]) == steps
    return recipe


def count(call) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = call()
    assert response.status_code == 200, response.status_code
    return len(queries.captured_queries)


def typing(client, recipe) -> int:
    key = recipe.draft["steps"][0]["key"]
    url = reverse("editor_step", args=[recipe.pk, key])
    form = {"app": "slack", "action": "send_message", "config.text": "Hello"}
    return count(lambda: client.post(url, form))


@pytest.mark.parametrize("who", ["member", "admin"])
def test_typing_opening_and_adding_read_the_database_a_bounded_number_of_times(
    client, workspace, fake_slack, member_user, admin_user, who
):
    slack_connection(workspace, fake_slack)
    client.force_login(member_user if who == "member" else admin_user)
    small, large = slack_recipe(client, 1), slack_recipe(client, 4)
    assert typing(client, small) == typing(client, large) <= TYPING
    opening = [
        count(lambda r=r: client.get(reverse("editor", args=[r.pk]))) for r in (small, large)
    ]
    assert opening[0] == opening[1] <= OPENING[who]
    add = reverse("editor_add_step", args=[large.pk])
    assert count(lambda: client.post(add, {"position": 4})) <= ADDING

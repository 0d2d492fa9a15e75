"""A schedule is chosen in plain words, in English and Korean: every few minutes, every hour,
every day, every week on chosen days, or cron, each with a time zone from the zone list."""

from __future__ import annotations

import pytest
from django.urls import reverse

from hub.recipes.models import Recipe

pytestmark = pytest.mark.django_db

KINDS = {
    "en": ("Every few minutes", "Every hour", "Every day", "Every week", "On a cron schedule"),
    "ko": ("몇 분마다", "매시간", "매일", "매주", "cron 일정에 따라"),
}


@pytest.mark.parametrize("language", ["en", "ko"])
def test_every_kind_of_schedule_is_offered_with_a_time_zone(admin_client, workspace, language):
    admin_client.post(reverse("recipe_new"))
    recipe = Recipe.objects.latest("pk")
    url = reverse("editor_trigger", args=[recipe.pk])
    head = {"HTTP_ACCEPT_LANGUAGE": language}
    admin_client.post(url, {"change": "app"}, **head)
    html = admin_client.post(url, {"app": "schedule"}, **head).content.decode()
    for kind in KINDS[language]:
        assert kind in html, kind
    html = admin_client.post(url, {"app": "schedule", "event": "weekly"}, **head).content.decode()
    days = ("Monday", "Sunday") if language == "en" else ("월요일", "일요일")
    assert all(day in html for day in days)
    assert 'name="config.timezone"' in html and 'list="timezones"' in html
    page = admin_client.get(reverse("editor", args=[recipe.pk]), **head).content.decode()
    assert '<option value="Asia/Seoul">' in page

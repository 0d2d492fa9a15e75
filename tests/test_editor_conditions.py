"""The row builder of filter and paths steps: conditions shown as rows (field · operator ·
value, all or any) are read back into exactly the config a recipe file holds, and a card
rendered from a stored config posts that same config back untouched."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from hub.mapping.conditions import OPERATORS
from hub.recipes.models import Recipe
from hub.web import editor_conditions
from integrations import registry

pytestmark = pytest.mark.django_db


class FormValues(HTMLParser):
    """What a browser would post from the card's autosaving form (no button pressed)."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.values: list[tuple[str, str]] = []
        self.select: str | None = None
        self.options: list[tuple[str, bool]] = []
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "search"):
                self.values.append(
                    (a["name"], a.get("value") or ("on" if kind == "checkbox" else ""))
                )
        elif tag == "select" and a.get("name"):
            self.select, self.options = a["name"], []
        elif tag == "option" and self.select:
            self.options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and a.get("name"):
            self.textarea, self.text = a["name"], ""

    def handle_data(self, data):
        if self.textarea:
            self.text += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select:
            chosen = [v for v, on in self.options if on] or [self.options[0][0]]
            self.values.append((self.select, chosen[0]))
            self.select = None
        elif tag == "textarea" and self.textarea:
            self.values.append((self.textarea, self.text))
            self.textarea = None


def form_of(html: str, key: str) -> dict[str, list[str]]:
    parser = FormValues(f"step-{key}-form")
    parser.feed(html)
    out: dict[str, list[str]] = {}
    for name, value in parser.values:
        out.setdefault(name, []).append(value)
    return out


def builtin_step(client, action: str, steps: list[dict] | None = None) -> tuple[Recipe, str]:
    client.post(reverse("recipe_new"))
    recipe = Recipe.objects.latest("pk")
    recipe.draft = {
        **recipe.draft,
        "trigger": {"app": "manual"},
        "steps": [{"key": action, "app": "builtin", "action": action, "config": {}}]
        + (steps or []),
    }
    recipe.save()
    return recipe, action


def save(client, recipe, key, data):
    return client.post(reverse("editor_step", args=[recipe.pk, key]), data)


def config_of(recipe) -> dict:
    recipe.refresh_from_db()
    return recipe.draft["steps"][0]["config"]


def page(client, recipe) -> str:
    return client.get(reverse("editor", args=[recipe.pk])).content.decode()


def test_every_operator_has_plain_words_in_the_editor():
    assert set(editor_conditions.OPERATOR_WORDS) == set(OPERATORS)
    filter_field = registry.get("builtin").actions["filter"].field("conditions")
    assert filter_field.builder == "conditions"


def test_a_new_filter_shows_one_empty_row_and_no_json(admin_client, workspace):
    recipe, _key = builtin_step(admin_client, "filter")
    html = page(admin_client, recipe)
    assert 'name="config.conditions.0.field"' in html
    assert "Add condition" in html and "Edit as text" in html
    assert 'name="config.conditions"' not in html  # no JSON box
    # Operators in plain words, the ones without a value marked so the value hides.
    assert ">is not empty</option>" in html and 'data-needs-value="0"' in html


def test_rows_are_stored_as_the_filter_config_and_render_back_into_the_same_rows(
    admin_client, workspace
):
    recipe, key = builtin_step(admin_client, "filter")
    data = {
        "app": "builtin",
        "action": "filter",
        "builder.config.conditions": "rows",
        "config.conditions.match": "all",
        "rows.config.conditions": "3",
        "config.conditions.0.field": "{{ trigger.subject }}",
        "config.conditions.0.op": "contains",
        "config.conditions.0.value": "invoice",
        "config.conditions.1.field": "{{ trigger.from }}",
        "config.conditions.1.op": "is_not_empty",
        "config.conditions.1.value": "left over from another operator",
        # A blank row says nothing and is not kept.
        "config.conditions.2.field": "",
        "config.conditions.2.op": "equals",
        "config.conditions.2.value": "",
    }
    save(admin_client, recipe, key, data)
    stored = [
        {"field": "{{ trigger.subject }}", "op": "contains", "value": "invoice"},
        {"field": "{{ trigger.from }}", "op": "is_not_empty"},
    ]
    assert config_of(recipe) == {"conditions": stored}
    # rows -> config -> rows: the card posts the same config back, unchanged.
    html = page(admin_client, recipe)
    posted = form_of(html, key)
    assert posted["config.conditions.1.op"] == ["is_not_empty"]
    save(admin_client, recipe, key, posted)
    assert config_of(recipe) == {"conditions": stored}

    # "Any" is the group form of the file format.
    save(admin_client, recipe, key, {**posted, "config.conditions.match": "any"})
    assert config_of(recipe) == {"conditions": {"match": "any", "rows": stored}}


def test_a_stored_config_keeps_its_types_and_form_through_the_rows(admin_client, workspace):
    recipe, key = builtin_step(admin_client, "filter")
    conditions = {
        "match": "all",
        "rows": [
            {"field": "{{ trigger.amount }}", "op": "greater_than", "value": 100},
            {"field": "{{ trigger.team }}", "op": "in_list", "value": ["sales", "ops"]},
            {"field": "{{ trigger.name }}", "op": "equals", "value": "Ada", "case_sensitive": True},
        ],
    }
    recipe.draft["steps"][0]["config"] = {"conditions": conditions}
    recipe.save()
    posted = form_of(page(admin_client, recipe), key)
    assert posted["config.conditions.1.value"] == ["sales, ops"]
    save(admin_client, recipe, key, posted)
    assert config_of(recipe) == {"conditions": conditions}


def test_add_and_remove_conditions_focus_the_row_they_leave(admin_client, workspace):
    recipe, key = builtin_step(admin_client, "filter")
    base = {
        "app": "builtin",
        "action": "filter",
        "builder.config.conditions": "rows",
        "rows.config.conditions": "1",
        "config.conditions.0.field": "{{ trigger.subject }}",
        "config.conditions.0.op": "contains",
        "config.conditions.0.value": "invoice",
    }
    html = save(admin_client, recipe, key, {**base, "add_row": "config.conditions"}).content
    html = html.decode()
    # The card comes back with a second row, and focus lands on its field.
    assert 'id="step-filter-conditions-1-field" name="config.conditions.1.field" value=""' in html
    assert 'name="config.conditions.1.field" value="" placeholder="Insert data, or type" ' in html
    field_tag = html.split('id="step-filter-conditions-1-field"')[1].split(">")[0]
    assert "data-focus" in field_tag
    assert len(config_of(recipe)["conditions"]) == 2

    html = save(
        admin_client, recipe, key, {**base, "remove.config.conditions.0": "1"}
    ).content.decode()
    assert "conditions" not in config_of(recipe)  # nothing left to test: required again
    # The emptied filter offers a blank row again, focused.
    assert "data-focus" in html.split('id="step-filter-conditions-0-field"')[1].split(">")[0]


def test_groups_inside_groups_stay_in_the_text_form_with_a_reason(admin_client, workspace):
    recipe, key = builtin_step(admin_client, "filter")
    nested = {
        "match": "any",
        "rows": [
            {"match": "all", "rows": [{"field": "a", "op": "equals", "value": "1"}]},
            {"field": "b", "op": "is_empty"},
        ],
    }
    recipe.draft["steps"][0]["config"] = {"conditions": nested}
    recipe.save()
    html = page(admin_client, recipe)
    assert "groups inside groups" in html and 'name="config.conditions"' in html
    assert "Use the row builder" not in html
    save(admin_client, recipe, key, form_of(html, key))
    assert config_of(recipe) == {"conditions": nested}


def test_switching_to_the_text_form_and_back(admin_client, workspace):
    recipe, key = builtin_step(admin_client, "filter")
    rows = [{"field": "{{ trigger.subject }}", "op": "contains", "value": "invoice"}]
    recipe.draft["steps"][0]["config"] = {"conditions": rows}
    recipe.save()
    posted = form_of(page(admin_client, recipe), key)
    html = save(
        admin_client, recipe, key, {**posted, "switch.config.conditions": "text"}
    ).content.decode()
    assert 'name="config.conditions"' in html and "Use the row builder" in html
    text = form_of(html, key)
    assert text["builder.config.conditions"] == ["text"]
    # Typed JSON that is not valid keeps the stored rows and says where to look.
    html = save(
        admin_client, recipe, key, {**text, "config.conditions": '[{"field": '}
    ).content.decode()
    assert "This is not valid JSON: look at line 1" in html
    assert config_of(recipe) == {"conditions": rows}
    edited = '[{"field": "{{ trigger.subject }}", "op": "starts_with", "value": "Re:"}]'
    save(admin_client, recipe, key, {**text, "config.conditions": edited})
    assert config_of(recipe)["conditions"][0]["op"] == "starts_with"
    html = save(
        admin_client,
        recipe,
        key,
        {**text, "config.conditions": edited, "switch.config.conditions": "rows"},
    ).content.decode()
    assert 'name="config.conditions.0.value" value="Re:"' in html


PATHS_STEPS = [
    {"key": "page_oncall", "app": "builtin", "action": "delay", "config": {"minutes": 1}},
    {"key": "post_note", "app": "builtin", "action": "delay", "config": {"minutes": 2}},
]


def test_paths_get_a_name_rows_and_their_steps_and_round_trip(admin_client, workspace):
    recipe, key = builtin_step(admin_client, "paths", PATHS_STEPS)
    html = page(admin_client, recipe)
    assert 'name="config.branches.0.name" value="Path 1"' in html
    assert 'name="config.branches.0.conditions.0.field"' in html
    assert "Step 2 · Built-in tools" in html  # the later steps to tick
    data = {
        "app": "builtin",
        "action": "paths",
        "builder.config.branches": "rows",
        "rows.config.branches": "1",
        "config.branches.0.name": "urgent",
        "config.branches.0.conditions.match": "any",
        "rows.config.branches.0.conditions": "1",
        "config.branches.0.conditions.0.field": "{{ trigger.priority }}",
        "config.branches.0.conditions.0.op": "equals",
        "config.branches.0.conditions.0.value": "high",
        "config.branches.0.steps": "page_oncall",
        "add_row": "config.branches",
    }
    html = save(admin_client, recipe, key, data).content.decode()
    assert 'name="config.branches.1.name" value="Path 2"' in html
    assert "data-focus" in html.split('id="step-paths-branches-1-name"')[1].split(">")[0]
    posted = form_of(html, key)
    posted["config.branches.1.name"] = ["otherwise"]
    posted["config.branches.1.steps"] = ["post_note"]
    save(admin_client, recipe, key, posted)
    branches = [
        {
            "name": "urgent",
            "match": "any",
            "conditions": [{"field": "{{ trigger.priority }}", "op": "equals", "value": "high"}],
            "steps": ["page_oncall"],
        },
        {"name": "otherwise", "conditions": [], "steps": ["post_note"]},
    ]
    assert config_of(recipe) == {"branches": branches}
    html = page(admin_client, recipe)
    assert "No conditions: this path is taken" in html
    save(admin_client, recipe, key, form_of(html, key))
    assert config_of(recipe) == {"branches": branches}
    # Removing a path keeps the other one whole.
    save(admin_client, recipe, key, {**form_of(html, key), "remove.config.branches.0": "1"})
    assert config_of(recipe) == {"branches": branches[1:]}


def test_a_paths_file_config_is_kept_as_written(admin_client, workspace):
    """The documented example of builtin.paths goes through the rows unchanged."""
    recipe, key = builtin_step(admin_client, "paths", PATHS_STEPS)
    branches = [
        {
            "name": "urgent",
            "match": "all",
            "conditions": [{"field": "{{ trigger.priority }}", "op": "equals", "value": "high"}],
            "steps": ["page_oncall"],
        },
        {"name": "otherwise", "steps": ["post_note"]},
    ]
    recipe.draft["steps"][0]["config"] = {"branches": branches}
    recipe.save()
    save(admin_client, recipe, key, form_of(page(admin_client, recipe), key))
    stored = config_of(recipe)["branches"]
    assert stored[0] == branches[0]
    # A path without conditions is stored with an empty list, which means the same.
    assert stored[1] == {**branches[1], "conditions": []}


def test_another_workspaces_filter_is_not_found(client, admin_user, outsider):
    client.force_login(admin_user)
    recipe, key = builtin_step(client, "filter")
    client.force_login(outsider)
    data = {"builder.config.conditions": "rows", "rows.config.conditions": "1"}
    data["config.conditions.0.field"] = "x"
    assert save(client, recipe, key, data).status_code == 404
    client.force_login(admin_user)
    assert config_of(recipe) == {}


def test_an_unfinished_row_is_a_located_problem_that_links_to_its_input(admin_client, workspace):
    recipe, _key = builtin_step(admin_client, "filter")
    recipe.draft["steps"][0]["config"] = {
        "conditions": [
            {"field": "{{ trigger.subject }}", "op": "contains", "value": ""},
            {"field": "", "op": "is_empty"},
        ]
    }
    recipe.save()
    html = page(admin_client, recipe)
    assert (
        "Step 1 · Built-in tools · Condition 1: type what to compare with (or test whether it "
        "“is empty”)." in html
    )
    assert 'data-focus-field="step-filter-conditions-0-value"' in html
    assert 'id="step-filter-conditions-0-value"' in html
    assert "Condition 2: choose the value to test." in html
    assert 'data-focus-field="step-filter-conditions-1-field"' in html
    response = admin_client.post(reverse("editor_publish", args=[recipe.pk]))
    assert "Published version" not in response.content.decode()


def test_a_paths_condition_problem_names_its_path(admin_client, workspace):
    recipe, _key = builtin_step(admin_client, "paths", PATHS_STEPS)
    recipe.draft["steps"][0]["config"] = {
        "branches": [
            {
                "name": "urgent",
                "conditions": [{"field": "{{ trigger.priority }}", "op": "equals"}],
                "steps": ["page_oncall"],
            },
            {"name": "otherwise", "steps": ["post_note"]},
        ]
    }
    recipe.save()
    html = page(admin_client, recipe)
    assert "Path “urgent”, condition 1: type what to compare with" in html
    assert 'data-focus-field="step-paths-branches-0-conditions-0-value"' in html
    assert 'id="step-paths-branches-0-conditions-0-value"' in html


def test_the_rows_speak_korean(admin_client, workspace):
    recipe, _key = builtin_step(admin_client, "filter")
    html = admin_client.get(
        reverse("editor", args=[recipe.pk]), HTTP_ACCEPT_LANGUAGE="ko"
    ).content.decode()
    for words in ("검사할 값", "비교할 값", "조건 추가", "텍스트로 편집", "다음이 모두 맞을 때"):
        assert words in html
    assert ">비어 있지 않음</option>" in html and ">참임(예, 체크됨)</option>" in html


def test_a_reference_in_a_row_reads_as_its_label_after_a_reload(admin_client, workspace):
    recipe, _key = builtin_step(
        admin_client,
        "filter",
    )
    recipe.draft["steps"].insert(
        0,
        {"key": "find_emails", "app": "gmail", "action": "find_emails", "config": {}},
    )
    recipe.draft["steps"][1]["config"] = {
        "conditions": [{"field": "{{ " + SUBJECT_REF + " }}", "op": "is_not_empty"}]
    }
    recipe.save()
    html = page(admin_client, recipe)
    # The card carries the readable labels its chips show.
    assert f"&quot;{SUBJECT_REF}&quot;: &quot;Find emails · Emails · first · Subject&quot;" in html


SUBJECT_REF = "steps.find_emails.emails.0.subject"

"""The fake ClickUp's custom fields: a list's fields (``GET /list/{id}/field``), values set on
create (``custom_fields``) or one at a time (``POST /task/{id}/field/{field_id}``), and the
``custom_fields`` filter of the task list endpoints.

Value shapes follow ClickUp's Custom Fields guide: text, URL, email and phone as strings,
numbers as numbers, dates as Unix ms with ``value_options.time``, a dropdown as its option's
id, labels as a list of option ids, a checkbox as a bool, people as ``{"add": [...], "rem":
[...]}``. The error codes (``FIELD_…``) are guesses; see tests/fakes/README.md.
"""

from __future__ import annotations

import copy
import json
import re
import time
import uuid
from typing import Any

from .kit import Reply, Request, Response, route

SUPPORTED = {
    "drop_down",
    "labels",
    "text",
    "short_text",
    "number",
    "currency",
    "date",
    "checkbox",
    "url",
    "email",
    "phone",
    "users",
}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _err(status: int, err: str, ecode: str) -> Reply:
    return Reply(Response(status, {"err": err, "ECODE": ecode}))


class ClickUpCustomFields:
    """Mixed into ``FakeClickUp``; uses its ``lock``, ``lists``, ``tasks``, ``_member``,
    ``_auth``, ``_get``, ``_task`` and ``_body``."""

    def add_custom_field(
        self,
        list_id: str,
        name: str,
        type_: str,
        *,
        options: list[str] | None = None,
        required: bool = False,
    ) -> dict[str, Any]:
        """A custom field on a list (as Get Accessible Custom Fields lists it); dropdown and
        label options get ids and order indexes."""
        if type_ not in SUPPORTED:
            raise ValueError(f"the fake has no {type_} fields")
        config: dict[str, Any] = {}
        if type_ in ("drop_down", "labels"):
            config["options"] = [
                {
                    "id": str(uuid.uuid4()),
                    ("name" if type_ == "drop_down" else "label"): option,
                    "color": "#81B1FF",
                    "orderindex": index,
                }
                for index, option in enumerate(options or [])
            ]
            if type_ == "drop_down":
                config.update({"default": 0, "placeholder": None, "new_drop_down": True})
        field = {
            "id": str(uuid.uuid4()),
            "name": name,
            "type": type_,
            "type_config": config,
            "date_created": str(int(time.time() * 1000)),
            "hide_from_guests": False,
            "required": required,
        }
        with self.lock:
            self.lists[list_id].setdefault("_fields", []).append(field)
        return copy.deepcopy(field)

    def option_id(self, field: dict[str, Any], name: str) -> str:
        for option in field["type_config"]["options"]:
            if name in (option.get("name"), option.get("label")):
                return option["id"]
        raise KeyError(name)

    def field_value(self, task_id: str, field_id: str) -> Any:
        """The stored value of a task's custom field (None when unset), for assertions."""
        for item in self.tasks[task_id]["custom_fields"]:
            if item["id"] == field_id:
                return item.get("value")
        return None

    # ------------------------------------------------------------ routes

    @route("GET", "/api/v2/list/{list_id}/field", name="list.fields")
    def get_list_fields(self, request: Request) -> Response:
        tok = self._auth(request)
        lst = self._get(self.lists, request.params["list_id"], tok)
        with self.lock:
            return Response(200, {"fields": copy.deepcopy(lst.get("_fields", []))})

    @route("POST", "/api/v2/task/{task_id}/field/{field_id}", name="task.field.set")
    def set_field(self, request: Request) -> Response:
        tok = self._auth(request)
        task = self._task(request, tok)
        body = self._body(request)
        if "value" not in body:
            raise _err(400, "Value must be provided", "FIELD_010")
        field = self._field_of(task["list"]["id"], request.params["field_id"])
        with self.lock:
            self._store_value(task, field, body["value"], body.get("value_options"))
            task["date_updated"] = str(int(time.time() * 1000))
        return Response(200, {})

    # ------------------------------------------------------------ used by task create/list

    def _task_fields(self, list_id: str) -> list[dict[str, Any]]:
        """A new task's ``custom_fields``: every field of its list, without values."""
        return [copy.deepcopy(f) for f in self.lists[list_id].get("_fields", [])]

    def _apply_custom_fields(self, task: dict[str, Any], given: Any) -> None:
        if given in (None, []):
            return
        if not isinstance(given, list):
            raise _err(400, "Custom fields must be an array", "FIELD_001")
        for item in given:
            if not isinstance(item, dict) or "id" not in item:
                raise _err(400, "Custom field id must be provided", "FIELD_002")
            field = self._field_of(task["list"]["id"], str(item["id"]))
            self._store_value(task, field, item.get("value"), item.get("value_options"))

    def _field_of(self, list_id: str, field_id: str) -> dict[str, Any]:
        for field in self.lists[list_id].get("_fields", []):
            if field["id"] == field_id:
                return field
        raise _err(400, "Custom field not found on the task's list", "FIELD_003")

    def _store_value(
        self, task: dict[str, Any], field: dict[str, Any], value: Any, options: Any
    ) -> None:
        stored = self._checked(task, field, value)
        item = next((i for i in task["custom_fields"] if i["id"] == field["id"]), None)
        if item is None:
            # A field added to the list after the task was made shows on it too.
            item = copy.deepcopy(field)
            task["custom_fields"].append(item)
        if stored is None:
            item.pop("value", None)
        else:
            item["value"] = stored
        if field["type"] == "date" and isinstance(options, dict):
            item["value_options"] = {"time": bool(options.get("time"))}

    def _checked(self, task: dict[str, Any], field: dict[str, Any], value: Any) -> Any:
        """The value as the task stores it, or ClickUp's 400 for a value of the wrong kind."""
        kind = field["type"]

        def refuse(what: str) -> Reply:
            return _err(400, f"Value is not a valid {what}", "FIELD_033")

        if kind in ("text", "short_text", "phone"):
            if not isinstance(value, str):
                raise refuse("string")
            return value
        if kind == "url":
            if not isinstance(value, str) or not value.startswith(("http://", "https://")):
                raise refuse("url")
            return value
        if kind == "email":
            if not isinstance(value, str) or not EMAIL.match(value):
                raise refuse("email")
            return value
        if kind in ("number", "currency"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise refuse("number")
            return value
        if kind == "date":
            if isinstance(value, bool) or not isinstance(value, int):
                raise refuse("date")
            return str(value)
        if kind == "checkbox":
            if not isinstance(value, bool):
                raise refuse("checkbox value")
            return value
        if kind == "drop_down":
            for option in field["type_config"]["options"]:
                if value == option["id"]:
                    # Tasks show a dropdown's value as the option's order index.
                    return option["orderindex"]
            raise refuse("option")
        if kind == "labels":
            ids = {o["id"] for o in field["type_config"]["options"]}
            if not isinstance(value, list) or not set(map(str, value)) <= ids:
                raise refuse("label")
            return [str(v) for v in value]
        return self._people(task, field, value)

    def _people(self, task: dict[str, Any], field: dict[str, Any], value: Any) -> Any:
        if not isinstance(value, dict):
            raise _err(400, "Value must be an object with add and rem", "FIELD_033")
        current = {}
        for item in task["custom_fields"]:
            if item["id"] == field["id"]:
                current = {str(u["id"]): u for u in item.get("value") or []}
        for uid in value.get("add") or []:
            member = self._member(task["team_id"], uid)
            if member is None:
                raise _err(400, "User not found in the Workspace", "FIELD_034")
            current[str(member["id"])] = member
        for uid in value.get("rem") or []:
            current.pop(str(uid), None)
        return list(current.values()) or None

    def _custom_field_filter(self, request: Request):
        """``custom_fields=[{"field_id", "operator": "=", "value"}]`` (a JSON array in the
        query string) → a predicate on tasks. Only ``=`` is reproduced."""
        raw = request.arg("custom_fields")
        if not raw:
            return lambda task: True
        try:
            rules = json.loads(raw)
            assert isinstance(rules, list)
        except (ValueError, AssertionError):
            raise _err(400, "Custom field filter invalid", "FIELD_040") from None

        def matches(task: dict[str, Any]) -> bool:
            values = {f["id"]: f.get("value") for f in task["custom_fields"]}
            for rule in rules:
                if rule.get("operator", "=") != "=":
                    raise _err(400, "Operator not supported by the fake", "FIELD_041")
                have = values.get(str(rule.get("field_id")))
                if have is None or str(have) != str(rule.get("value")):
                    return False
            return True

        return matches

"""A fake ClickUp: its OAuth code flow and the v2 REST API slice the hub uses.

ClickUp takes the token raw in ``Authorization`` (no "Bearer"), answers errors as
``{"err": ..., "ECODE": ...}`` and signals limits with ``X-RateLimit-*`` headers.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import secrets
import time
import uuid
from typing import Any

from .clickup_fields import ClickUpCustomFields
from .kit import FakeApp, Reply, Request, Response, Token, route, truthy

PAGE = 100
DEFAULT_STATUSES = [
    {"status": "to do", "type": "open", "orderindex": 0, "color": "#d3d3d3"},
    {"status": "in progress", "type": "custom", "orderindex": 1, "color": "#4194f6"},
    {"status": "complete", "type": "closed", "orderindex": 2, "color": "#6bc950"},
]


def _ms() -> int:
    return int(time.time() * 1000)


def _err(status: int, err: str, ecode: str) -> Reply:
    return Reply(Response(status, {"err": err, "ECODE": ecode}))


class FakeClickUp(ClickUpCustomFields, FakeApp):
    name = "clickup"
    display_name = "Toolstack Hub"
    default_client_id = "FAKECLICKUPCLIENTID0000000000000"
    default_client_secret = "FAKECLICKUPCLIENTSECRET000000000000000000000000000000000000000000"
    # The code community clients report for a bad token varies (OAUTH_017 / OAUTH_025).
    invalid_token_ecode = "OAUTH_017"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._ids = itertools.count(90_000_001)
        self.user = {
            "id": 81_234_567,
            "username": "Ada Owner",
            "email": "ada@acme.test",
            "color": "#7b68ee",
            "profilePicture": None,
            "initials": "AO",
            "week_start_day": 0,
            "global_font_support": True,
            "timezone": "Asia/Seoul",
        }
        self.teams: dict[str, dict[str, Any]] = {}
        self.spaces: dict[str, dict[str, Any]] = {}
        self.folders: dict[str, dict[str, Any]] = {}
        self.lists: dict[str, dict[str, Any]] = {}
        self.tasks: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, list[dict[str, Any]]] = {}
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.add_team("Acme")

    # ------------------------------------------------------------ settings and seeding

    @property
    def base_url(self) -> str:
        return f"{self.origin}/api/v2"

    def settings(self) -> dict[str, str]:
        return {
            "CLICKUP_API_URL": self.base_url,
            "CLICKUP_AUTHORIZE_URL": f"{self.origin}/api",
            "CLICKUP_TOKEN_URL": f"{self.base_url}/oauth/token",
            "CLICKUP_CLIENT_ID": self.client_id,
            "CLICKUP_CLIENT_SECRET": self.client_secret,
        }

    def _id(self) -> str:
        return str(next(self._ids))

    def issue_token(self, *, personal: bool = False, teams: list[str] | None = None) -> str:
        """A valid token without the OAuth dance; ``teams`` limits the authorized Workspaces."""
        return self._new_token(personal=personal, teams=teams).value

    def _new_token(
        self, *, personal: bool = False, teams: list[str] | None = None, code: str | None = None
    ) -> Token:
        prefix = "pk_" if personal else ""
        value = f"{prefix}{self.user['id']}_{secrets.token_hex(20)}"
        authorized = list(teams) if teams is not None else list(self.teams)
        return self.add_token(Token(value, data={"teams": authorized, "_code": code}))

    @property
    def team_id(self) -> str:
        return next(iter(self.teams))

    def add_team(self, name: str) -> str:
        tid = str(next(self._ids) + 9_000_000_000)
        with self.lock:
            self.teams[tid] = {
                "id": tid,
                "name": name,
                "color": "#7b68ee",
                "avatar": None,
                "members": [{"user": {**self.user, "role": 1}}],
            }
        return tid

    def add_member(self, email: str, username: str, team_id: str | None = None) -> int:
        """A member of a Workspace, as GET /team lists them (role 3: member)."""
        uid = next(self._ids) % 100_000_000
        initials = "".join(w[0] for w in username.split()[:2]).upper()
        user = {
            "id": uid,
            "username": username,
            "email": email,
            "color": "#40bc86",
            "profilePicture": None,
            "initials": initials,
            "role": 3,
        }
        with self.lock:
            self.teams[team_id or self.team_id]["members"].append({"user": user})
        return uid

    def _member(self, team_id: str, uid: Any) -> dict[str, Any] | None:
        for member in self.teams[team_id]["members"]:
            if str(member["user"]["id"]) == str(uid):
                user = member["user"]
                keys = ("id", "username", "color", "initials", "email", "profilePicture")
                return {k: user.get(k) for k in keys}
        return None

    def add_space(self, name: str, team_id: str | None = None) -> str:
        sid = self._id()
        with self.lock:
            self.spaces[sid] = {
                "id": sid,
                "name": name,
                "private": False,
                "statuses": copy.deepcopy(DEFAULT_STATUSES),
                "multiple_assignees": True,
                "archived": False,
                "_team": team_id or self.team_id,
            }
        return sid

    def add_folder(self, space_id: str, name: str) -> str:
        fid = self._id()
        with self.lock:
            self.folders[fid] = {
                "id": fid,
                "name": name,
                "orderindex": len(self.folders),
                "override_statuses": False,
                "hidden": False,
                "space": {"id": space_id, "name": self.spaces[space_id]["name"]},
                "task_count": "0",
                "archived": False,
            }
        return fid

    def add_list(self, name: str, *, space_id: str, folder_id: str | None = None) -> str:
        lid = self._id()
        folder = (
            {
                "id": folder_id,
                "name": self.folders[folder_id]["name"],
                "hidden": False,
                "access": True,
            }
            if folder_id
            else {"id": f"hidden-{space_id}", "name": "hidden", "hidden": True, "access": True}
        )
        with self.lock:
            self.lists[lid] = {
                "id": lid,
                "name": name,
                "orderindex": len(self.lists),
                "content": "",
                "status": None,
                "priority": None,
                "assignee": None,
                "task_count": 0,
                "due_date": None,
                "start_date": None,
                "folder": folder,
                "space": {"id": space_id, "name": self.spaces[space_id]["name"], "access": True},
                "archived": False,
                "override_statuses": False,
                "permission_level": "create",
                "statuses": copy.deepcopy(self.spaces[space_id]["statuses"]),
            }
        return lid

    def add_task(self, list_id: str, name: str, **fields: Any) -> dict[str, Any]:
        return self._create_task(list_id, {"name": name, **fields})

    def set_statuses(self, list_id: str, names: list[str]) -> None:
        """Give a list its own statuses (``override_statuses``); the last one is closed."""
        statuses = [
            {
                "status": name,
                "type": "closed" if i == len(names) - 1 else ("open" if i == 0 else "custom"),
                "orderindex": i,
                "color": "#87909e",
            }
            for i, name in enumerate(names)
        ]
        with self.lock:
            self.lists[list_id]["statuses"] = statuses
            self.lists[list_id]["override_statuses"] = True

    # ------------------------------------------------------------ webhooks (outgoing)

    def webhook_delivery(
        self,
        webhook_id: str,
        event: str,
        task_id: str,
        history_items: list[dict[str, Any]] | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """A signed delivery as ClickUp would POST it to the webhook's endpoint."""
        hook = self.webhooks[webhook_id]
        payload = {
            "webhook_id": webhook_id,
            "event": event,
            "task_id": task_id,
            "history_items": history_items
            or [
                {
                    "id": self._id(),
                    "type": 1,
                    "date": str(_ms()),
                    "field": "status",
                    "user": dict(self.user),
                }
            ],
        }
        body = json.dumps(payload).encode()
        signature = hmac.new(hook["secret"].encode(), body, hashlib.sha256).hexdigest()
        return body, {"Content-Type": "application/json", "X-Signature": signature}

    # ------------------------------------------------------------ kit hooks

    def token_of(self, request: Request) -> str | None:
        return request.headers.get("authorization") or None

    def not_found(self, request: Request) -> Response:
        return Response(404, {"err": "Route not found", "ECODE": "APP_001"})

    def error_body(self, status: int, request: Request) -> Any:
        return {"err": "Internal server error", "ECODE": "APP_000"}

    def rate_limited(self, request: Request, retry_after: int) -> Response:
        limit = self._limiter[0] if self._limiter else PAGE
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(int(time.time()) + retry_after),
        }
        return Response(429, {"err": "Rate limit reached", "ECODE": "APP_002"}, headers)

    # ------------------------------------------------------------ checks

    def _auth(self, request: Request) -> Token:
        value = self.token_of(request)
        if not value:
            raise _err(400, "Authorization header required", "OAUTH_017")
        tok = self.token(value)
        if tok is None or tok.state != "active":
            raise _err(401, "Token invalid", self.invalid_token_ecode)
        return tok

    @staticmethod
    def _team_ok(tok: Token, team_id: str) -> None:
        if team_id not in tok.data["teams"]:
            raise _err(401, "Team not authorized", "OAUTH_027")

    def _get(self, store: dict[str, dict[str, Any]], key: str, tok: Token) -> dict[str, Any]:
        with self.lock:
            obj = store.get(key)
        if obj is None:
            raise _err(401, "Team not authorized", "OAUTH_027")
        self._team_ok(tok, self._team_of(obj))
        return obj

    def _team_of(self, obj: dict[str, Any]) -> str:
        if "_team" in obj:
            return obj["_team"]
        space = obj.get("space") or {}
        return self.spaces[space["id"]]["_team"]

    @staticmethod
    def _public(obj: dict[str, Any]) -> dict[str, Any]:
        return {k: copy.deepcopy(v) for k, v in obj.items() if not k.startswith("_")}

    def _body(self, request: Request) -> dict[str, Any]:
        if request.body_error is not None:
            raise _err(400, "Invalid JSON", "JSON_001")
        return request.body if isinstance(request.body, dict) else {}

    # ------------------------------------------------------------ OAuth

    @route("GET", "/api", name="oauth.authorize")
    @route("POST", "/api", name="oauth.authorize")
    def oauth_authorize(self, request: Request) -> Response:
        return self.authorize(request)

    @route("POST", "/api/v2/oauth/token", name="oauth.token")
    def oauth_token(self, request: Request) -> Response:
        # ClickUp reads these from the query string, not the body.
        client_id, secret, code = (request.arg(k) for k in ("client_id", "client_secret", "code"))
        if not client_id or not secret or not code:
            raise _err(400, "Client_id, client_secret and code are required", "OAUTH_001")
        if client_id != self.client_id or secret != self.client_secret:
            raise _err(401, "Client not found", "OAUTH_010")
        grant = self.redeem(code, client_id)
        if grant is None:
            raise _err(401, "Oauth code not found or already used", "OAUTH_014")
        return Response(200, {"access_token": self._new_token(code=grant.code).value})

    # ------------------------------------------------------------ identity and hierarchy

    @route("GET", "/api/v2/user", name="user")
    def get_user(self, request: Request) -> Response:
        self._auth(request)
        return Response(200, {"user": dict(self.user)})

    @route("GET", "/api/v2/team", name="team")
    def get_teams(self, request: Request) -> Response:
        tok = self._auth(request)
        with self.lock:
            teams = [copy.deepcopy(t) for tid, t in self.teams.items() if tid in tok.data["teams"]]
        return Response(200, {"teams": teams})

    @route("GET", "/api/v2/team/{team_id}/space", name="team.spaces")
    def get_spaces(self, request: Request) -> Response:
        tok = self._auth(request)
        team_id = request.params["team_id"]
        self._team_ok(tok, team_id)
        archived = truthy(request.arg("archived", "false"))
        with self.lock:
            spaces = [
                self._public(s)
                for s in self.spaces.values()
                if s["_team"] == team_id and s["archived"] == archived
            ]
        return Response(200, {"spaces": spaces})

    @route("GET", "/api/v2/space/{space_id}/folder", name="space.folders")
    def get_folders(self, request: Request) -> Response:
        tok = self._auth(request)
        space = self._get(self.spaces, request.params["space_id"], tok)
        with self.lock:
            folders = []
            for folder in self.folders.values():
                if folder["space"]["id"] == space["id"]:
                    item = self._public(folder)
                    item["lists"] = [
                        self._list_view(lst)
                        for lst in self.lists.values()
                        if lst["folder"]["id"] == folder["id"]
                    ]
                    folders.append(item)
        return Response(200, {"folders": folders})

    def _list_view(self, lst: dict[str, Any]) -> dict[str, Any]:
        view = self._public(lst)
        view["task_count"] = sum(
            1 for t in self.tasks.values() if t["list"]["id"] == lst["id"] and not t["archived"]
        )
        return view

    @route("GET", "/api/v2/folder/{folder_id}/list", name="folder.lists")
    def get_folder_lists(self, request: Request) -> Response:
        tok = self._auth(request)
        folder = self._get(self.folders, request.params["folder_id"], tok)
        with self.lock:
            lists = [
                self._list_view(lst)
                for lst in self.lists.values()
                if lst["folder"]["id"] == folder["id"]
            ]
        return Response(200, {"lists": lists})

    @route("GET", "/api/v2/space/{space_id}/list", name="space.lists")
    def get_folderless_lists(self, request: Request) -> Response:
        tok = self._auth(request)
        space = self._get(self.spaces, request.params["space_id"], tok)
        with self.lock:
            lists = [
                self._list_view(lst)
                for lst in self.lists.values()
                if lst["space"]["id"] == space["id"] and lst["folder"]["hidden"]
            ]
        return Response(200, {"lists": lists})

    @route("GET", "/api/v2/list/{list_id}", name="list.get")
    def get_list(self, request: Request) -> Response:
        tok = self._auth(request)
        lst = self._get(self.lists, request.params["list_id"], tok)
        with self.lock:
            return Response(200, self._list_view(lst))

    # ------------------------------------------------------------ tasks

    def _status(self, lst: dict[str, Any], name: str | None) -> dict[str, Any]:
        statuses = lst["statuses"]
        if name is None:
            return copy.deepcopy(statuses[0])
        for status in statuses:
            if status["status"].lower() == str(name).lower():
                return copy.deepcopy(status)
        raise _err(400, "Status not found", "CRTSK_001")

    def _create_task(self, list_id: str, body: dict[str, Any]) -> dict[str, Any]:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _err(400, "Task name invalid", "INPUT_005")
        lst = self.lists[list_id]
        team_id = self.spaces[lst["space"]["id"]]["_team"]
        assignees = []
        for uid in body.get("assignees") or []:
            member = self._member(team_id, uid)
            if member is None:
                raise _err(400, "Assignee not found", "ITEM_062")
            assignees.append(member)
        tid = format(next(self._ids), "x")[-9:]
        now = str(_ms())
        status = self._status(lst, body.get("status"))
        task = {
            "id": tid,
            "custom_id": None,
            "name": name,
            "text_content": body.get("markdown_description") or body.get("description") or "",
            "description": body.get("markdown_description") or body.get("description") or "",
            "status": status,
            "orderindex": f"{len(self.tasks)}.00000000000000000000000000000000",
            "date_created": now,
            "date_updated": now,
            "date_closed": now if status["type"] == "closed" else None,
            "date_done": now if status["type"] == "closed" else None,
            "archived": False,
            "creator": {
                k: self.user[k] for k in ("id", "username", "color", "email", "profilePicture")
            },
            "assignees": assignees,
            "watchers": [],
            "checklists": [],
            "tags": [
                {"name": t, "tag_fg": "#000000", "tag_bg": "#ffffff"}
                for t in body.get("tags") or []
            ],
            "parent": body.get("parent"),
            "priority": self._priority(body.get("priority")),
            "due_date": str(body["due_date"]) if body.get("due_date") else None,
            "start_date": str(body["start_date"]) if body.get("start_date") else None,
            "_due_date_time": bool(body.get("due_date_time")),
            "_start_date_time": bool(body.get("start_date_time")),
            "points": None,
            "time_estimate": None,
            "custom_fields": self._task_fields(lst["id"]),
            "dependencies": [],
            "linked_tasks": [],
            "team_id": self.spaces[lst["space"]["id"]]["_team"],
            "url": f"https://app.clickup.com/t/{tid}",
            "permission_level": "create",
            "list": {"id": lst["id"], "name": lst["name"], "access": True},
            "project": {
                "id": lst["folder"]["id"],
                "name": lst["folder"]["name"],
                "hidden": lst["folder"]["hidden"],
                "access": True,
            },
            "folder": {
                "id": lst["folder"]["id"],
                "name": lst["folder"]["name"],
                "hidden": lst["folder"]["hidden"],
                "access": True,
            },
            "space": {"id": lst["space"]["id"]},
        }
        self._apply_custom_fields(task, body.get("custom_fields"))
        with self.lock:
            self.tasks[tid] = task
            self.comments[tid] = []
        return self._public(task)

    @staticmethod
    def _priority(value: Any) -> dict[str, Any] | None:
        if value in (None, ""):
            return None
        names = {
            1: ("urgent", "#f50000"),
            2: ("high", "#ffcc00"),
            3: ("normal", "#6fddff"),
            4: ("low", "#d8d8d8"),
        }
        try:
            label, color = names[int(value)]
        except (KeyError, ValueError):
            raise _err(400, "Priority invalid", "INPUT_003") from None
        return {"id": str(value), "priority": label, "color": color, "orderindex": str(value)}

    @route("POST", "/api/v2/list/{list_id}/task", name="task.create")
    def create_task(self, request: Request) -> Response:
        tok = self._auth(request)
        lst = self._get(self.lists, request.params["list_id"], tok)
        return Response(200, self._create_task(lst["id"], self._body(request)))

    @route("GET", "/api/v2/list/{list_id}/task", name="task.list")
    def list_tasks(self, request: Request) -> Response:
        tok = self._auth(request)
        lst = self._get(self.lists, request.params["list_id"], tok)
        return self._task_page(request, lambda t: t["list"]["id"] == lst["id"])

    @route("GET", "/api/v2/team/{team_id}/task", name="team.tasks")
    def team_tasks(self, request: Request) -> Response:
        """Filtered Team Tasks: the list endpoint's filters across a Workspace, narrowed by
        ``list_ids[]`` / ``space_ids[]``."""
        tok = self._auth(request)
        team_id = request.params["team_id"]
        self._team_ok(tok, team_id)
        lists = set(request.args("list_ids[]"))
        spaces = set(request.args("space_ids[]"))
        return self._task_page(
            request,
            lambda t: (
                t["team_id"] == team_id
                and (not lists or t["list"]["id"] in lists)
                and (not spaces or t["space"]["id"] in spaces)
            ),
        )

    def _task_page(self, request: Request, keep: Any) -> Response:
        try:
            page = int(request.arg("page", "0") or 0)
        except ValueError:
            raise _err(400, "Page invalid", "INPUT_002") from None
        archived = truthy(request.arg("archived", "false"))
        include_closed = truthy(request.arg("include_closed", "false"))
        statuses = {s.lower() for s in request.args("statuses[]") + request.args("statuses")}
        assignees = set(request.args("assignees[]") + request.args("assignees"))
        by_field = self._custom_field_filter(request)
        with self.lock:
            tasks = [
                self._public(t)
                for t in self.tasks.values()
                if keep(t) and t["archived"] == archived
            ]
        tasks = [t for t in tasks if by_field(t)]
        if statuses:
            tasks = [t for t in tasks if t["status"]["status"].lower() in statuses]
        elif not include_closed:
            tasks = [t for t in tasks if t["status"]["type"] != "closed"]
        if assignees:
            tasks = [t for t in tasks if {str(a["id"]) for a in t["assignees"]} & assignees]
        for field in ("due_date", "date_created", "date_updated"):
            for op in ("gt", "lt"):
                raw = request.arg(f"{field}_{op}")
                if raw is None:
                    continue
                edge = int(raw)
                tasks = [
                    t
                    for t in tasks
                    if t[field] is not None
                    and (int(t[field]) > edge if op == "gt" else int(t[field]) < edge)
                ]
        order = {
            "created": "date_created",
            "updated": "date_updated",
            "due_date": "due_date",
            "id": "id",
        }.get(request.arg("order_by", "created") or "created", "date_created")
        tasks.sort(
            key=lambda t: (t[order] is None, int(t[order] or 0) if order != "id" else t["id"]),
            reverse=True,
        )
        if truthy(request.arg("reverse", "false")):
            tasks.reverse()
        chunk = tasks[page * PAGE : (page + 1) * PAGE]
        return Response(200, {"tasks": chunk, "last_page": (page + 1) * PAGE >= len(tasks)})

    def _task(self, request: Request, tok: Token) -> dict[str, Any]:
        with self.lock:
            task = self.tasks.get(request.params["task_id"])
        if task is None:
            raise _err(404, "Task not found, deleted", "ITEM_013")
        self._team_ok(tok, task["team_id"])
        return task

    @route("GET", "/api/v2/task/{task_id}", name="task.get")
    def get_task(self, request: Request) -> Response:
        tok = self._auth(request)
        with self.lock:
            return Response(200, self._public(self._task(request, tok)))

    @route("PUT", "/api/v2/task/{task_id}", name="task.update")
    def update_task(self, request: Request) -> Response:
        tok = self._auth(request)
        task = self._task(request, tok)
        body = self._body(request)
        if "name" in body and not str(body["name"] or "").strip():
            raise _err(400, "Task name invalid", "INPUT_005")
        lst = self.lists[task["list"]["id"]]
        assignees = self._assignee_changes(task, body.get("assignees"))
        with self.lock:
            if assignees is not None:
                task["assignees"] = assignees
            if "name" in body:
                task["name"] = body["name"]
            for key in ("description", "markdown_description"):
                if key in body:
                    task["description"] = task["text_content"] = body[key]
            if "status" in body:
                task["status"] = self._status(lst, body["status"])
                closed = task["status"]["type"] == "closed"
                task["date_closed"] = task["date_done"] = str(_ms()) if closed else None
            if "priority" in body:
                task["priority"] = self._priority(body["priority"])
            for key in ("due_date", "start_date"):
                if key in body:
                    task[key] = str(body[key]) if body[key] else None
                if f"{key}_time" in body:
                    task[f"_{key}_time"] = bool(body[f"{key}_time"])
            if "archived" in body:
                task["archived"] = bool(body["archived"])
            task["date_updated"] = str(_ms())
            return Response(200, self._public(task))

    def _assignee_changes(self, task: dict[str, Any], change: Any) -> list[dict] | None:
        """Update Task takes ``assignees: {"add": [ids], "rem": [ids]}``, not a new list."""
        if change is None:
            return None
        if not isinstance(change, dict):
            raise _err(400, "Assignees must be an object with add and rem", "INPUT_007")
        current = {str(a["id"]): a for a in task["assignees"]}
        for uid in change.get("add") or []:
            member = self._member(task["team_id"], uid)
            if member is None:
                raise _err(400, "Assignee not found", "ITEM_062")
            current[str(member["id"])] = member
        for uid in change.get("rem") or []:
            current.pop(str(uid), None)
        return list(current.values())

    @route("DELETE", "/api/v2/task/{task_id}", name="task.delete")
    def delete_task(self, request: Request) -> Response:
        tok = self._auth(request)
        task = self._task(request, tok)
        with self.lock:
            del self.tasks[task["id"]]
        return Response(204, b"")

    @route("POST", "/api/v2/task/{task_id}/comment", name="task.comment.create")
    def create_comment(self, request: Request) -> Response:
        tok = self._auth(request)
        task = self._task(request, tok)
        body = self._body(request)
        text = body.get("comment_text")
        if not isinstance(text, str) or not text:
            raise _err(400, "Comment text invalid", "INPUT_001")
        cid, now = self._id(), str(_ms())
        comment = {
            "id": cid,
            "comment": [{"text": text}],
            "comment_text": text,
            "user": {
                k: self.user[k]
                for k in ("id", "username", "email", "color", "profilePicture", "initials")
            },
            "resolved": False,
            "assignee": {"id": body["assignee"]} if body.get("assignee") else None,
            "assigned_by": None,
            "reactions": [],
            "date": now,
        }
        with self.lock:
            self.comments[task["id"]].append(comment)
        return Response(200, {"id": int(cid), "hist_id": str(uuid.uuid4()), "date": int(now)})

    @route("GET", "/api/v2/task/{task_id}/comment", name="task.comment.list")
    def list_comments(self, request: Request) -> Response:
        tok = self._auth(request)
        task = self._task(request, tok)
        with self.lock:
            comments = list(reversed(copy.deepcopy(self.comments[task["id"]])))
        return Response(200, {"comments": comments})

    # ------------------------------------------------------------ webhooks (registration)

    @route("POST", "/api/v2/team/{team_id}/webhook", name="webhook.create")
    def create_webhook(self, request: Request) -> Response:
        tok = self._auth(request)
        team_id = request.params["team_id"]
        self._team_ok(tok, team_id)
        body = self._body(request)
        endpoint = body.get("endpoint")
        if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")):
            raise _err(400, "Endpoint invalid", "INPUT_006")
        events = body.get("events") or ["*"]
        wid = str(uuid.uuid4())
        hook = {
            "id": wid,
            "userid": self.user["id"],
            "team_id": int(team_id),
            "endpoint": endpoint,
            "client_id": self.client_id,
            "events": events,
            "task_id": body.get("task_id"),
            "list_id": body.get("list_id"),
            "folder_id": body.get("folder_id"),
            "space_id": body.get("space_id"),
            "health": {"status": "active", "fail_count": 0},
            "secret": secrets.token_hex(32).upper(),
        }
        with self.lock:
            self.webhooks[wid] = hook
        return Response(200, {"id": wid, "webhook": dict(hook)})

    @route("GET", "/api/v2/team/{team_id}/webhook", name="webhook.list")
    def list_webhooks(self, request: Request) -> Response:
        tok = self._auth(request)
        team_id = request.params["team_id"]
        self._team_ok(tok, team_id)
        with self.lock:
            hooks = [
                {k: v for k, v in h.items() if k != "secret"}
                for h in self.webhooks.values()
                if str(h["team_id"]) == team_id
            ]
        return Response(200, {"webhooks": hooks})

    @route("DELETE", "/api/v2/webhook/{webhook_id}", name="webhook.delete")
    def delete_webhook(self, request: Request) -> Response:
        self._auth(request)
        with self.lock:
            if self.webhooks.pop(request.params["webhook_id"], None) is None:
                raise _err(404, "Webhook not found", "OAUTH_004")
        return Response(200, {})

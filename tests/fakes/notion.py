"""A fake Notion (API version 2025-09-03: databases hold data sources).

Errors use Notion's envelope ``{object:"error", status, code, message, request_id}`` with the
codes notion-client knows, so they surface as ``APIResponseError`` with the right ``.code``.
The OAuth token endpoint answers with the OAuth shape ``{"error": ...}`` instead.
"""

from __future__ import annotations

import copy
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from .kit import FakeApp, Reply, Request, Response, Token, route
from .notion_values import Invalid, check_value, matches, plain_of, schema_entry

VERSIONS = {"2022-06-28", "2025-09-03", "2026-03-11"}
MAX_TEXT = 2000
MAX_ARRAY = 100
MAX_PAGE_SIZE = 100
STATUS_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "restricted_resource",
    404: "object_not_found",
    409: "conflict_error",
    429: "rate_limited",
    500: "internal_server_error",
    502: "internal_server_error",
    503: "service_unavailable",
    504: "gateway_timeout",
}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _error(status: int, code: str, message: str) -> Reply:
    return Reply(Response(status, _error_body(status, code, message)))


def _error_body(status: int, code: str, message: str) -> dict[str, Any]:
    return {
        "object": "error",
        "status": status,
        "code": code,
        "message": message,
        "request_id": str(uuid.uuid4()),
    }


def _oauth_error(error: str, description: str, status: int = 400) -> Reply:
    body = {"error": error, "error_description": description, "request_id": str(uuid.uuid4())}
    return Reply(Response(status, body))


def _uuid(value: str, name: str = "id") -> str:
    """Notion accepts ids with or without dashes and answers with the dashed form."""
    raw = value.replace("-", "").lower()
    if not re.fullmatch(r"[0-9a-f]{32}", raw):
        raise _error(
            400,
            "validation_error",
            f"path failed validation: path.{name} should be a valid uuid, instead was `{value}`.",
        )
    return str(uuid.UUID(raw))


def rich_text(content: str, link: str | None = None) -> dict[str, Any]:
    return {
        "type": "text",
        "text": {"content": content, "link": {"url": link} if link else None},
        "annotations": {
            "bold": False,
            "italic": False,
            "strikethrough": False,
            "underline": False,
            "code": False,
            "color": "default",
        },
        "plain_text": content,
        "href": link,
    }


def plain(items: list[dict[str, Any]]) -> str:
    return "".join(i.get("plain_text", "") for i in items)


class FakeNotion(FakeApp):
    name = "notion"
    display_name = "Toolstack Hub"
    default_client_id = "1f0d872b-594c-80c1-a3e8-0037fake0001"
    default_client_secret = "secret_fakeNotionClientSecret"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.workspace = {
            "id": str(uuid.uuid4()),
            "name": "Acme HQ",
            "icon": "https://example.invalid/acme.png",
        }
        self.owner_user = {
            "object": "user",
            "id": str(uuid.uuid4()),
            "name": "Ada Owner",
            "avatar_url": None,
            "type": "person",
            "person": {"email": "ada@acme.test"},
        }
        self.bot_id = str(uuid.uuid4())
        self.databases: dict[str, dict[str, Any]] = {}
        self.data_sources: dict[str, dict[str, Any]] = {}
        self.pages: dict[str, dict[str, Any]] = {}
        self.blocks: dict[str, dict[str, Any]] = {}
        self.children: dict[str, list[str]] = {}
        # Pages the user has not shared with the integration: Notion answers 404, as if absent.
        self.unshared: set[str] = set()
        self._seq = 0
        # Workspace members by id, in the order GET /v1/users lists them (the owner first).
        self.users: dict[str, dict[str, Any]] = {self.owner_user["id"]: self.owner_user}
        # Added to the wall clock for page timestamps: tests move time on with advance().
        self.clock_offset = timedelta(0)

    # ------------------------------------------------------------ settings and seeding

    @property
    def base_url(self) -> str:
        return self.origin

    def settings(self) -> dict[str, str]:
        return {
            "NOTION_API_URL": self.origin,
            "NOTION_AUTHORIZE_URL": f"{self.origin}/v1/oauth/authorize",
            "NOTION_TOKEN_URL": f"{self.origin}/v1/oauth/token",
            "NOTION_REVOKE_URL": f"{self.origin}/v1/oauth/revoke",
            "NOTION_CLIENT_ID": self.client_id,
            "NOTION_CLIENT_SECRET": self.client_secret,
        }

    def issue_token(self) -> str:
        """A valid integration token without the OAuth dance."""
        return self._new_access().value

    def _new_access(self, code: str | None = None) -> Token:
        return self.add_token(
            Token(
                self.mint("ntn_", 30),
                client_id=self.client_id,
                data={"bot_id": self.bot_id, "_code": code},
            )
        )

    def _stamp(self) -> str:
        # Distinct, increasing timestamps for blocks and schemas, so their order is testable.
        with self.lock:
            self._seq += 1
            seq = self._seq
        base = self.now().replace(microsecond=0).timestamp() + seq / 1000
        return datetime.fromtimestamp(base, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

    def now(self) -> datetime:
        return datetime.now(UTC) + self.clock_offset

    def advance(self, *, minutes: float = 0, seconds: float = 0) -> None:
        """Move the fake's clock on (page timestamps follow it)."""
        with self.lock:
            self.clock_offset += timedelta(minutes=minutes, seconds=seconds)

    def page_stamp(self) -> str:
        """A page's ``created_time`` / ``last_edited_time``: Notion truncates them to the
        minute, so many pages share one (``2026-06-01T09:14:00.000Z``)."""
        return self.now().strftime("%Y-%m-%dT%H:%M:00.000Z")

    def add_user(self, name: str, email: str | None = None, *, bot: bool = False) -> dict:
        """A workspace member (a person with an email, or a bot) listed by GET /v1/users."""
        uid = str(uuid.uuid4())
        user: dict[str, Any] = {
            "object": "user",
            "id": uid,
            "name": name,
            "avatar_url": None,
            "type": "bot" if bot else "person",
        }
        user.update({"bot": {}} if bot else {"person": {"email": email}})
        with self.lock:
            self.users[uid] = user
        return copy.deepcopy(user)

    def add_database(
        self,
        title: str,
        properties: dict[str, Any] | None = None,
        *,
        parent_page: str | None = None,
    ) -> tuple[str, str]:
        """A database with one data source; ``properties`` maps name → type, or → ``(type,
        options)`` for a select, multi-select or status, ``("relation", data_source_id)``
        for a relation. Returns both ids."""
        properties = properties or {"Name": "title"}
        types = [p if isinstance(p, str) else p[0] for p in properties.values()]
        if "title" not in types:
            properties = {"Name": "title", **properties}
        db_id, ds_id, now = str(uuid.uuid4()), str(uuid.uuid4()), self._stamp()
        parent = (
            {"type": "page_id", "page_id": parent_page}
            if parent_page
            else {"type": "workspace", "workspace": True}
        )
        schema = {pname: schema_entry(pname, spec) for pname, spec in properties.items()}
        with self.lock:
            self.databases[db_id] = {
                "object": "database",
                "id": db_id,
                "title": [rich_text(title)],
                "description": [],
                "parent": parent,
                "is_inline": False,
                "in_trash": False,
                "created_time": now,
                "last_edited_time": now,
                "data_sources": [{"id": ds_id, "name": title}],
                "icon": None,
                "cover": None,
                "url": f"https://www.notion.so/{db_id.replace('-', '')}",
            }
            self.data_sources[ds_id] = {
                "object": "data_source",
                "id": ds_id,
                "title": [rich_text(title)],
                "description": [],
                "parent": {"type": "database_id", "database_id": db_id},
                "database_parent": parent,
                "properties": schema,
                "in_trash": False,
                "created_time": now,
                "last_edited_time": now,
                "icon": None,
                "cover": None,
                "url": f"https://www.notion.so/{ds_id.replace('-', '')}",
            }
        return db_id, ds_id

    def add_data_source(
        self, database_id: str, title: str, properties: dict[str, Any] | None = None
    ) -> str:
        """A further data source of a database (a database may hold several)."""
        properties = properties or {"Name": "title"}
        _, ds_id = self.add_database(title, properties)
        with self.lock:
            extra_db = self.data_sources[ds_id]["parent"]["database_id"]
            del self.databases[extra_db]
            self.data_sources[ds_id]["parent"] = {"type": "database_id", "database_id": database_id}
            self.databases[database_id]["data_sources"].append({"id": ds_id, "name": title})
        return ds_id

    def add_page(
        self,
        parent: str,
        title: str,
        properties: dict[str, Any] | None = None,
        *,
        blocks: list[dict[str, Any]] | None = None,
        shared: bool = True,
    ) -> dict[str, Any]:
        """Seed a page under a data source (``properties`` as the API takes them) or a page
        (``parent=""``: a top-level workspace page). ``blocks`` as append-children takes them
        (any count, nested through ``children``); ``shared=False``: the integration is not
        among the page's connections."""
        if not parent:
            props = {"title": {"title": [{"text": {"content": title}}]}}
            page = self._create_page({"type": "workspace", "workspace": True}, props, [])
            return self._seeded(page, blocks, shared)
        if parent in self.data_sources:
            schema = self.data_sources[parent]["properties"]
            title_name = next(n for n, p in schema.items() if p["type"] == "title")
            props = {title_name: {"title": [{"text": {"content": title}}]}, **(properties or {})}
            parent_obj = {"type": "data_source_id", "data_source_id": parent}
        else:
            props = {"title": {"title": [{"text": {"content": title}}]}}
            parent_obj = {"type": "page_id", "page_id": parent}
        return self._seeded(self._create_page(parent_obj, props, []), blocks, shared)

    def _seeded(
        self, page: dict[str, Any], blocks: list[dict[str, Any]] | None, shared: bool
    ) -> dict[str, Any]:
        self.seed_blocks(page["id"], blocks or [])
        if not shared:
            self.unshared.add(page["id"])
        return page

    def seed_blocks(self, parent: str, blocks: list[dict[str, Any]]) -> None:
        """Append ``blocks`` (nested through ``children``, any count) without the API's
        per-request limits."""
        for start in range(0, len(blocks), MAX_ARRAY):
            batch = [copy.deepcopy(b) for b in blocks[start : start + MAX_ARRAY]]
            nested = [(b.get(b["type"]) or {}).pop("children", None) for b in batch]
            for block, made in zip(nested, self._append(parent, batch, None), strict=True):
                if block:
                    self.seed_blocks(made["id"], block)

    def block_texts(self, parent: str) -> list[tuple[str, str]]:
        """``(type, plain text)`` of a page's or block's direct children, in order."""
        with self.lock:
            found = [self.blocks[b] for b in self.children.get(parent, [])]
        return [(b["type"], plain(b[b["type"]].get("rich_text") or [])) for b in found]

    # ------------------------------------------------------------ kit hooks

    def not_found(self, request: Request) -> Response:
        return Response(400, _error_body(400, "invalid_request_url", "Invalid request URL."))

    def error_body(self, status: int, request: Request) -> Any:
        code = STATUS_CODES.get(status, "internal_server_error")
        return _error_body(status, code, f"Fake {code}.")

    def rate_limited(self, request: Request, retry_after: int) -> Response:
        body = _error_body(
            429, "rate_limited", "You have been rate limited. Please try again in a few minutes."
        )
        return Response(429, body, {"Retry-After": str(retry_after)})

    # ------------------------------------------------------------ request checks

    def _api(self, request: Request) -> Token:
        """Version header, bearer token and JSON body checks every API call goes through."""
        version = request.headers.get("notion-version")
        if not version:
            raise _error(
                400,
                "missing_version",
                "Notion-Version header failed validation: Notion-Version header should be "
                "defined, instead was `undefined`.",
            )
        if version not in VERSIONS:
            raise _error(
                400,
                "validation_error",
                f"Notion-Version header failed validation: `{version}` is not a valid version.",
            )
        tok = self.token(request.bearer)
        if tok is None or tok.kind != "access" or tok.state != "active":
            raise _error(401, "unauthorized", "API token is invalid.")
        if request.body_error is not None:
            raise _error(400, "invalid_json", "Error parsing JSON body.")
        if request.body is not None and not isinstance(request.body, dict):
            raise _error(400, "validation_error", "body failed validation: should be an object.")
        return tok

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        return request.body if isinstance(request.body, dict) else {}

    def _page_size(self, value: Any) -> int:
        if value is None:
            return MAX_PAGE_SIZE
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise _error(
                400, "validation_error", "body failed validation: page_size should be a number."
            )
        if value > MAX_PAGE_SIZE:
            raise _error(
                400,
                "validation_error",
                f"body failed validation: body.page_size should be ≤ `{MAX_PAGE_SIZE}`, "
                f"instead was `{value}`.",
            )
        return value

    def _list(
        self, items: list[dict[str, Any]], cursor: str | None, size: int, kind: str
    ) -> Response:
        start = 0
        if cursor:
            ids = [i["id"] for i in items]
            if cursor not in ids:
                raise _error(
                    400,
                    "validation_error",
                    f"body failed validation: start_cursor provided is invalid: {cursor}",
                )
            start = ids.index(cursor)
        page = items[start : start + size]
        nxt = items[start + size]["id"] if start + size < len(items) else None
        return Response(
            200,
            {
                "object": "list",
                "results": page,
                "next_cursor": nxt,
                "has_more": nxt is not None,
                "type": kind,
                kind: {},
                "request_id": str(uuid.uuid4()),
            },
        )

    # ------------------------------------------------------------ OAuth

    @route("GET", "/v1/oauth/authorize", name="oauth.authorize")
    @route("POST", "/v1/oauth/authorize", name="oauth.authorize")
    def oauth_authorize(self, request: Request) -> Response:
        return self.authorize(request)

    def authorize_error(self, request: Request) -> str | None:
        params = request.merged()
        if params.get("response_type") != "code":
            return "response_type must be `code`."
        if params.get("owner") != "user":
            return "owner must be `user`."
        return None

    def _client(self, request: Request) -> None:
        if request.basic != (self.client_id, self.client_secret):
            raise _oauth_error("invalid_client", "Client authentication failed.", 401)

    @route("POST", "/v1/oauth/token", name="oauth.token")
    def oauth_token(self, request: Request) -> Response:
        self._client(request)
        body = self._body(request)
        grant_type = body.get("grant_type")
        if grant_type == "refresh_token":
            if self.take_refresh_failure():
                raise _oauth_error("invalid_grant", "Invalid refresh token.")
            old = self.use_refresh(body.get("refresh_token"), self.client_id)
            if old is None:
                raise _oauth_error("invalid_grant", "Invalid refresh token.")
            return Response(200, self._token_response(None))
        if grant_type != "authorization_code":
            raise _oauth_error("unsupported_grant_type", "Unsupported grant_type.")
        grant = self.redeem(body.get("code"), self.client_id)
        if grant is None:
            raise _oauth_error("invalid_grant", "Invalid code.")
        redirect_uri = body.get("redirect_uri")
        if grant.redirect_in_authorize and not redirect_uri:
            raise _oauth_error("invalid_request", "redirect_uri is required.")
        if redirect_uri and redirect_uri != grant.redirect_uri:
            raise _oauth_error("invalid_grant", "Invalid redirect_uri.")
        return Response(200, self._token_response(grant.code))

    def _token_response(self, code: str | None) -> dict[str, Any]:
        access = self._new_access(code)
        refresh = self.add_token(
            Token(
                self.mint("nrt_", 30),
                kind="refresh",
                client_id=self.client_id,
                data=dict(access.data),
                pair=access.value,
            )
        )
        access.pair = refresh.value
        return {
            "access_token": access.value,
            "token_type": "bearer",
            "refresh_token": refresh.value,
            "bot_id": self.bot_id,
            "workspace_id": self.workspace["id"],
            "workspace_name": self.workspace["name"],
            "workspace_icon": self.workspace["icon"],
            "owner": {"type": "user", "user": copy.deepcopy(self.owner_user)},
            "duplicated_template_id": None,
            "request_id": str(uuid.uuid4()),
        }

    @route("POST", "/v1/oauth/revoke", name="oauth.revoke")
    def oauth_revoke(self, request: Request) -> Response:
        self._client(request)
        tok = self.token(self._body(request).get("token"))
        if tok is not None:
            self.revoke_token(tok.value)
        return Response(200, {"request_id": str(uuid.uuid4())})

    @route("POST", "/v1/oauth/introspect", name="oauth.introspect")
    def oauth_introspect(self, request: Request) -> Response:
        self._client(request)
        tok = self.token(self._body(request).get("token"))
        active = tok is not None and tok.state == "active"
        body: dict[str, Any] = {"active": active, "request_id": str(uuid.uuid4())}
        if active:
            body.update(scope="read_content update_content insert_content", iat=int(time.time()))
        return Response(200, body)

    # ------------------------------------------------------------ users

    def _bot_user(self) -> dict[str, Any]:
        return {
            "object": "user",
            "id": self.bot_id,
            "name": "Toolstack Hub",
            "avatar_url": None,
            "type": "bot",
            "bot": {
                "owner": {"type": "user", "user": copy.deepcopy(self.owner_user)},
                "workspace_name": self.workspace["name"],
                "workspace_id": self.workspace["id"],
            },
            "request_id": str(uuid.uuid4()),
        }

    @route("GET", "/v1/users/me", name="users.me")
    def users_me(self, request: Request) -> Response:
        self._api(request)
        return Response(200, self._bot_user())

    @route("GET", "/v1/users", name="users.list")
    def users_list(self, request: Request) -> Response:
        """Every member and the bot, ``start_cursor`` / ``page_size`` (≤ 100) paging; no
        search (the real endpoint has none)."""
        self._api(request)
        size = self._page_size(int(request.arg("page_size", "100") or 100))
        with self.lock:
            people = [copy.deepcopy(u) for u in self.users.values()]
        bot = {k: v for k, v in self._bot_user().items() if k != "request_id"}
        return self._list([*people, bot], request.arg("start_cursor"), size, "user")

    @route("GET", "/v1/users/{user_id}", name="users.retrieve")
    def users_retrieve(self, request: Request) -> Response:
        self._api(request)
        uid = _uuid(request.params["user_id"], "user_id")
        with self.lock:
            user = copy.deepcopy(self.users.get(uid))
        if user is None:
            raise _error(404, "object_not_found", f"Could not find user with ID: {uid}.")
        return Response(200, {**user, "request_id": str(uuid.uuid4())})

    # ------------------------------------------------------------ databases and data sources

    def _find(self, store: dict[str, dict[str, Any]], raw_id: str, name: str) -> dict[str, Any]:
        oid = _uuid(raw_id, name)
        with self.lock:
            obj = None if oid in self.unshared else store.get(oid)
        if obj is None:
            kind = name.removesuffix("_id").replace("_", " ")
            raise _error(
                404,
                "object_not_found",
                f"Could not find {kind} with ID: {oid}. Make sure the relevant pages and "
                "databases are shared with your integration.",
            )
        return obj

    @route("GET", "/v1/databases/{database_id}", name="databases.retrieve")
    def databases_retrieve(self, request: Request) -> Response:
        self._api(request)
        db = self._find(self.databases, request.params["database_id"], "database_id")
        return Response(200, {**copy.deepcopy(db), "request_id": str(uuid.uuid4())})

    @route("GET", "/v1/data_sources/{data_source_id}", name="data_sources.retrieve")
    def data_sources_retrieve(self, request: Request) -> Response:
        self._api(request)
        ds = self._find(self.data_sources, request.params["data_source_id"], "data_source_id")
        return Response(200, {**copy.deepcopy(ds), "request_id": str(uuid.uuid4())})

    @route("POST", "/v1/data_sources/{data_source_id}/query", name="data_sources.query")
    def data_sources_query(self, request: Request) -> Response:
        self._api(request)
        ds = self._find(self.data_sources, request.params["data_source_id"], "data_source_id")
        body = self._body(request)
        size = self._page_size(body.get("page_size"))
        want_trash = bool(body.get("in_trash", False))
        with self.lock:
            rows = [
                copy.deepcopy(p)
                for p in self.pages.values()
                if p["parent"].get("data_source_id") == ds["id"] and p["in_trash"] == want_trash
            ]
        if body.get("filter"):
            rows = [p for p in rows if self._match(p, body["filter"], ds)]
        rows = self._sort(rows, body.get("sorts") or [], ds)
        return self._list(rows, body.get("start_cursor"), size, "page")

    def _match(self, page: dict[str, Any], flt: dict[str, Any], ds: dict[str, Any]) -> bool:
        if "and" in flt:
            return all(self._match(page, f, ds) for f in flt["and"])
        if "or" in flt:
            return any(self._match(page, f, ds) for f in flt["or"])
        try:
            if "timestamp" in flt:
                field = flt["timestamp"]
                return matches(page[field], flt.get(field, {}), "date", field)
            name = flt.get("property")
            spec = ds["properties"].get(name) or next(
                (s for s in ds["properties"].values() if s["id"] == name), None
            )
            if spec is None:
                raise _error(
                    400, "validation_error", f"Could not find property with name or id: {name}"
                )
            ptype = spec["type"]
            condition = flt.get(ptype)
            if not isinstance(condition, dict):
                raise _error(
                    400,
                    "validation_error",
                    f"body failed validation: body.filter.{ptype} should be defined for "
                    f"property `{name}` of type `{ptype}`.",
                )
            value = plain_of(page["properties"].get(spec["name"]))
            return matches(value, condition, ptype, spec["name"])
        except Invalid as bad:
            raise _error(400, "validation_error", f"body failed validation: {bad}") from None

    _value = staticmethod(plain_of)

    def _sort(
        self, rows: list[dict[str, Any]], sorts: list[dict[str, Any]], ds: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if not sorts:
            return sorted(rows, key=lambda p: p["created_time"], reverse=True)
        for spec in reversed(sorts):
            reverse = spec.get("direction") == "descending"
            if "timestamp" in spec:
                field = spec["timestamp"]
                rows.sort(key=lambda p, f=field: p[f], reverse=reverse)
                continue
            name = spec.get("property")
            if name not in ds["properties"]:
                raise _error(
                    400, "validation_error", f"Could not find sort property with name or id: {name}"
                )
            rows.sort(
                key=lambda p, n=name: (
                    (v := self._value(p["properties"].get(n))) is None,
                    v if v is not None else "",
                ),
                reverse=reverse,
            )
        return rows

    # ------------------------------------------------------------ search

    @route("POST", "/v1/search", name="search")
    def search(self, request: Request) -> Response:
        self._api(request)
        body = self._body(request)
        size = self._page_size(body.get("page_size"))
        flt = body.get("filter")
        kinds = {"page", "data_source"}
        if flt is not None:
            if flt.get("property") != "object" or flt.get("value") not in kinds:
                raise _error(
                    400,
                    "validation_error",
                    'body failed validation: body.filter.value should be `"page"` or '
                    f'`"data_source"`, instead was `{json_value(flt.get("value"))}`.',
                )
            kinds = {flt["value"]}
        query = str(body.get("query") or "").lower()
        found: list[dict[str, Any]] = []
        with self.lock:
            if "page" in kinds:
                found += [copy.deepcopy(p) for p in self.pages.values() if not p["in_trash"]]
            if "data_source" in kinds:
                found += [copy.deepcopy(d) for d in self.data_sources.values()]
        found = [o for o in found if query in self._title(o).lower()]
        direction = (body.get("sort") or {}).get("direction", "descending")
        found.sort(key=lambda o: o["last_edited_time"], reverse=direction == "descending")
        return self._list(found, body.get("start_cursor"), size, "page_or_data_source")

    @staticmethod
    def _title(obj: dict[str, Any]) -> str:
        if obj["object"] == "data_source":
            return plain(obj["title"])
        for prop in obj["properties"].values():
            if prop["type"] == "title":
                return plain(prop["title"])
        return ""

    # ------------------------------------------------------------ pages

    def _check_text(self, items: Any, where: str) -> list[dict[str, Any]]:
        if not isinstance(items, list):
            raise _error(
                400, "validation_error", f"body failed validation: {where} should be an array."
            )
        if len(items) > MAX_ARRAY:
            raise _error(
                400,
                "validation_error",
                f"body failed validation: {where}.length should be ≤ `{MAX_ARRAY}`, "
                f"instead was `{len(items)}`.",
            )
        out = []
        for i, item in enumerate(items):
            content = (item.get("text") or {}).get("content")
            if not isinstance(content, str):
                raise _error(
                    400,
                    "validation_error",
                    f"body failed validation: {where}[{i}].text.content should be defined.",
                )
            if len(content) > MAX_TEXT:
                raise _error(
                    400,
                    "validation_error",
                    f"body failed validation: {where}[{i}].text.content.length should be ≤ "
                    f"`{MAX_TEXT}`, instead was `{len(content)}`.",
                )
            link = (item.get("text") or {}).get("link")
            out.append(rich_text(content, (link or {}).get("url")))
        return out

    def _properties(
        self, given: dict[str, Any], schema: dict[str, dict[str, Any]]
    ) -> dict[str, dict[str, Any]]:
        """Property values by name or id, checked per type as Notion does."""
        if not isinstance(given, dict):
            raise _error(400, "validation_error", "body failed validation: body.properties.")
        out = {}
        for name, value in given.items():
            spec = schema.get(name) or next((s for s in schema.values() if s["id"] == name), None)
            if spec is None:
                raise _error(400, "validation_error", f"{name} is not a property that exists.")
            ptype = spec["type"]
            if not isinstance(value, dict) or ptype not in value:
                raise _error(
                    400,
                    "validation_error",
                    f"body failed validation: body.properties.{name}.{ptype} should be defined.",
                )
            try:
                with self.lock:
                    raw = check_value(self, spec, value[ptype], self._check_text)
            except Invalid as bad:
                raise _error(400, "validation_error", f"body failed validation: {bad}") from None
            out[spec["name"]] = {"id": spec["id"], "type": ptype, ptype: raw}
        return out

    def _create_page(
        self, parent: dict[str, Any], props: dict[str, Any], children: list[Any]
    ) -> dict[str, Any]:
        if parent.get("type") == "data_source_id" or "data_source_id" in parent:
            ds = self._find(self.data_sources, parent["data_source_id"], "data_source_id")
            schema = ds["properties"]
            parent_obj = {
                "type": "data_source_id",
                "data_source_id": ds["id"],
                "database_id": ds["parent"]["database_id"],
            }
        elif parent.get("type") == "workspace":
            schema = {"title": {"id": "title", "name": "title", "type": "title"}}
            parent_obj = {"type": "workspace", "workspace": True}
        elif parent.get("type") == "page_id" or "page_id" in parent:
            page = self._find(self.pages, parent["page_id"], "page_id")
            schema = {"title": {"id": "title", "name": "title", "type": "title"}}
            parent_obj = {"type": "page_id", "page_id": page["id"]}
        else:
            raise _error(
                400,
                "validation_error",
                "body failed validation: body.parent.data_source_id or body.parent.page_id "
                "should be defined.",
            )
        values = self._properties(props, schema)
        for name, spec in schema.items():
            values.setdefault(
                name,
                {
                    "id": spec["id"],
                    "type": spec["type"],
                    spec["type"]: []
                    if spec["type"] in ("title", "rich_text", "multi_select", "people", "relation")
                    else (False if spec["type"] == "checkbox" else None),
                },
            )
        pid, now = str(uuid.uuid4()), self.page_stamp()
        user = {"object": "user", "id": self.bot_id}
        page = {
            "object": "page",
            "id": pid,
            "created_time": now,
            "last_edited_time": now,
            "created_by": user,
            "last_edited_by": user,
            "cover": None,
            "icon": None,
            "parent": parent_obj,
            "archived": False,
            "in_trash": False,
            "properties": values,
            "url": f"https://www.notion.so/{pid.replace('-', '')}",
            "public_url": None,
        }
        with self.lock:
            self.pages[pid] = page
            self.children[pid] = []
        if children:
            self._append(pid, children, None)
        return copy.deepcopy(page)

    @route("POST", "/v1/pages", name="pages.create")
    def pages_create(self, request: Request) -> Response:
        self._api(request)
        body = self._body(request)
        if not isinstance(body.get("parent"), dict):
            raise _error(
                400,
                "validation_error",
                "body failed validation: body.parent should be defined, instead was `undefined`.",
            )
        page = self._create_page(
            body["parent"], body.get("properties") or {}, body.get("children") or []
        )
        return Response(200, {**page, "request_id": str(uuid.uuid4())})

    @route("GET", "/v1/pages/{page_id}", name="pages.retrieve")
    def pages_retrieve(self, request: Request) -> Response:
        self._api(request)
        page = self._find(self.pages, request.params["page_id"], "page_id")
        return Response(200, {**copy.deepcopy(page), "request_id": str(uuid.uuid4())})

    @route("PATCH", "/v1/pages/{page_id}", name="pages.update")
    def pages_update(self, request: Request) -> Response:
        self._api(request)
        page = self._find(self.pages, request.params["page_id"], "page_id")
        body = self._body(request)
        trash = body.get("in_trash", body.get("archived"))
        if page["in_trash"] and trash is not False and body.get("properties"):
            raise _error(
                400,
                "validation_error",
                "Can't edit block that is archived. You must unarchive the block before editing.",
            )
        if body.get("properties"):
            ds_id = page["parent"].get("data_source_id")
            schema = (
                self.data_sources[ds_id]["properties"]
                if ds_id
                else {"title": {"id": "title", "name": "title", "type": "title"}}
            )
            values = self._properties(body["properties"], schema)
            with self.lock:
                page["properties"].update(values)
        with self.lock:
            if trash is not None:
                page["in_trash"] = page["archived"] = bool(trash)
            page["last_edited_time"] = self.page_stamp()
            answer = copy.deepcopy(page)
        return Response(200, {**answer, "request_id": str(uuid.uuid4())})

    # ------------------------------------------------------------ blocks

    def _append(self, parent_id: str, children: Any, position: dict[str, Any] | None) -> list[dict]:
        if not isinstance(children, list) or not children:
            raise _error(
                400,
                "validation_error",
                "body failed validation: body.children should be a non-empty array.",
            )
        if len(children) > MAX_ARRAY:
            raise _error(
                400,
                "validation_error",
                f"body failed validation: body.children.length should be ≤ `{MAX_ARRAY}`, "
                f"instead was `{len(children)}`.",
            )
        with self.lock:
            under_block = parent_id in self.blocks
        parent_ref = (
            {"type": "block_id", "block_id": parent_id}
            if under_block
            else {"type": "page_id", "page_id": parent_id}
        )
        made: list[dict[str, Any]] = []
        nests: list[Any] = []
        for i, child in enumerate(children):
            btype = child.get("type") or next(
                (k for k in child if k not in ("object", "type")), None
            )
            content = dict(child.get(btype) or {})
            nested = content.pop("children", None) or child.get("children")
            if "rich_text" in content:
                content["rich_text"] = self._check_text(
                    content["rich_text"], f"body.children[{i}].{btype}.rich_text"
                )
            bid, now = str(uuid.uuid4()), self._stamp()
            made.append(
                {
                    "object": "block",
                    "id": bid,
                    "parent": parent_ref,
                    "created_time": now,
                    "last_edited_time": now,
                    "has_children": False,
                    "archived": False,
                    "in_trash": False,
                    "type": btype,
                    btype: content,
                }
            )
            nests.append(nested)
        with self.lock:
            siblings = self.children.setdefault(parent_id, [])
            at = len(siblings)
            position = position or {}
            if position.get("type") == "start":
                at = 0
            elif position.get("type") == "after_block" or "after" in position:
                after = (position.get("after_block") or {}).get("id") or position.get("after")
                after = _uuid(after, "after")
                if after not in siblings:
                    raise _error(404, "object_not_found", f"Could not find block with ID: {after}.")
                at = siblings.index(after) + 1
            for offset, block in enumerate(made):
                self.blocks[block["id"]] = block
                siblings.insert(at + offset, block["id"])
            if under_block:
                self.blocks[parent_id]["has_children"] = True
        for block, nested in zip(made, nests, strict=True):
            if nested:
                self._append(block["id"], nested, None)
                block["has_children"] = True
        return copy.deepcopy(made)

    def _block_parent(self, raw_id: str) -> str:
        bid = _uuid(raw_id, "block_id")
        with self.lock:
            if bid not in self.unshared and (bid in self.pages or bid in self.blocks):
                return bid
        raise _error(
            404,
            "object_not_found",
            f"Could not find block with ID: {bid}. Make sure the relevant pages and databases "
            "are shared with your integration.",
        )

    @route("PATCH", "/v1/blocks/{block_id}/children", name="blocks.children.append")
    def blocks_append(self, request: Request) -> Response:
        self._api(request)
        parent = self._block_parent(request.params["block_id"])
        body = self._body(request)
        position = body.get("position")
        if position is None and body.get("after"):
            position = {"after": body["after"]}
        made = self._append(parent, body.get("children"), position)
        return self._list(made, None, MAX_ARRAY, "block")

    @route("GET", "/v1/blocks/{block_id}/children", name="blocks.children.list")
    def blocks_list(self, request: Request) -> Response:
        self._api(request)
        parent = self._block_parent(request.params["block_id"])
        size = self._page_size(int(request.arg("page_size", "100") or 100))
        with self.lock:
            items = [copy.deepcopy(self.blocks[b]) for b in self.children.get(parent, [])]
        return self._list(items, request.arg("start_cursor"), size, "block")


def json_value(value: Any) -> str:
    return "undefined" if value is None else str(value)

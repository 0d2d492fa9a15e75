"""A fake Slack: OAuth v2 (with optional token rotation and PKCE) and a slice of the Web API.

Web API answers follow Slack: HTTP 200 with ``{"ok": false, "error": ...}`` for almost every
failure, HTTP 429 + ``Retry-After`` + ``ratelimited`` when over the limit.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import os
import time
from typing import Any

from .kit import FakeApp, Reply, Request, Response, Token, paginate, route, truthy

MAX_TEXT = 40_000


def _ok(**fields: Any) -> Response:
    return Response(200, {"ok": True, **fields})


def _err(error: str, status: int = 200, **extra: Any) -> Reply:
    return Reply(Response(status, {"ok": False, "error": error, **extra}))


def _cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        kind, _, value = base64.b64decode(cursor).decode().partition(":")
        if kind != "offset":
            raise ValueError(cursor)
        return int(value)
    except ValueError:
        raise _err("invalid_cursor") from None


class FakeSlack(FakeApp):
    name = "slack"
    display_name = "Toolstack Hub"
    default_client_id = "1111111111.2222222222"
    default_client_secret = "fake-slack-client-secret"

    def __init__(
        self,
        *,
        token_rotation: bool = False,
        expires_in: int = 12 * 3600,
        signing_secret: str = "fake-slack-signing-secret",  # noqa: S107 — a fake's own secret
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.token_rotation = token_rotation
        self.expires_in = expires_in
        self.signing_secret = signing_secret
        self.app_id = "A0FAKEAPP1"
        self.team = {"id": "T0FAKETEAM", "name": "Acme", "domain": "acme"}
        self.bot_user_id = "U0FAKEBOT1"
        self.bot_id = "B0FAKEBOT1"
        self.installer_id = "U0INSTALL1"
        self.channels: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        # Direct-message channels by the other person's user id.
        self.ims: dict[str, dict[str, Any]] = {}
        # Emoji names reactions.add accepts (Slack's standard set is far larger; add custom ones).
        self.emoji: set[str] = {
            "thumbsup",
            "+1",
            "thumbsdown",
            "-1",
            "white_check_mark",
            "eyes",
            "tada",
            "heart",
            "rocket",
            "fire",
            "warning",
            "x",
            "raised_hands",
            "pray",
        }
        self._ids = itertools.count(1)
        self._ts = itertools.count(1)
        self.add_user("installer@acme.test", "Ada Installer", user_id=self.installer_id)
        self.add_user("hubbot@acme.test", "hubbot", user_id=self.bot_user_id, is_bot=True)

    # ------------------------------------------------------------ settings and seeding

    @property
    def base_url(self) -> str:
        return f"{self.origin}/api/"

    def settings(self) -> dict[str, str]:
        return {
            "SLACK_API_URL": self.base_url,
            "SLACK_AUTHORIZE_URL": f"{self.origin}/oauth/v2/authorize",
            "SLACK_TOKEN_URL": f"{self.base_url}oauth.v2.access",
            "SLACK_CLIENT_ID": self.client_id,
            "SLACK_CLIENT_SECRET": self.client_secret,
            "SLACK_SIGNING_SECRET": self.signing_secret,
        }

    def add_channel(
        self,
        name: str,
        *,
        private: bool = False,
        archived: bool = False,
        member: bool = True,
        channel_id: str | None = None,
    ) -> str:
        with self.lock:
            cid = channel_id or f"C{next(self._ids):08d}"
            self.channels[cid] = {
                "id": cid,
                "name": name,
                "is_channel": not private,
                "is_group": private,
                "is_im": False,
                "is_mpim": False,
                "is_private": private,
                "created": int(time.time()),
                "is_archived": archived,
                "is_general": name == "general",
                "name_normalized": name,
                "is_shared": False,
                "is_org_shared": False,
                "is_member": member,
                "creator": self.installer_id,
                "topic": {"value": "", "creator": "", "last_set": 0},
                "purpose": {"value": "", "creator": "", "last_set": 0},
                "num_members": 2 if member else 1,
            }
            self.messages[cid] = []
        return cid

    def add_user(
        self, email: str, real_name: str, *, user_id: str | None = None, is_bot: bool = False
    ) -> str:
        with self.lock:
            uid = user_id or f"U{next(self._ids):08d}"
            handle = email.split("@")[0]
            self.users[uid] = {
                "id": uid,
                "team_id": self.team["id"],
                "name": handle,
                "deleted": False,
                "real_name": real_name,
                "tz": "Asia/Seoul",
                "is_bot": is_bot,
                "is_admin": False,
                "profile": {
                    "real_name": real_name,
                    "display_name": handle,
                    "email": email,
                    "team": self.team["id"],
                },
            }
        return uid

    def add_message(
        self, channel: str, text: str, *, user: str | None = None, ts: str | None = None
    ) -> dict[str, Any]:
        message = {
            "type": "message",
            "user": user or self.installer_id,
            "text": text,
            "ts": ts or self._next_ts(),
            "team": self.team["id"],
        }
        with self.lock:
            self.messages[channel].append(message)
        return message

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    def issue_token(
        self,
        scopes: str | tuple[str, ...] = (
            "chat:write",
            "channels:read",
            "groups:read",
            "channels:history",
            "groups:history",
            "users:read",
            "users:read.email",
            "im:write",
            "reactions:write",
        ),
        *,
        user: bool = False,
        expires_in: int | None = None,
    ) -> str:
        """A valid bot (or user) token without the OAuth dance."""
        if isinstance(scopes, str):
            scopes = tuple(s for s in scopes.split(",") if s)
        return self._new_access(scopes, user=user, expires_in=expires_in).value

    def _new_access(
        self,
        scopes: tuple[str, ...],
        *,
        user: bool,
        expires_in: int | None = None,
        code: str | None = None,
    ) -> Token:
        prefix = "xoxp-" if user else "xoxb-"
        if self.token_rotation:
            prefix = "xoxe." + prefix
        value = self.mint(f"{prefix}{self.team['id'][1:]}-{next(self._ids)}-", 18)
        data = {
            "type": "user" if user else "bot",
            "user_id": self.installer_id if user else self.bot_user_id,
            "_code": code,
        }
        lifetime = expires_in if expires_in is not None else None
        if lifetime is None and self.token_rotation:
            lifetime = self.expires_in
        return self.add_token(
            Token(
                value,
                client_id=self.client_id,
                scopes=scopes,
                expires_at=time.time() + lifetime if lifetime else None,
                data=data,
            )
        )

    def _new_refresh(self, access: Token) -> Token:
        refresh = self.add_token(
            Token(
                self.mint("xoxe-1-", 36),
                kind="refresh",
                client_id=self.client_id,
                scopes=access.scopes,
                data=dict(access.data),
                pair=access.value,
            )
        )
        access.pair = refresh.value
        return refresh

    # ------------------------------------------------------------ Events API helpers

    def sign(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        base = b"v0:" + ts.encode() + b":" + body
        digest = hmac.new(self.signing_secret.encode(), base, hashlib.sha256).hexdigest()
        return {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": f"v0={digest}",
        }

    def event_request(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        timestamp: int | None = None,
        retry_num: int | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """A signed ``event_callback`` delivery as Slack would POST it: (raw body, headers)."""
        now = int(time.time())
        envelope = {
            "token": "legacy-verification-token",
            "team_id": self.team["id"],
            "api_app_id": self.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._ids):08d}",
            "event_time": now,
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team["id"],
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
        }
        body = json.dumps(envelope).encode()
        headers = self.sign(body, timestamp)
        if retry_num:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        return body, headers

    def deliver(
        self,
        url: str,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retries: int = 3,
        timeout: float = 3.0,
    ) -> list[int]:
        """POST a signed event to ``url`` as Slack does: a delivery not answered with a 2xx
        within ``timeout`` seconds is sent again with ``X-Slack-Retry-Num`` (Slack waits about
        a minute, then five, between them; here none). Returns each attempt's status (0: no
        answer in time)."""
        import requests

        event_id = event_id or f"Ev{next(self._ids):08d}"
        statuses: list[int] = []
        for attempt in range(retries + 1):
            body, headers = self.event_request(event, event_id=event_id, retry_num=attempt or None)
            try:
                status = requests.post(url, data=body, headers=headers, timeout=timeout).status_code
            except requests.RequestException:
                status = 0
            statuses.append(status)
            if 200 <= status < 300:
                break
        return statuses

    def socket_mode(self, app_token: str = "xapp-1-A0FAKEAPP1-1-fakeappleveltoken"):  # noqa: S107
        """Turn Socket Mode on: ``apps.connections.open`` with ``app_token`` answers the URL of
        a fake websocket (``tests.fakes.slack_socket.FakeSocketMode``, started here)."""
        from .slack_socket import FakeSocketMode

        self.app_token = app_token
        self.socket = FakeSocketMode().__enter__()
        return self.socket

    def url_verification_request(self, challenge: str) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(
            {
                "token": "legacy-verification-token",
                "challenge": challenge,
                "type": "url_verification",
            }
        ).encode()
        return body, self.sign(body)

    # ------------------------------------------------------------ kit hooks

    def token_of(self, request: Request) -> str | None:
        return request.bearer or request.field("token")

    def not_found(self, request: Request) -> Response:
        method = request.path.rsplit("/", 1)[-1]
        return Response(404, {"ok": False, "error": "unknown_method", "req_method": method})

    def error_body(self, status: int, request: Request) -> Any:
        return {"ok": False, "error": "internal_error" if status >= 500 else "invalid_request"}

    def rate_limited(self, request: Request, retry_after: int) -> Response:
        return Response(
            429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)}
        )

    # ------------------------------------------------------------ auth

    def _auth(self, request: Request, *needed: str) -> Token:
        """The calling token, or the Slack error; ``needed`` are alternatives."""
        value = self.token_of(request)
        if not value:
            raise _err("not_authed")
        tok = self.token(value)
        if tok is None or tok.kind != "access":
            raise _err("invalid_auth")
        state = tok.state
        if state == "revoked":
            raise _err("token_revoked")
        if state == "expired":
            raise _err("token_expired")
        if needed and not any(s in tok.scopes for s in needed):
            raise _err("missing_scope", needed=needed[0], provided=",".join(tok.scopes))
        return tok

    def _params(self, request: Request) -> dict[str, Any]:
        params: dict[str, Any] = {k: v[-1] for k, v in request.query.items()}
        if request.body_error is not None:
            raise _err("invalid_json")
        if isinstance(request.body, dict):
            params.update(request.body)
        return params

    # ------------------------------------------------------------ OAuth

    @route("GET", "/oauth/v2/authorize", name="oauth.authorize")
    @route("POST", "/oauth/v2/authorize", name="oauth.authorize")
    def oauth_authorize(self, request: Request) -> Response:
        return self.authorize(request)

    def authorize_error(self, request: Request) -> str | None:
        params = request.merged()
        if not params.get("scope") and not params.get("user_scope"):
            return "Invalid permissions requested: no scopes were asked for."
        method = params.get("code_challenge_method")
        if params.get("code_challenge") and method not in (None, "S256"):
            return "Invalid code_challenge_method."
        return None

    @route("*", "/api/oauth.v2.access", name="oauth.v2.access")
    def oauth_access(self, request: Request) -> Response:
        params = self._params(request)
        client_id, secret = self.client_credentials(request)
        if client_id != self.client_id:
            raise _err("invalid_client_id")
        if secret != self.client_secret:
            raise _err("bad_client_secret")
        grant_type = params.get("grant_type") or "authorization_code"
        if grant_type == "refresh_token":
            return self._refresh(params)
        if grant_type != "authorization_code":
            raise _err("invalid_grant_type")
        grant = self.redeem(params.get("code"), client_id)
        if grant is None:
            raise _err("invalid_code")
        redirect_uri = params.get("redirect_uri")
        if grant.redirect_in_authorize and redirect_uri != grant.redirect_uri:
            raise _err("bad_redirect_uri")
        if not self.pkce_ok(grant, params.get("code_verifier")):
            raise _err("invalid_code")
        bot_scopes = tuple(s for s in grant.params.get("scope", "").split(",") if s)
        user_scopes = tuple(s for s in grant.params.get("user_scope", "").split(",") if s)
        body: dict[str, Any] = {"app_id": self.app_id, "authed_user": {"id": self.installer_id}}
        if bot_scopes:
            access = self._new_access(bot_scopes, user=False, code=grant.code)
            body.update(
                scope=",".join(bot_scopes),
                token_type="bot",
                access_token=access.value,
                bot_user_id=self.bot_user_id,
            )
            if self.token_rotation:
                body.update(
                    refresh_token=self._new_refresh(access).value, expires_in=self.expires_in
                )
        if user_scopes:
            access = self._new_access(user_scopes, user=True, code=grant.code)
            body["authed_user"].update(
                scope=",".join(user_scopes), access_token=access.value, token_type="user"
            )
            if self.token_rotation:
                body["authed_user"].update(
                    refresh_token=self._new_refresh(access).value, expires_in=self.expires_in
                )
        body.update(
            team={"id": self.team["id"], "name": self.team["name"]},
            enterprise=None,
            is_enterprise_install=False,
        )
        return _ok(**body)

    def _refresh(self, params: dict[str, Any]) -> Response:
        if self.take_refresh_failure():
            raise _err("invalid_refresh_token")
        old = self.use_refresh(params.get("refresh_token"), self.client_id)
        if old is None:
            raise _err("invalid_refresh_token")
        user = old.data.get("type") == "user"
        access = self._new_access(old.scopes, user=user)
        refresh = self._new_refresh(access)
        body: dict[str, Any] = {
            "app_id": self.app_id,
            "access_token": access.value,
            "expires_in": self.expires_in,
            "refresh_token": refresh.value,
            "team": {"id": self.team["id"], "name": self.team["name"]},
            "enterprise": None,
            "token_type": "user" if user else "bot",
            "scope": ",".join(old.scopes),
            "is_enterprise_install": False,
        }
        if user:
            body["user_id"] = self.installer_id
        else:
            body["bot_user_id"] = self.bot_user_id
        return _ok(**body)

    # ------------------------------------------------------------ auth.*

    @route("*", "/api/auth.test", name="auth.test")
    def auth_test(self, request: Request) -> Response:
        tok = self._auth(request)
        user_id = tok.data["user_id"]
        body = {
            "url": f"https://{self.team['domain']}.slack.com/",
            "team": self.team["name"],
            "user": self.users[user_id]["name"],
            "team_id": self.team["id"],
            "user_id": user_id,
        }
        if tok.data.get("type") == "bot":
            body["bot_id"] = self.bot_id
        body["is_enterprise_install"] = False
        return _ok(**body)

    @route("*", "/api/auth.revoke", name="auth.revoke")
    def auth_revoke(self, request: Request) -> Response:
        tok = self._auth(request)
        if truthy(self._params(request).get("test", False)):
            return _ok(revoked=False)
        self.revoke_token(tok.value)
        return _ok(revoked=True)

    # ------------------------------------------------------------ chat.postMessage

    def _channel(self, ref: str | None) -> dict[str, Any]:
        if not ref:
            raise _err("channel_not_found")
        with self.lock:
            if ref in self.channels:
                return self.channels[ref]
            name = ref.lstrip("#")
            for channel in self.channels.values():
                if channel["name"] == name:
                    return channel
            for im in self.ims.values():
                if im["id"] == ref:
                    return im
        raise _err("channel_not_found")

    def _message(self, channel: dict[str, Any], ts: str | None) -> dict[str, Any]:
        with self.lock:
            for message in self.messages[channel["id"]]:
                if message["ts"] == ts:
                    return message
        raise _err("message_not_found")

    def _readable(self, channel: dict[str, Any]) -> None:
        if channel["is_private"] and not channel["is_member"]:
            raise _err("channel_not_found")
        if not channel["is_member"]:
            raise _err("not_in_channel")

    @route("*", "/api/chat.postMessage", name="chat.postMessage")
    def chat_post_message(self, request: Request) -> Response:
        params = self._params(request)
        tok = self._auth(request, "chat:write")
        channel = self._channel(params.get("channel"))
        if channel["is_private"] and not channel["is_member"]:
            raise _err("channel_not_found")
        if channel["is_archived"]:
            raise _err("is_archived")
        if not channel["is_member"] and "chat:write.public" not in tok.scopes:
            raise _err("not_in_channel")
        text = params.get("text") or ""
        blocks = params.get("blocks")
        attachments = params.get("attachments")
        if not text and not blocks and not attachments:
            raise _err("no_text")
        if len(text) > MAX_TEXT:
            raise _err("msg_too_long")
        if isinstance(blocks, str):
            try:
                blocks = json.loads(blocks)
            except ValueError:
                raise _err("invalid_blocks_format") from None
        message: dict[str, Any] = {
            "user": tok.data["user_id"],
            "type": "message",
            "ts": self._next_ts(),
            "text": text,
            "team": self.team["id"],
        }
        if tok.data.get("type") == "bot":
            message.update(bot_id=self.bot_id, app_id=self.app_id)
        if blocks:
            message["blocks"] = blocks
        if params.get("thread_ts"):
            message["thread_ts"] = params["thread_ts"]
        with self.lock:
            self.messages[channel["id"]].append(message)
        return _ok(channel=channel["id"], ts=message["ts"], message=message)

    # ------------------------------------------------------------ conversations.*

    @route("*", "/api/conversations.list", name="conversations.list")
    def conversations_list(self, request: Request) -> Response:
        params = self._params(request)
        types = [t for t in str(params.get("types") or "public_channel").split(",") if t]
        needs = {"public_channel": "channels:read", "private_channel": "groups:read"}
        self._auth(request)
        for kind in types:
            if kind not in ("public_channel", "private_channel", "mpim", "im"):
                raise _err("invalid_types")
            if kind in needs:
                self._auth(request, needs[kind])
        limit = self._limit(params, default=100, most=1000)
        exclude_archived = truthy(params.get("exclude_archived", False))
        with self.lock:
            matching = [
                dict(c)
                for c in self.channels.values()
                if ("private_channel" if c["is_private"] else "public_channel") in types
                and (c["is_member"] or not c["is_private"])
                and not (exclude_archived and c["is_archived"])
            ]
        page, nxt = paginate(matching, _offset(params.get("cursor")), limit)
        return _ok(
            channels=page,
            response_metadata={"next_cursor": _cursor(nxt) if nxt is not None else ""},
        )

    @staticmethod
    def _limit(params: dict[str, Any], *, default: int, most: int) -> int:
        try:
            limit = int(params.get("limit") or default)
        except ValueError:
            raise _err("invalid_limit") from None
        return max(1, min(limit, most))

    @route("*", "/api/conversations.history", name="conversations.history")
    def conversations_history(self, request: Request) -> Response:
        params = self._params(request)
        self._auth(request)
        channel = self._channel(params.get("channel"))
        if channel["is_private"] and not channel["is_member"]:
            raise _err("channel_not_found")
        self._auth(request, "groups:history" if channel["is_private"] else "channels:history")
        if not channel["is_member"]:
            raise _err("not_in_channel")
        limit = self._limit(params, default=100, most=999)
        oldest = float(params.get("oldest") or 0)
        latest = float(params.get("latest") or "inf")
        inclusive = truthy(params.get("inclusive", False))

        def inside(ts: float) -> bool:
            if inclusive:
                return oldest <= ts <= latest
            return oldest < ts < latest

        with self.lock:
            found = [m for m in self.messages[channel["id"]] if inside(float(m["ts"]))]
        found.sort(key=lambda m: float(m["ts"]), reverse=True)
        page, nxt = paginate(found, _offset(params.get("cursor")), limit)
        body: dict[str, Any] = {"messages": page, "has_more": nxt is not None, "pin_count": 0}
        body["response_metadata"] = {"next_cursor": _cursor(nxt) if nxt is not None else ""}
        return _ok(**body)

    # ------------------------------------------------------------ apps.connections.open

    @route("*", "/api/apps.connections.open", name="apps.connections.open")
    def apps_connections_open(self, request: Request) -> Response:
        """Socket Mode's websocket URL, for an app-level token (``xapp-``) only: a bot or user
        token is ``not_allowed_token_type``, an unknown one ``invalid_auth``."""
        token = self.token_of(request) or ""
        if not token:
            raise _err("not_authed")
        if not token.startswith("xapp-"):
            raise _err("not_allowed_token_type")
        if token != getattr(self, "app_token", None):
            raise _err("invalid_auth")
        return _ok(url=self.socket.url(base64.urlsafe_b64encode(os.urandom(12)).decode()))

    # ------------------------------------------------------------ users.*

    @route("*", "/api/users.lookupByEmail", name="users.lookupByEmail")
    def users_lookup_by_email(self, request: Request) -> Response:
        params = self._params(request)
        self._auth(request, "users:read.email")
        email = (params.get("email") or "").lower()
        if not email:
            raise _err("invalid_arguments")
        with self.lock:
            for user in self.users.values():
                if user["profile"]["email"].lower() == email:
                    return _ok(user=user)
        raise _err("users_not_found")

    @route("*", "/api/users.list", name="users.list")
    def users_list(self, request: Request) -> Response:
        params = self._params(request)
        self._auth(request, "users:read")
        with self.lock:
            members = [dict(u) for u in self.users.values()]
        # Slack: no limit (or 0) means every member in one answer, which it discourages.
        limit = self._limit(params, default=len(members) or 1, most=1000)
        if not params.get("limit") or str(params["limit"]) == "0":
            limit = len(members) or 1
        page, nxt = paginate(members, _offset(params.get("cursor")), limit)
        return _ok(
            members=page,
            cache_ts=int(time.time()),
            response_metadata={"next_cursor": _cursor(nxt) if nxt is not None else ""},
        )

    # ------------------------------------------------------------ DMs, reactions, edits

    @route("*", "/api/conversations.info", name="conversations.info")
    def conversations_info(self, request: Request) -> Response:
        params = self._params(request)
        self._auth(request)
        channel = self._channel(params.get("channel"))
        if channel["is_private"] and not channel["is_member"]:
            raise _err("channel_not_found")
        self._auth(request, "groups:read" if channel["is_private"] else "channels:read")
        return _ok(channel=dict(channel))

    @route("*", "/api/conversations.open", name="conversations.open")
    def conversations_open(self, request: Request) -> Response:
        params = self._params(request)
        self._auth(request, "im:write", "mpim:write", "channels:manage", "groups:write")
        if params.get("channel"):
            raise _err("method_not_supported_for_channel_type")
        users = [u for u in str(params.get("users") or "").split(",") if u]
        if not users:
            raise _err("not_enough_users")
        if len(users) > 1:
            # Group DMs (mpim) are not reproduced.
            raise _err("method_not_supported_for_channel_type")
        uid = users[0]
        with self.lock:
            user = self.users.get(uid)
            if user is None:
                raise _err("user_not_found")
            if user["deleted"]:
                raise _err("user_disabled")
            already = uid in self.ims
            if not already:
                did = f"D{next(self._ids):08d}"
                self.ims[uid] = {
                    "id": did,
                    "created": int(time.time()),
                    "is_im": True,
                    "is_org_shared": False,
                    "user": uid,
                    "is_user_deleted": False,
                    "priority": 0,
                    "is_private": True,
                    "is_member": True,
                    "is_archived": False,
                    "name": did,
                }
                self.messages[did] = []
            im = self.ims[uid]
        if truthy(params.get("return_im", False)):
            return _ok(
                channel=dict(im), **({"already_open": True, "no_op": True} if already else {})
            )
        body: dict[str, Any] = {"channel": {"id": im["id"]}}
        if already:
            body.update(no_op=True, already_open=True)
        return _ok(**body)

    @route("*", "/api/reactions.add", name="reactions.add")
    def reactions_add(self, request: Request) -> Response:
        params = self._params(request)
        tok = self._auth(request, "reactions:write")
        name = str(params.get("name") or "")
        if not params.get("channel") or not params.get("timestamp"):
            raise _err("no_item_specified")
        channel = self._channel(params.get("channel"))
        self._readable(channel)
        message = self._message(channel, params.get("timestamp"))
        if not name or name.strip(":") != name or name not in self.emoji:
            raise _err("invalid_name")
        user = tok.data["user_id"]
        with self.lock:
            reactions = message.setdefault("reactions", [])
            reaction = next((r for r in reactions if r["name"] == name), None)
            if reaction is None:
                reaction = {"name": name, "users": [], "count": 0}
                reactions.append(reaction)
            if user in reaction["users"]:
                raise _err("already_reacted")
            reaction["users"].append(user)
            reaction["count"] += 1
        return _ok()

    @route("*", "/api/chat.update", name="chat.update")
    def chat_update(self, request: Request) -> Response:
        params = self._params(request)
        tok = self._auth(request, "chat:write")
        channel = self._channel(params.get("channel"))
        if channel["is_private"] and not channel["is_member"]:
            raise _err("channel_not_found")
        if channel["is_archived"]:
            raise _err("is_archived")
        message = self._message(channel, params.get("ts"))
        if message.get("user") != tok.data["user_id"]:
            raise _err("cant_update_message")
        text = params.get("text")
        if text is None and not params.get("blocks") and not params.get("attachments"):
            raise _err("no_text")
        if text is not None and len(str(text)) > MAX_TEXT:
            raise _err("msg_too_long")
        with self.lock:
            if text is not None:
                message["text"] = str(text)
            message["edited"] = {"user": tok.data["user_id"], "ts": self._next_ts()}
        return _ok(
            channel=channel["id"], ts=message["ts"], text=message["text"], message=dict(message)
        )

"""A fake Google: OAuth 2 (authorize, token, revoke) and a slice of the Gmail REST API.

One server plays accounts.google.com, oauth2.googleapis.com and gmail.googleapis.com; the
settings name each URL separately, as the real ones differ.
"""

from __future__ import annotations

import base64
import copy
import itertools
import re
import shlex
import time
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses
from typing import Any

from .kit import FakeApp, Reply, Request, Response, Token, b64url, b64url_decode, route, truthy

GMAIL = "/gmail/v1/users/{user_id}"
READ = {
    "https://www.googleapis.com/auth/gmail.readonly",
    "https://www.googleapis.com/auth/gmail.modify",
    "https://mail.google.com/",
}
SEND = {
    "https://www.googleapis.com/auth/gmail.send",
    "https://www.googleapis.com/auth/gmail.compose",
    "https://www.googleapis.com/auth/gmail.modify",
    "https://mail.google.com/",
}
MODIFY = {"https://www.googleapis.com/auth/gmail.modify", "https://mail.google.com/"}
COMPOSE = SEND - {"https://www.googleapis.com/auth/gmail.send"}
ADDRESS = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+")
SYSTEM_LABELS = [
    "INBOX", "SENT", "DRAFT", "SPAM", "TRASH", "UNREAD", "STARRED", "IMPORTANT",
    "CATEGORY_PERSONAL", "CATEGORY_SOCIAL", "CATEGORY_PROMOTIONS", "CATEGORY_UPDATES",
    "CATEGORY_FORUMS", "SCHEDULED",
]  # fmt: skip
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
REASONS = {500: "backendError", 503: "backendError", 404: "notFound", 400: "invalidArgument"}


def google_error(status: int, message: str, reason: str, **extra: Any) -> dict[str, Any]:
    detail = {"message": message, "domain": "global", "reason": reason, **extra}
    return {
        "error": {
            "code": status,
            "message": message,
            "errors": [detail],
            "status": STATUS_NAMES.get(status, "UNKNOWN"),
        }
    }


def _fail(status: int, message: str, reason: str, headers: dict | None = None, **extra) -> Reply:
    return Reply(Response(status, google_error(status, message, reason, **extra), headers or {}))


def _oauth_error(error: str, description: str, status: int = 400) -> Reply:
    return Reply(Response(status, {"error": error, "error_description": description}))


class FakeGoogle(FakeApp):
    name = "gmail"
    display_name = "Toolstack Hub"
    default_client_id = "123456789012-fakeclient.apps.googleusercontent.com"
    default_client_secret = "GOCSPX-fakeGoogleClientSecret"
    access_lifetime = 3599

    def __init__(self, *, email: str = "ops@acme.test", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.email = email
        self.messages: dict[str, dict[str, Any]] = {}
        self.user_labels: dict[str, dict[str, Any]] = {}
        self.drafts: dict[str, str] = {}  # draft id -> message id
        self.history: list[dict[str, Any]] = []
        self.history_id = 1000
        self.history_floor = 1000
        self._ids = itertools.count(0x18C0000000000000)
        self._label_ids = itertools.count(1)
        self._granted_offline = False
        self._parse_cache: dict[str, tuple[bytes, Any]] = {}

    # ------------------------------------------------------------ settings and seeding

    @property
    def base_url(self) -> str:
        return f"{self.origin}/gmail/v1"

    def settings(self) -> dict[str, str]:
        return {
            "GOOGLE_AUTHORIZE_URL": f"{self.origin}/o/oauth2/v2/auth",
            "GOOGLE_TOKEN_URL": f"{self.origin}/token",
            "GOOGLE_REVOKE_URL": f"{self.origin}/revoke",
            "GMAIL_API_URL": self.base_url,
            "GOOGLE_CLIENT_ID": self.client_id,
            "GOOGLE_CLIENT_SECRET": self.client_secret,
        }

    def issue_token(self, scopes: tuple[str, ...] = ("https://mail.google.com/",)) -> str:
        """A valid access token without the OAuth dance (it expires like a real one)."""
        return self._new_access(scopes).value

    def _new_access(self, scopes: tuple[str, ...], code: str | None = None) -> Token:
        return self.add_token(
            Token(
                self.mint("ya29.a0", 60),
                client_id=self.client_id,
                scopes=scopes,
                expires_at=time.time() + self.access_lifetime,
                data={"_code": code},
            )
        )

    def add_label(self, name: str) -> str:
        with self.lock:
            label_id = f"Label_{next(self._label_ids)}"
            self.user_labels[label_id] = {
                "id": label_id,
                "name": name,
                "type": "user",
                "messageListVisibility": "show",
                "labelListVisibility": "labelShow",
            }
        return label_id

    def expire_history(self) -> None:
        """Forget history so far: older ``startHistoryId`` values now get 404."""
        with self.lock:
            self.history.clear()
            self.history_floor = self.history_id

    def deliver(
        self,
        from_: str,
        to: str | None = None,
        subject: str = "",
        body: str = "",
        *,
        labels: tuple[str, ...] = ("INBOX", "UNREAD"),
        html: str | None = None,
        date: datetime | None = None,
        thread_id: str | None = None,
        cc: str | None = None,
        headers: dict[str, str] | None = None,
        attachments: tuple[tuple[str, str, bytes], ...] = (),
    ) -> dict[str, Any]:
        """A message arrives in the mailbox; bumps historyId like Gmail does.
        ``attachments``: (file name, MIME type, bytes) each."""
        mail = EmailMessage()
        mail["From"] = from_
        mail["To"] = to or self.email
        mail["Subject"] = subject
        moment = date or datetime.now(UTC)
        mail["Date"] = format_datetime(moment)
        mail["Message-ID"] = f"<{next(self._ids):x}@fake.mail>"
        if cc:
            mail["Cc"] = cc
        for name, value in (headers or {}).items():
            mail[name] = value
        mail.set_content(body)
        if html is not None:
            mail.add_alternative(html, subtype="html")
        for name, mime_type, data in attachments:
            main, _, sub = mime_type.partition("/")
            mail.add_attachment(data, maintype=main, subtype=sub, filename=name)
        return self._store(mail.as_bytes(), list(labels), thread_id, moment)

    def burst(self, count: int, *, subject: str = "Order", **kwargs: Any) -> list[dict]:
        """``count`` messages arriving at once (numbered subjects, oldest first)."""
        return [
            self.deliver("orders@shop.test", subject=f"{subject} {n}", body=f"#{n}", **kwargs)
            for n in range(1, count + 1)
        ]

    def deliver_raw(self, raw: bytes, labels: tuple[str, ...] = ("INBOX", "UNREAD")) -> dict:
        """A message arrives exactly as given (other charsets, odd structures)."""
        return self._store(raw, list(labels), None, datetime.now(UTC))

    def _store(
        self, raw: bytes, labels: list[str], thread_id: str | None, moment: datetime
    ) -> dict[str, Any]:
        with self.lock:
            mid = f"{next(self._ids):x}"
            self.history_id += 1
            message = {
                "id": mid,
                "threadId": thread_id or mid,
                "labelIds": labels,
                "historyId": str(self.history_id),
                "internalDate": str(int(moment.timestamp() * 1000)),
                "raw": raw,
            }
            self.messages[mid] = message
            self.history.append(
                {
                    "id": str(self.history_id),
                    "messages": [{"id": mid, "threadId": message["threadId"]}],
                    "messagesAdded": [
                        {
                            "message": {
                                "id": mid,
                                "threadId": message["threadId"],
                                "labelIds": list(labels),
                            }
                        }
                    ],
                }
            )
        return message

    # ------------------------------------------------------------ kit hooks

    def not_found(self, request: Request) -> Response:
        return Response(404, google_error(404, "Not Found", "notFound"))

    def error_body(self, status: int, request: Request) -> Any:
        return google_error(status, f"Fake error {status}.", REASONS.get(status, "backendError"))

    def rate_limited(self, request: Request, retry_after: int) -> Response:
        body = google_error(429, "Too many concurrent requests for user.", "rateLimitExceeded")
        return Response(429, body, {"Retry-After": str(retry_after)})

    def user_rate_limit(self, route: str = "*", *, times: int = 1) -> None:
        """Gmail's other rate signal: HTTP 403 ``userRateLimitExceeded``."""
        body = google_error(403, "User-rate limit exceeded.", "userRateLimitExceeded")
        self.fail_next(route, status=403, body=body, times=times)

    # ------------------------------------------------------------ OAuth

    @route("GET", "/o/oauth2/v2/auth", name="oauth.authorize")
    @route("POST", "/o/oauth2/v2/auth", name="oauth.authorize")
    def oauth_authorize(self, request: Request) -> Response:
        return self.authorize(request)

    def authorize_error(self, request: Request) -> str | None:
        params = request.merged()
        if params.get("response_type") != "code":
            return "Error 400: invalid_request — response_type must be code."
        if not params.get("scope"):
            return "Error 400: invalid_request — Missing required parameter: scope"
        if not params.get("redirect_uri"):
            return "Error 400: invalid_request — Missing required parameter: redirect_uri"
        if params.get("code_challenge") and params.get("code_challenge_method", "plain") not in (
            "S256",
            "plain",
        ):
            return "Error 400: invalid_request — Invalid code_challenge_method."
        return None

    @route("POST", "/token", name="oauth.token")
    def oauth_token(self, request: Request) -> Response:
        client_id, secret = self.client_credentials(request)
        if client_id != self.client_id:
            raise _oauth_error("invalid_client", "The OAuth client was not found.", 401)
        if secret != self.client_secret:
            raise _oauth_error("invalid_client", "Unauthorized", 401)
        grant_type = request.field("grant_type")
        if grant_type == "refresh_token":
            return self._refresh(request)
        if grant_type != "authorization_code":
            raise _oauth_error("unsupported_grant_type", f"Invalid grant_type: {grant_type}")
        grant = self.redeem(request.field("code"), client_id)
        if grant is None:
            raise _oauth_error("invalid_grant", "Bad Request")
        if request.field("redirect_uri") != grant.redirect_uri:
            raise _oauth_error("redirect_uri_mismatch", "Bad Request")
        verifier = request.field("code_verifier")
        if grant.params.get("code_challenge") and not verifier:
            raise _oauth_error("invalid_grant", "Missing code verifier.")
        if not self.pkce_ok(grant, verifier):
            raise _oauth_error("invalid_grant", "Invalid code verifier.")
        scopes = tuple(grant.params.get("scope", "").split())
        access = self._new_access(scopes, grant.code)
        body: dict[str, Any] = {
            "access_token": access.value,
            "expires_in": self.access_lifetime,
            "scope": " ".join(scopes),
            "token_type": "Bearer",
        }
        offline = grant.params.get("access_type") == "offline"
        with self.lock:
            # Google hands out a refresh token on first offline consent, and again only
            # when the app forces the consent screen.
            give_refresh = offline and (
                not self._granted_offline or "consent" in grant.params.get("prompt", "").split()
            )
            if give_refresh:
                self._granted_offline = True
        if give_refresh:
            refresh = self.add_token(
                Token(
                    self.mint("1//0g", 70),
                    kind="refresh",
                    client_id=self.client_id,
                    scopes=scopes,
                    data={"_code": grant.code},
                    pair=access.value,
                )
            )
            access.pair = refresh.value
            body["refresh_token"] = refresh.value
        return Response(200, body)

    def _refresh(self, request: Request) -> Response:
        tok = self.token(request.field("refresh_token"))
        if (
            self.take_refresh_failure()
            or tok is None
            or tok.kind != "refresh"
            or tok.state != "active"
            or tok.client_id != self.client_id
        ):
            raise _oauth_error("invalid_grant", "Token has been expired or revoked.")
        access = self._new_access(tok.scopes)
        access.pair = tok.value
        return Response(
            200,
            {
                "access_token": access.value,
                "expires_in": self.access_lifetime,
                "scope": " ".join(tok.scopes),
                "token_type": "Bearer",
            },
        )

    @route("POST", "/revoke", name="oauth.revoke")
    def oauth_revoke(self, request: Request) -> Response:
        value = request.field("token")
        tok = self.token(value)
        if tok is None or tok.state != "active":
            raise _oauth_error("invalid_token", "Token expired or revoked")
        with self.lock:
            # Revoking either token ends the whole grant.
            tok.status = "revoked"
            for other in self.tokens.values():
                if other.pair == tok.value or tok.pair == other.value:
                    other.status = "revoked"
                    for third in self.tokens.values():
                        if third.pair == other.value:
                            third.status = "revoked"
        return Response(200, {})

    # ------------------------------------------------------------ Gmail: checks

    def _api(self, request: Request, scopes: set[str]) -> Token:
        user = request.params.get("user_id")
        if not request.bearer:
            raise _fail(
                401,
                "Request is missing required authentication credential. Expected OAuth 2 "
                "access token, login cookie or other valid authentication credential.",
                "required",
                {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
                location="Authorization",
                locationType="header",
            )
        tok = self.token(request.bearer)
        if tok is None or tok.kind != "access" or tok.state != "active":
            raise _fail(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access "
                "token, login cookie or other valid authentication credential.",
                "authError",
                {
                    "WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", '
                    'error="invalid_token"'
                },
                location="Authorization",
                locationType="header",
            )
        if not scopes & set(tok.scopes):
            raise _fail(
                403, "Request had insufficient authentication scopes.", "insufficientPermissions"
            )
        if user not in ("me", self.email):
            raise _fail(403, f"Delegation denied for {self.email}", "forbidden")
        if request.body_error is not None:
            raise _fail(400, f"Invalid JSON payload received. {request.body_error}", "parseError")
        return tok

    def _message(self, raw_id: str) -> dict[str, Any]:
        if not re.fullmatch(r"[0-9a-fA-F]{1,32}", raw_id):
            raise _fail(400, "Invalid id value", "invalidArgument")
        with self.lock:
            message = self.messages.get(raw_id.lower())
        if message is None:
            raise _fail(404, "Requested entity was not found.", "notFound")
        return message

    def _labels(self) -> set[str]:
        return set(SYSTEM_LABELS) | set(self.user_labels)

    @staticmethod
    def _max(value: str | None, default: int, most: int) -> int:
        try:
            n = int(value) if value else default
        except ValueError:
            raise _fail(400, f"Invalid value '{value}'", "invalid") from None
        return max(1, min(n, most))

    @staticmethod
    def _page_start(token: str | None) -> int:
        if not token:
            return 0
        try:
            return int(base64.urlsafe_b64decode(token.encode()).decode())
        except ValueError:
            raise _fail(400, "Invalid pageToken", "invalidArgument") from None

    @staticmethod
    def _page_token(offset: int) -> str:
        return base64.urlsafe_b64encode(str(offset).encode()).decode()

    # ------------------------------------------------------------ Gmail: endpoints

    @route("GET", GMAIL + "/profile", name="users.getProfile")
    def profile(self, request: Request) -> Response:
        self._api(request, READ | SEND)
        with self.lock:
            threads = {m["threadId"] for m in self.messages.values()}
            return Response(
                200,
                {
                    "emailAddress": self.email,
                    "messagesTotal": len(self.messages),
                    "threadsTotal": len(threads),
                    "historyId": str(self.history_id),
                },
            )

    @route("GET", GMAIL + "/labels", name="labels.list")
    def labels_list(self, request: Request) -> Response:
        self._api(request, READ)
        system = [{"id": name, "name": name, "type": "system"} for name in SYSTEM_LABELS]
        with self.lock:
            users = [dict(label) for label in self.user_labels.values()]
        return Response(200, {"labels": system + users})

    @route("GET", GMAIL + "/messages", name="messages.list")
    def messages_list(self, request: Request) -> Response:
        self._api(request, READ)
        size = self._max(request.arg("maxResults"), 100, 500)
        include_spam = truthy(request.arg("includeSpamTrash", "false"))
        wanted = request.args("labelIds")
        query = request.arg("q", "") or ""
        with self.lock:
            found = list(self.messages.values())
        if not include_spam:
            found = [m for m in found if not {"SPAM", "TRASH"} & set(m["labelIds"])]
        found = [m for m in found if all(label in m["labelIds"] for label in wanted)]
        if query:
            matches = self._query(query)
            found = [m for m in found if matches(m)]
        # Newest first; mail delivered within one millisecond comes newest first too (Gmail's
        # ids grow with time: the fake's are fixed-width hex, so they compare as strings).
        found.sort(key=lambda m: (int(m["internalDate"]), m["id"]), reverse=True)
        start = self._page_start(request.arg("pageToken"))
        page = found[start : start + size]
        body: dict[str, Any] = {}
        if page:
            body["messages"] = [{"id": m["id"], "threadId": m["threadId"]} for m in page]
        if start + size < len(found):
            body["nextPageToken"] = self._page_token(start + size)
        body["resultSizeEstimate"] = len(found)
        return Response(200, body)

    def _query(self, query: str):
        """Gmail's search operators that the hub's triggers rely on: terms side by side are
        AND, ``-term`` is NOT, ``( … )`` groups, ``{ … }`` and ``OR`` are OR."""
        tokens = re.findall(r'-?[^\s{}()"]*"[^"]*"|[{}()]|-?[^\s{}()]+', query)
        position = 0

        def parse(closing: str | None) -> Any:
            nonlocal position
            groups: list[list[Any]] = [[]]  # OR of ANDs
            any_of = closing == "}"
            while position < len(tokens):
                token = tokens[position]
                position += 1
                if token == closing:
                    break
                if token in "({" and len(token) == 1:
                    sub = parse(")" if token == "(" else "}")
                    groups[-1].append(sub)
                elif token == "OR":
                    groups.append([])
                else:
                    negate = token.startswith("-") and len(token) > 1
                    word = token[1:] if negate else token
                    term = self._parse_query(word)[0]

                    def hit(m, term=term, negate=negate):
                        return self._hit(m, term) != negate

                    if any_of:
                        groups.append([hit])
                    else:
                        groups[-1].append(hit)
            groups = [g for g in groups if g]
            return lambda m: any(all(f(m) for f in g) for g in groups) if groups else True

        return parse(None)

    @staticmethod
    def _parse_query(query: str) -> list[tuple[str, str]]:
        try:
            words = shlex.split(query)
        except ValueError:
            words = query.split()
        terms = []
        for word in words:
            key, sep, value = word.partition(":")
            terms.append((key.lower(), value) if sep else ("", word))
        return terms

    def _facts(self, message: dict[str, Any]) -> dict[str, str]:
        """What searches look at in a message, lower-cased, parsed once per raw message
        (a search tests many terms over every message; header parsing is slow)."""
        raw = message["raw"]
        cached = self._parse_cache.get(message["id"])
        if cached is None or cached[0] is not raw:
            mail = message_from_bytes(raw, policy=policy.default)
            facts = {k: str(mail.get(k, "")).lower() for k in ("from", "to", "cc", "subject")}
            facts["message-id"] = str(mail.get("Message-ID", "")).strip().strip("<>").lower()
            facts["text"] = f"{facts['subject']} {facts['from']} {self._text(mail).lower()}"
            cached = (raw, facts)
            self._parse_cache[message["id"]] = cached
        return cached[1]

    def _hit(self, message: dict[str, Any], term: tuple[str, str]) -> bool:
        key, value = term
        facts = self._facts(message)
        low = value.lower()
        labels = set(message["labelIds"])
        label_names = {lbl["name"].lower(): lid for lid, lbl in self.user_labels.items()}
        if key == "is":
            if low == "read":
                return "UNREAD" not in labels
            return low.upper() in labels
        if key == "in":
            return low.upper() in labels
        if key == "category":
            return f"CATEGORY_{low.upper()}" in labels
        if key == "rfc822msgid":
            return facts["message-id"] == low.strip("<>")
        if key == "label":
            lid = label_names.get(low.replace("-", " "), label_names.get(low, value.upper()))
            return lid in labels
        if key in ("from", "to", "cc", "subject"):
            return low in facts[key]
        if key in ("after", "before", "newer_than", "older_than"):
            return self._date_hit(key, value, int(message["internalDate"]) / 1000)
        return low in facts["text"]

    @staticmethod
    def _date_hit(key: str, value: str, when: float) -> bool:
        if key in ("newer_than", "older_than"):
            unit = {"d": 86400, "m": 30 * 86400, "y": 365 * 86400}.get(value[-1:], 86400)
            edge = time.time() - int(value[:-1] or 0) * unit
            return when > edge if key == "newer_than" else when < edge
        if value.isdigit():
            edge = float(value)
        else:
            edge = (
                datetime.strptime(value.replace("-", "/"), "%Y/%m/%d")
                .replace(tzinfo=UTC)
                .timestamp()
            )
        return when >= edge if key == "after" else when < edge

    @staticmethod
    def _text(mail: Any) -> str:
        part = mail.get_body(preferencelist=("plain", "html"))
        return part.get_content() if part is not None else ""

    @route("GET", GMAIL + "/messages/{message_id}", name="messages.get")
    def messages_get(self, request: Request) -> Response:
        self._api(request, READ)
        message = self._message(request.params["message_id"])
        fmt = request.arg("format", "full")
        if fmt not in ("minimal", "full", "raw", "metadata"):
            raise _fail(400, f"Invalid value at 'format' ({fmt})", "invalidArgument")
        return Response(200, self.render(message, fmt, request.args("metadataHeaders")))

    def render(self, message: dict[str, Any], fmt: str, only: list[str] | None = None) -> dict:
        mail = message_from_bytes(message["raw"], policy=policy.default)
        out = {
            "id": message["id"],
            "threadId": message["threadId"],
            "labelIds": list(message["labelIds"]),
            "snippet": " ".join(self._text(mail).split())[:200],
            "sizeEstimate": len(message["raw"]),
            "historyId": message["historyId"],
            "internalDate": message["internalDate"],
        }
        if fmt == "raw":
            out["raw"] = b64url(message["raw"])
        elif fmt == "metadata":
            wanted = {h.lower() for h in only or []}
            headers = [
                {"name": k, "value": str(v)}
                for k, v in mail.items()
                if not wanted or k.lower() in wanted
            ]
            out["payload"] = {"mimeType": mail.get_content_type(), "headers": headers}
        elif fmt == "full":
            out["payload"] = self._part(mail, "")
        return out

    def _part(self, part: Any, part_id: str) -> dict[str, Any]:
        node: dict[str, Any] = {
            "partId": part_id,
            "mimeType": part.get_content_type(),
            "filename": part.get_filename() or "",
            "headers": [{"name": k, "value": str(v)} for k, v in part.items()],
        }
        if part.is_multipart():
            node["body"] = {"size": 0}
            node["parts"] = [
                self._part(child, f"{part_id}.{i}" if part_id else str(i))
                for i, child in enumerate(part.iter_parts())
            ]
        else:
            data = part.get_payload(decode=True) or b""
            if node["filename"]:  # attachment bytes come only from messages.attachments.get
                node["body"] = {
                    "attachmentId": f"ANGjdJ{part_id.replace('.', '_')}x",
                    "size": len(data),
                }
            else:
                node["body"] = {"size": len(data), "data": b64url(data)}
        return node

    def _incoming(self, body: dict[str, Any], *, sending: bool) -> tuple[Any, str | None]:
        """The ``raw`` message parsed as Gmail would, and the thread it joins."""
        raw = body.get("raw")
        if not raw:
            raise _fail(
                400,
                "'raw' RFC822 payload message string or uploading message via /upload/* URL "
                "required",
                "invalidArgument",
            )
        try:
            data = b64url_decode(raw)
        except ValueError:
            raise _fail(400, "Invalid value for ByteString", "invalidArgument") from None
        mail = message_from_bytes(data, policy=policy.default)
        for header in ("To", "Cc", "Bcc"):
            for _, addr in getaddresses([str(mail.get(header, ""))]):
                if addr and not ADDRESS.fullmatch(addr):
                    raise _fail(400, f"Invalid {header} header", "invalidArgument")
        rcpts = getaddresses([str(mail.get(h, "")) for h in ("To", "Cc", "Bcc")])
        if sending and not any(addr for _, addr in rcpts):
            raise _fail(400, "Recipient address required", "invalidArgument")
        thread = body.get("threadId")
        if thread is not None:
            with self.lock:
                if not any(m["threadId"] == thread for m in self.messages.values()):
                    raise _fail(404, "Requested entity was not found.", "notFound")
        if "From" not in mail:
            mail["From"] = self.email
        if "Message-ID" not in mail:
            mail["Message-ID"] = f"<CAFake{next(self._ids):x}@mail.gmail.com>"
        return mail, thread

    @route("POST", GMAIL + "/messages/send", name="messages.send")
    def messages_send(self, request: Request) -> Response:
        self._api(request, SEND)
        body = request.body if isinstance(request.body, dict) else {}
        mail, thread = self._incoming(body, sending=True)
        stored = self._store(mail.as_bytes(), ["SENT"], thread, datetime.now(UTC))
        return Response(
            200, {"id": stored["id"], "threadId": stored["threadId"], "labelIds": ["SENT"]}
        )

    @route("POST", GMAIL + "/drafts", name="drafts.create")
    def drafts_create(self, request: Request) -> Response:
        self._api(request, COMPOSE)
        body = request.body if isinstance(request.body, dict) else {}
        message = body.get("message")
        if not isinstance(message, dict):
            raise _fail(400, "Missing draft message", "invalidArgument")
        mail, thread = self._incoming(message, sending=False)
        stored = self._store(mail.as_bytes(), ["DRAFT"], thread, datetime.now(UTC))
        draft_id = f"r{next(self._ids) % 10**19}"
        with self.lock:
            self.drafts[draft_id] = stored["id"]
        ref = {"id": stored["id"], "threadId": stored["threadId"], "labelIds": ["DRAFT"]}
        return Response(200, {"id": draft_id, "message": ref})

    def mail(self, message_id: str) -> Any:
        """A stored message parsed with the ``email`` package: real headers, decoded bodies."""
        with self.lock:
            raw = self.messages[message_id]["raw"]
        return message_from_bytes(raw, policy=policy.default)

    @route("POST", GMAIL + "/labels", name="labels.create")
    def labels_create(self, request: Request) -> Response:
        self._api(request, MODIFY)
        body = request.body if isinstance(request.body, dict) else {}
        name = str(body.get("name") or "").strip()
        if not name:
            raise _fail(400, "Invalid label name", "invalidArgument")
        taken = {n.lower() for n in SYSTEM_LABELS} | {
            label["name"].lower() for label in self.user_labels.values()
        }
        if name.lower() in taken:
            raise _fail(409, "Label name exists or conflicts", "failedPrecondition")
        label_id = self.add_label(name)
        return Response(200, dict(self.user_labels[label_id]))

    @route("POST", GMAIL + "/messages/{message_id}/modify", name="messages.modify")
    def messages_modify(self, request: Request) -> Response:
        self._api(request, MODIFY)
        message = self._message(request.params["message_id"])
        body = request.body if isinstance(request.body, dict) else {}
        add, remove = body.get("addLabelIds") or [], body.get("removeLabelIds") or []
        for label in [*add, *remove]:
            if label not in self._labels():
                raise _fail(400, f"Invalid label: {label}", "invalidArgument")
        with self.lock:
            before = set(message["labelIds"])
            after = (before | set(add)) - set(remove)
            message["labelIds"] = [x for x in message["labelIds"] if x in after] + [
                x for x in add if x not in before and x in after
            ]
            self.history_id += 1
            message["historyId"] = str(self.history_id)
            ref = {
                "id": message["id"],
                "threadId": message["threadId"],
                "labelIds": list(message["labelIds"]),
            }
            record: dict[str, Any] = {
                "id": str(self.history_id),
                "messages": [{"id": message["id"], "threadId": message["threadId"]}],
            }
            if after - before:
                record["labelsAdded"] = [{"message": ref, "labelIds": sorted(after - before)}]
            if before - after:
                record["labelsRemoved"] = [{"message": ref, "labelIds": sorted(before - after)}]
            self.history.append(record)
        return Response(200, dict(ref))

    @route("GET", GMAIL + "/history", name="history.list")
    def history_list(self, request: Request) -> Response:
        self._api(request, READ)
        start = request.arg("startHistoryId")
        if not start:
            raise _fail(
                400,
                "Required parameter: startHistoryId",
                "required",
                location="startHistoryId",
                locationType="parameter",
            )
        if not start.isdigit():
            raise _fail(400, f"Invalid value '{start}'", "invalid")
        with self.lock:
            if int(start) < self.history_floor:
                raise _fail(404, "Requested entity was not found.", "notFound")
            records = [copy.deepcopy(r) for r in self.history if int(r["id"]) > int(start)]
            current = str(self.history_id)
        types = request.args("historyTypes")
        keys = {
            "messageAdded": "messagesAdded",
            "messageDeleted": "messagesDeleted",
            "labelAdded": "labelsAdded",
            "labelRemoved": "labelsRemoved",
        }
        if types:
            wanted = {keys.get(t, t) for t in types}
            records = [r for r in records if wanted & set(r)]
            for r in records:
                for key in set(keys.values()) - wanted:
                    r.pop(key, None)
        label = request.arg("labelId")
        if label:
            records = [
                r
                for r in records
                if any(
                    label in e["message"].get("labelIds", [])
                    for k in keys.values()
                    for e in r.get(k, [])
                )
            ]
        size = self._max(request.arg("maxResults"), 100, 500)
        offset = self._page_start(request.arg("pageToken"))
        page = records[offset : offset + size]
        body: dict[str, Any] = {}
        if page:
            body["history"] = page
        if offset + size < len(records):
            body["nextPageToken"] = self._page_token(offset + size)
        body["historyId"] = current
        return Response(200, body)

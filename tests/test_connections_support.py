"""Shared helpers for the connection tests: start a fake, point the hub at it, and walk the
OAuth round trip through Django's test client (the fake's consent page stands in for a
browser). No tests live here."""

from __future__ import annotations

import copy
from urllib.parse import parse_qs, urlsplit

import pytest

from hub.connections.models import Connection
from tests.fakes.clickup import FakeClickUp
from tests.fakes.gmail import FakeGoogle
from tests.fakes.kit import consent
from tests.fakes.notion import FakeNotion
from tests.fakes.slack import FakeSlack


def point_at(settings, fake) -> None:
    """Apply a fake's settings: URLs as settings, client credentials into OAUTH_CLIENTS."""
    clients = copy.deepcopy(settings.OAUTH_CLIENTS)
    for key, value in fake.settings().items():
        for suffix, field in (("_CLIENT_ID", "client_id"), ("_CLIENT_SECRET", "client_secret")):
            if key.endswith(suffix):
                clients.setdefault(key.removesuffix(suffix), {})[field] = value
                break
        else:
            setattr(settings, key, value)
    settings.OAUTH_CLIENTS = clients


@pytest.fixture
def slack(settings):
    with FakeSlack() as fake:
        point_at(settings, fake)
        fake.add_channel("general")
        yield fake


@pytest.fixture
def rotating_slack(settings):
    with FakeSlack(token_rotation=True) as fake:
        point_at(settings, fake)
        fake.add_channel("general")
        yield fake


@pytest.fixture
def notion(settings):
    with FakeNotion() as fake:
        point_at(settings, fake)
        yield fake


@pytest.fixture
def google(settings):
    with FakeGoogle() as fake:
        point_at(settings, fake)
        yield fake


@pytest.fixture
def clickup(settings):
    with FakeClickUp() as fake:
        point_at(settings, fake)
        yield fake


def start(client, slug: str, **data) -> str:
    """Press Connect; returns the app's authorize URL."""
    response = client.post(f"/connections/apps/{slug}/connect/", data)
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def come_back(client, location: str):
    """Follow the app's redirect back to the hub's callback."""
    parts = urlsplit(location)
    return client.get(parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()})


def connect(client, slug: str, *, allow: bool = True, **data):
    """The whole round trip; returns the callback's response."""
    return come_back(client, consent(start(client, slug, **data), allow=allow))


def connect_ok(client, slug: str, **data) -> Connection:
    response = connect(client, slug, **data)
    assert response.status_code == 302, response.content.decode()[:2000]
    pk = int(response["Location"].rstrip("/").rsplit("/", 1)[-1])
    return Connection.objects.get(pk=pk)


def query_of(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}

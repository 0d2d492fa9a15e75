"""Webhook bodies as real senders frame them, through the real web server (gunicorn, as the
Procfile starts it), and numbers JSON cannot carry refused at every intake."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from hub.engine.models import Run
from hub.recipes.services import set_paused
from tests.conftest import hook_path
from tests.procfile import send

# ---------------------------------------------------------------- through gunicorn


def test_chunked_body_reaches_the_run(web, hook):
    chunks = [b'{"x": "hel', b'lo", "n', b'": [1, 2, 3]}']
    status, answer = send(web, hook_path(hook), chunks=chunks)
    assert status == 202, (answer, web.log())
    run = Run.objects.get(id=answer["run_id"])
    assert run.trigger_data == {"x": "hello", "n": [1, 2, 3]}


def test_chunked_body_over_the_cap_is_413(web, hook):
    piece = b"y" * (64 * 1024)
    chunks = [b'{"x": "', *[piece] * 17, b'"}']  # about 1.1 MB, over the 1 MB cap
    status, answer = send(web, hook_path(hook), chunks=chunks)
    assert status == 413 and "larger than 1024 KB" in answer["error"]
    assert Run.objects.count() == 0


def test_content_length_bodies_still_work(web, hook):
    status, answer = send(web, hook_path(hook), body=b'{"x": "framed"}')
    assert status == 202
    assert Run.objects.get(id=answer["run_id"]).trigger_data == {"x": "framed"}
    status, answer = send(web, hook_path(hook), body=b"{" + b" " * (1024 * 1024) + b"}")
    assert status == 413
    status, answer = send(web, hook_path(hook), body=b"")
    assert status == 202 and Run.objects.get(id=answer["run_id"]).trigger_data == {}


def test_chunked_body_on_a_server_that_cannot_frame_it_is_411(rf, hook):
    """A server that passes chunked framing through undecoded (runserver) cannot say where the
    body ends: the sender is told to send a length, rather than the body being lost."""
    from hub.web.webhooks import catch

    request = rf.post(
        hook_path(hook), data=b"", content_type="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
    )  # fmt: skip
    request.META.pop("CONTENT_LENGTH", None)
    response = catch(request, hook.public_id, hook.webhook_secret)
    assert response.status_code == 411
    assert "Content-Length" in json.loads(response.content)["error"]
    assert Run.objects.count() == 0


# ---------------------------------------------------------------- numbers JSON cannot carry

NON_FINITE = [
    ('{"x": NaN}', "NaN"),
    ('{"x": Infinity}', "Infinity"),
    ('{"x": [1, -Infinity]}', "-Infinity"),
    ('{"x": 1e999}', "1e999"),
    ('{"x": {"y": -2.5E+400}}', "-2.5E+400"),
]


@pytest.mark.parametrize(("body", "culprit"), NON_FINITE)
def test_webhook_refuses_non_finite_numbers_with_400(client, hook, body, culprit):
    response = client.post(hook_path(hook), data=body, content_type="application/json")
    assert response.status_code == 400
    reason = response.json()["error"]
    assert culprit in reason and "finite number" in reason
    assert Run.objects.count() == 0


def test_webhook_refuses_an_integer_too_long_to_read_with_400(client, hook):
    body = '{"x": ' + "9" * 5000 + "}"
    response = client.post(hook_path(hook), data=body, content_type="application/json")
    assert response.status_code == 400
    assert "5000 digits" in response.json()["error"]
    assert Run.objects.count() == 0


def test_run_now_refuses_non_finite_numbers(member_client, hook):
    response = member_client.post(f"/recipes/{hook.pk}/run/", {"data": '{"x": NaN}'}, follow=True)
    text = response.content.decode()
    assert "NaN" in text and "finite number" in text
    assert Run.objects.count() == 0


def test_recipes_run_command_refuses_non_finite_numbers(hook):
    with pytest.raises(CommandError, match=r"1e999.*finite number"):
        call_command("recipes", "run", hook.name, "--data", '{"x": 1e999}', stdout=StringIO())
    assert Run.objects.count() == 0


def test_finite_numbers_still_arrive_as_numbers(client, hook):
    body = '{"a": 1.5e300, "b": -0.0, "c": 12345678901234567890, "d": 1e-999}'
    response = client.post(hook_path(hook), data=body, content_type="application/json")
    assert response.status_code == 202
    data = Run.objects.get(id=response.json()["run_id"]).trigger_data
    # PostgreSQL's jsonb gives 1.5e300 back written out in digits: the same number.
    assert float(data.pop("a")) == 1.5e300
    assert data == {"b": 0.0, "c": 12345678901234567890, "d": 0.0}


# ---------------------------------------------------------------- the secret in a header


def test_secret_may_come_in_a_header_instead_of_the_path(client, hook):
    address = f"/hooks/{hook.public_id}"
    response = client.post(
        address, data={"x": 1}, content_type="application/json",
        HTTP_X_HOOK_SECRET=hook.webhook_secret,
    )  # fmt: skip
    assert response.status_code == 202
    assert Run.objects.get(id=response.json()["run_id"]).trigger_data == {"x": 1}
    for wrong in ({"HTTP_X_HOOK_SECRET": "nope"}, {}):
        response = client.post(address, data={}, content_type="application/json", **wrong)
        assert response.status_code == 404
    set_paused(hook, True)
    response = client.post(
        address, data={}, content_type="application/json",
        HTTP_X_HOOK_SECRET=hook.webhook_secret,
    )  # fmt: skip
    assert response.status_code == 409

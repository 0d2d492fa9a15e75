"""Where the web's CPU goes when it accepts a webhook, in-process: figures, not assertions.

    DATABASE_URL=postgres://… CELERY_BROKER_URL=redis://… python bench/accept.py [--webhooks 3000]

Django's WSGI handler is called directly (no gunicorn), as many times as ``--webhooks``,
on bench/stack.py's webhook recipe, the broker and database of the environment. It prints
the CPU per accepted webhook, split into the view (of it Celery's ``send_task`` and the
statements Django runs) and what lies outside the view: Django's handler, the middleware
and the request signals (the database health check among them). The gap between this total
and bench/intake.py's web figure under gunicorn is gunicorn's own work.
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stack import bench_workspace, machine_line, setup_django, start_fake, webhook_recipe


def timed(spent: dict, key: str, fn):
    @functools.wraps(fn)  # keeps csrf_exempt and the like on a view
    def wrapper(*args, **kwargs):
        started = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[key] += time.process_time() - started

    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--webhooks", type=int, default=3000)
    args = parser.parse_args()
    fake_proc, fake = start_fake()
    try:
        setup_django()
        import celery.app.base
        from django.core.handlers.wsgi import WSGIHandler
        from django.db.backends import utils
        from django.urls import get_resolver, resolve

        recipe = webhook_recipe(bench_workspace(fake), fake, name="Bench accept")
        path = f"/hooks/{recipe.public_id}/{recipe.webhook_secret}"
        spent = dict.fromkeys(("view", "send_task", "statements"), 0.0)
        celery.app.base.Celery.send_task = timed(
            spent, "send_task", celery.app.base.Celery.send_task
        )
        utils.CursorWrapper.execute = timed(spent, "statements", utils.CursorWrapper.execute)
        view = resolve(path).func
        for pattern in get_resolver().url_patterns:
            if getattr(pattern, "callback", None) is view:
                pattern.callback = timed(spent, "view", view)
        handler = WSGIHandler()

        def accept(n: int) -> None:
            body = json.dumps({"text": f"accept-{n}"}).encode()
            environ = {
                "REQUEST_METHOD": "POST", "PATH_INFO": path, "SERVER_NAME": "127.0.0.1",
                "SERVER_PORT": "8000", "HTTP_HOST": "127.0.0.1:8000", "REMOTE_ADDR": "127.0.0.1",
                "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
                "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": "application/json",
            }  # fmt: skip
            statuses = []
            answer = handler(environ, lambda status, headers: statuses.append(status))
            b"".join(answer)
            answer.close()
            assert statuses[0].startswith("202"), statuses

        print(machine_line(), flush=True)
        for n in range(200):  # warm: connections open, statements built
            accept(n)
        spent.update(dict.fromkeys(spent, 0.0))
        started = time.process_time()
        for n in range(args.webhooks):
            accept(n)
        per = {key: value / args.webhooks * 1000 for key, value in spent.items()}
        total = (time.process_time() - started) / args.webhooks * 1000
        print(
            f"in-process accept, {args.webhooks} webhooks: {total:.3f} ms CPU each; the view "
            f"{per['view']:.3f} (send_task {per['send_task']:.3f}, statements "
            f"{per['statements']:.3f}); outside the view (handler, middleware, request "
            f"signals) {total - per['view']:.3f}",
            flush=True,
        )
        print(machine_line(), flush=True)
    finally:
        fake_proc.terminate()
        fake_proc.wait()


if __name__ == "__main__":
    main()

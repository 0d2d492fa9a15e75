"""Fault soak: counts, not assertions (the fast cases are tests/test_faults_*.py).

    # kill -9 soak and PostgreSQL outage (through a TCP proxy this script drops)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hub_faults python bench/faults.py \
        --scenarios kill,postgres --kills 100
    # Redis restarted under load: a redis-server of its own on a free port (never the
    # machine's shared one)
    DATABASE_URL=postgres://… python bench/faults.py --scenarios redis
    # disk full for the embedded default: HUB_VAR_DIR on a small tmpfs (needs mount rights)
    python bench/faults.py --scenarios disk
    # an app outage: the Slack fake answers 503 for --outage-5xx s, then 429 with
    # Retry-After (its per-token window) for --storm s, under a steady load
    DATABASE_URL=postgres://… CELERY_BROKER_URL=redis://… python bench/faults.py \
        --scenarios app --outage-5xx 120 --storm 60

Each scenario keeps a paced webhook load (bench/load.py) on the webhook -> formatter ->
slack.send_message recipe while the fault happens, then waits for every accepted run and
counts: runs accepted, finished by status, lost (accepted but never finished), completed
steps repeated (a step with two succeeded rows), runs left running, and at the Slack fake
the accepted webhooks posted 0 times or more than once. The engine is made quick to notice
faults (lease 4 s, sweep every 2 s with 5 s grace, Redis visibility 3 s); its retry policy
(ENGINE_MAX_ATTEMPTS, ENGINE_RETRY_BASE_SECONDS) is the default one. Every run posts to the
one bench channel, so the hub's own limit for it (Slack's 1 message/s) is lifted: the faults
are the app's.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import contextlib

from load import send_webhooks
from stack import (
    ROOT,
    Stack,
    bench_workspace,
    fake_texts,
    free_port,
    machine_line,
    setup_django,
    start_fake,
    webhook_recipe,
)

QUICK_ENGINE = {
    "ENGINE_LEASE_SECONDS": "4",
    "ENGINE_SWEEP_SECONDS": "2",
    "ENGINE_SWEEP_GRACE_SECONDS": "5",
    "CELERY_VISIBILITY_TIMEOUT": "3",
    "CELERY_UNACKED_RESTORE_INTERVAL": "1",
}


class Load(threading.Thread):
    """A paced webhook load in the background while a fault is injected."""

    def __init__(self, port: int, path: str, rate: float, seconds: float, tag: str):
        super().__init__()
        self.args = (port, path)
        self.rate, self.seconds, self.tag = rate, seconds, tag
        self.report = None

    def run(self):
        self.report = send_webhooks(
            *self.args, senders=8, rate=self.rate, seconds=self.seconds, tag=self.tag
        )


def settle(ids: list[int], timeout: float = 600) -> None:
    from hub.engine.models import Run

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Run.objects.filter(id__in=ids, status__in=Run.ACTIVE).exists():
            return
        time.sleep(1)


def count(name: str, report, fake: dict, extra: str = "") -> None:
    from hub.engine.models import Run, StepRun

    accepted = report.accepted
    ids = [s.run_id for s in accepted]
    settle(ids)
    statuses = collections.Counter(Run.objects.filter(id__in=ids).values_list("status", flat=True))
    done = collections.Counter(
        StepRun.objects.filter(run_id__in=ids, status="succeeded").values_list("run_id", "key")
    )
    repeated = sum(1 for n in done.values() if n > 1)
    posted = collections.Counter(fake_texts(fake))
    texts = [s.text.upper() for s in accepted]
    unposted = sum(1 for t in texts if posted[t] == 0)
    twice = sum(1 for t in texts if posted[t] > 1)
    answers = collections.Counter(s.status for s in report.sends)
    failed = list(
        Run.objects.filter(id__in=ids, status="failed").values_list("error", flat=True)[:3]
    )
    print(
        f"{name}: sent {len(report.sends)} (answers {dict(answers)}), accepted {len(ids)}; "
        f"runs {dict(statuses)}; lost {len(ids) - sum(statuses.values())}; still active "
        f"{sum(statuses[s] for s in Run.ACTIVE)}; completed steps repeated {repeated}; at "
        f"the fake: not posted {unposted}, posted more than once {twice}"
        + (f"; failures say {failed}" if failed else "")
        + (f"; {extra}" if extra else ""),
        flush=True,
    )


# ------------------------------------------------------------------ kill -9 of a worker


def kill_soak(env, recipe, fake, kills: int, every: float) -> None:
    stack = Stack(env, 1, "threads", 8, (1, 8)).start()
    path = f"/hooks/{recipe.public_id}/{recipe.webhook_secret}"
    try:
        load = Load(stack.port, path, rate=20, seconds=kills * every, tag="kill-")
        load.start()
        done = 0
        while load.is_alive() and done < kills:
            time.sleep(every)
            stack.stop_workers(signal.SIGKILL)
            stack.start_workers()
            done += 1
        load.join()
        stack.wait_workers_ready()
        count(
            f"kill -9 soak ({done} kills, one every {every:.0f} s, 20 webhooks/s)",
            load.report,
            fake,
        )
    finally:
        stack.stop()


# ------------------------------------------------------------------ an app outage


def switch_faults(fake: dict, order: dict | None = None, query: str = "") -> dict:
    """Switch the fake's fault modes in its own process (tests/fakes/kit.py, control)."""
    origin = fake["settings"]["SLACK_API_URL"].split("/api/")[0]
    host, port = origin.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    if order is None:
        conn.request("GET", f"/_fake/faults?{query}")
    else:
        conn.request(
            "POST", "/_fake/faults", json.dumps(order), {"Content-Type": "application/json"}
        )
    answer = json.loads(conn.getresponse().read())
    conn.close()
    assert answer.get("ok"), answer
    return answer


def retry_policy_check(ids: list[int], texts: list[str], fake: dict) -> str:
    """What the retry policy promised, counted: attempts of each step against
    ENGINE_MAX_ATTEMPTS, from the step records and from the calls the fake received; each
    retry's announced wait against the backoff's lower bound (half the exponential step:
    the jitter), and the wait it really had against the one announced."""
    from django.conf import settings

    from hub.engine.models import Run, StepRun

    most = settings.ENGINE_MAX_ATTEMPTS
    rows = collections.defaultdict(list)
    for row in StepRun.objects.filter(run_id__in=ids, key="post").order_by("attempt", "id"):
        rows[row.run_id].append(row)
    per_step = collections.Counter(len(r) for r in rows.values())
    below_backoff = waited_less = 0
    for attempts in rows.values():
        for before, after in itertools.pairwise(attempts):
            announced = re.search(r"trying again in (\d+(?:\.\d+)?) s$", before.error or "")
            announced_s = float(announced.group(1)) if announced else 0.0
            step = settings.ENGINE_RETRY_BASE_SECONDS * 2 ** (before.attempt - 1)
            floor = 0.5 * min(settings.ENGINE_RETRY_MAX_SECONDS, step)
            below_backoff += announced_s + 0.05 < floor  # the note rounds to 0.1 s
            waited = (after.started_at - before.finished_at).total_seconds()
            waited_less += waited + 0.05 < announced_s
    calls = switch_faults(fake, query="route=chat.postMessage&field=text")["calls"]
    mine = [calls.get(t.upper(), {}) for t in texts]
    at_app = collections.Counter(sum(c.values()) for c in mine)
    twice = sum(1 for c in mine if c.get("200", 0) > 1)
    reasons = collections.Counter(
        re.sub(r"\d+(\.\d+)?", "#", e)
        for e in Run.objects.filter(id__in=ids, status="failed").values_list("error", flat=True)
    )
    return (
        f"attempts per step (records): {dict(sorted(per_step.items()))}, more than "
        f"ENGINE_MAX_ATTEMPTS={most}: {sum(n for k, n in per_step.items() if k > most)}; calls "
        f"per message at the fake: {dict(sorted(at_app.items()))}, more than {most}: "
        f"{sum(n for k, n in at_app.items() if k > most)}; answered 200 more than once: "
        f"{twice}; retries announced below the backoff: {below_backoff}; retried sooner than "
        f"announced: {waited_less}; failures say {dict(reasons.most_common(4))}"
    )


def app_outage(env, recipe, fake, outage: float, storm: float, rate: float) -> None:
    """A steady load while Slack answers chat.postMessage 503 for ``outage`` s, then 429
    with Retry-After past 2 posts/s (its per-token window) for ``storm`` s, then answers
    again."""
    stack = Stack(env, 1, "threads", 8, (1, 8)).start()
    path = f"/hooks/{recipe.public_id}/{recipe.webhook_secret}"
    route = "chat.postMessage"
    try:
        switch_faults(fake, {"clear": True})
        load = Load(stack.port, path, rate=rate, seconds=10 + outage + storm + 30, tag="app-")
        load.start()
        time.sleep(10)
        switch_faults(fake, {"fail": {"route": route, "status": 503, "times": None}})
        time.sleep(outage)
        switch_faults(fake, {"clear": True})
        switch_faults(fake, {"limit_rate": {"requests": 2, "per_seconds": 1, "route": route}})
        time.sleep(storm)
        switch_faults(fake, {"clear": True})
        load.join()
        ids = [s.run_id for s in load.report.accepted]
        settle(ids, timeout=900)
        count(
            f"Slack 503 for {outage:.0f} s then 429 past 2 posts/s for {storm:.0f} s, under "
            f"{rate:.0f}/s (10 s before, 30 s after)",
            load.report,
            fake,
            retry_policy_check(ids, [s.text for s in load.report.accepted], fake),
        )
    finally:
        stack.stop()


# ------------------------------------------------------------------ Redis restarted


def redis_restart(env, recipe, fake, outage: float) -> None:
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="bench-redis-")
    argv = ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"]
    argv += ["--dir", workdir]

    def start_redis():
        return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)  # noqa: S603

    redis = start_redis()
    time.sleep(0.5)
    broker = f"redis://127.0.0.1:{port}/0"
    env = {**env, "CELERY_BROKER_URL": broker}
    from hub.celery import app

    app.conf.broker_url = broker  # this process's own sends go there too
    stack = Stack(env, 1, "threads", 8, (1, 8)).start()
    path = f"/hooks/{recipe.public_id}/{recipe.webhook_secret}"
    try:
        load = Load(stack.port, path, rate=20, seconds=outage + 20, tag="redis-")
        load.start()
        time.sleep(8)
        redis.kill()  # its queue (no persistence) goes with it
        redis.wait()
        time.sleep(outage)
        redis = start_redis()
        load.join()
        worker = stack.procs["worker0"]
        log = (stack.logdir / "worker0.log").read_text()
        crashes = [line for line in log.splitlines() if "Unrecoverable error" in line]
        restarted = 0
        if worker.poll() is not None:  # as a supervisor would, so the count can finish
            (stack.logdir / "worker0.log").rename(stack.logdir / "worker0-exited.log")
            stack.stop_workers()
            stack.start_workers()
            stack.wait_workers_ready()
            restarted = 1
        count(
            f"Redis killed and restarted empty after {outage:.0f} s under 20/s",
            load.report,
            fake,
            f"worker exited: {'yes' if restarted else 'no'}"
            + (f" ({crashes[0].split('ERROR', 1)[-1].strip()[:160]})" if crashes else "")
            + f"; reconnects logged {log.count('Connection to broker lost')}",
        )
    finally:
        stack.stop()
        redis.kill()
        shutil.rmtree(workdir, ignore_errors=True)


# ------------------------------------------------------------------ PostgreSQL outage


class Proxy(threading.Thread):
    """A TCP proxy in front of PostgreSQL; ``drop()`` cuts every connection and refuses
    new ones until ``restore()``: what clients see when the server restarts."""

    def __init__(self, target: tuple[str, int]):
        super().__init__(daemon=True)
        self.target = target
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.up = threading.Event()
        self.up.set()
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()

    def run(self):
        while True:
            client, _ = self.server.accept()
            if not self.up.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self.pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def pipe(a: socket.socket, b: socket.socket):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def drop(self):
        self.up.clear()
        with self.lock:
            for s in self.conns:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass
            self.conns.clear()

    def restore(self):
        self.up.set()


def postgres_outage(env, recipe, fake, outage: float) -> None:
    import dj_database_url

    params = dj_database_url.parse(os.environ["DATABASE_URL"])
    proxy = Proxy((params["HOST"] or "127.0.0.1", int(params["PORT"] or 5432)))
    proxy.start()
    user = params["USER"] or "postgres"
    url = f"postgres://{user}@127.0.0.1:{proxy.port}/{params['NAME']}"
    stack = Stack({**env, "DATABASE_URL": url}, 1, "threads", 8, (1, 8)).start()
    path = f"/hooks/{recipe.public_id}/{recipe.webhook_secret}"
    try:
        load = Load(stack.port, path, rate=20, seconds=outage + 20, tag="pg-")
        load.start()
        time.sleep(8)
        proxy.drop()
        time.sleep(outage)
        proxy.restore()
        load.join()
        count(
            f"PostgreSQL connections cut and refused for {outage:.0f} s under 20/s",
            load.report,
            fake,
            "webhooks sent during the outage are answered 500/503 and not accepted",
        )
    finally:
        stack.stop()


# ------------------------------------------------------------------ disk full


def disk_full(fake, size_mb: int) -> None:
    """HUB_VAR_DIR on a tmpfs of ``size_mb``: fill it, load, free it, load again."""
    import json

    mount = Path(tempfile.mkdtemp(prefix="bench-var-"))
    tmpfs = ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(mount)]
    subprocess.run(tmpfs, check=True)  # noqa: S603
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    env.update(fake["settings"], HUB_VAR_DIR=str(mount), BENCH_FAKE=json.dumps(fake))
    env.update(QUICK_ENGINE)
    child = [sys.executable, __file__, "--disk-child", str(mount)]
    try:
        subprocess.run(child, env=env, cwd=ROOT, check=True)  # noqa: S603
    finally:
        subprocess.run(["umount", str(mount)], check=False)  # noqa: S603, S607
        mount.rmdir()


def disk_child(mount: Path) -> None:
    """In a process whose settings point at the tmpfs (SQLite and the file broker there)."""
    import http.client
    import json

    fake = json.loads(os.environ["BENCH_FAKE"])
    setup_django()
    print(machine_line(), flush=True)
    workspace = bench_workspace(fake)
    recipe = webhook_recipe(workspace, fake, name="Bench disk")
    stack = Stack({**os.environ}, 1, "threads", 8, (1, 8)).start()
    path = f"/hooks/{recipe.public_id}/{recipe.webhook_secret}"

    def healthz():
        conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=10)
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        return response.status, json.loads(response.read()).get("disk")

    try:
        before = send_webhooks(stack.port, path, senders=4, rate=20, seconds=3, tag="disk-a-")
        ballast = mount / "ballast"
        with ballast.open("wb") as f:
            try:
                while True:
                    f.write(b"\0" * (1 << 20))
                    f.flush()
            except OSError:
                pass
        time.sleep(1.5)  # the hub reads free space at most once a second
        full_health = healthz()
        during = send_webhooks(stack.port, path, senders=4, rate=20, seconds=3, tag="disk-b-")
        ballast.unlink()
        time.sleep(1.5)
        after = send_webhooks(stack.port, path, senders=4, rate=20, seconds=3, tag="disk-c-")
        well_health = healthz()
        refused = collections.Counter(s.status for s in during.sends)
        print(
            f"disk full ({mount} tmpfs): /healthz while full {full_health}; webhooks while full "
            f"answered {dict(refused)}; /healthz after freeing {well_health}",
            flush=True,
        )
        before.sends += during.sends + after.sends
        count("disk full then freed (3 s of 20/s each: before, full, after)", before, fake)
    finally:
        stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default="kill,postgres,redis,app,disk")
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--every", type=float, default=6.0, help="seconds between kills")
    parser.add_argument("--outage", type=float, default=10.0)
    parser.add_argument("--disk-mb", type=int, default=64)
    parser.add_argument("--outage-5xx", type=float, default=120.0)
    parser.add_argument("--storm", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=10.0, help="app outage: webhooks/s")
    parser.add_argument("--disk-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.disk_child:
        disk_child(Path(args.disk_child))
        return
    os.environ.update(QUICK_ENGINE)
    os.environ.setdefault("RATE_LIMIT_SLACK_CHAT_POSTMESSAGE", "1000000/second")
    fake_proc, fake = start_fake()
    try:
        scenarios = args.scenarios.split(",")
        if "disk" in scenarios:
            disk_full(fake, args.disk_mb)
        if set(scenarios) - {"disk"}:
            setup_django()
            workspace = bench_workspace(fake)
            recipe = webhook_recipe(workspace, fake, name="Bench faults")
            print(machine_line(), flush=True)
            env = {**os.environ, **fake["settings"]}
            if "kill" in scenarios:
                kill_soak(env, recipe, fake, args.kills, args.every)
            if "postgres" in scenarios:
                postgres_outage(env, recipe, fake, args.outage)
            if "redis" in scenarios:
                redis_restart(env, recipe, fake, args.outage)
            if "app" in scenarios:
                app_outage(env, recipe, fake, args.outage_5xx, args.storm, args.rate)
            print(machine_line(), flush=True)
    finally:
        fake_proc.terminate()
        fake_proc.wait()


if __name__ == "__main__":
    main()

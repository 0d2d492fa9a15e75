"""Run fakes as a long-lived process for benchmarks and ``make run`` demos.

    python -m tests.fakes.serve slack notion gmail clickup --port-base 9100

Prints ``SETTING=value`` lines (ready to paste into an env file), then ``ready``, and
serves until interrupted. ``--port-base 0`` picks free ports.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import signal
import threading

FAKES = {
    "slack": ("tests.fakes.slack", "FakeSlack"),
    "notion": ("tests.fakes.notion", "FakeNotion"),
    "gmail": ("tests.fakes.gmail", "FakeGoogle"),
    "clickup": ("tests.fakes.clickup", "FakeClickUp"),
    "openai": ("tests.fakes.openai", "FakeOpenAI"),
    "anthropic": ("tests.fakes.anthropic", "FakeAnthropic"),
    "gemini": ("tests.fakes.gemini", "FakeGemini"),
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("apps", nargs="+", choices=sorted(FAKES))
    parser.add_argument("--port-base", type=int, default=9100)
    parser.add_argument("--auto-approve", action="store_true", help="skip consent pages")
    parser.add_argument(
        "--issue-tokens", action="store_true", help="print a ready access token per app"
    )
    parser.add_argument(
        "--slack-channel",
        action="append",
        default=[],
        metavar="NAME",
        help="create a Slack channel the hub's bot is in (repeatable); prints its id",
    )
    args = parser.parse_args(argv)
    running = []
    for i, slug in enumerate(args.apps):
        module, cls = FAKES[slug]
        port = args.port_base + i if args.port_base else 0
        fake = getattr(importlib.import_module(module), cls)(port=port).start()
        fake.auto_approve = args.auto_approve
        running.append(fake)
        for key, value in fake.settings().items():
            print(f"{key}={value}")
        if args.issue_tokens:
            issue = getattr(fake, "issue_key", None) or fake.issue_token
            print(f"{slug.upper()}_TEST_TOKEN={issue()}")
        if slug == "slack":
            for name in args.slack_channel:
                print(f"SLACK_CHANNEL_{name.upper()}={fake.add_channel(name)}")
    print("ready", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with contextlib.suppress(KeyboardInterrupt):
        done.wait()
    for fake in running:
        fake.stop()


if __name__ == "__main__":
    main()

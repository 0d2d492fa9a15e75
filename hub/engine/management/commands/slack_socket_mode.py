"""``manage.py slack_socket_mode``: receive Slack events over Socket Mode (one more process in
the Procfile, for hubs Slack cannot reach over HTTP). Runs until stopped (Ctrl-C, SIGTERM)."""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from hub.engine import app_events, socket_mode


class Command(BaseCommand):
    help = "Receive Slack events over Socket Mode and start the recipes they trigger."

    def handle(self, *args, **options):
        token = app_events.slack_app_token()
        if not token:
            # Nothing to do, and nothing wrong: the deployment uses the Events API or polling.
            self.stdout.write(
                "Socket Mode is off: set SLACK_APP_TOKEN (or enter the app-level token on "
                "Slack's setup page) to receive Slack events without a public address."
            )
            if options["stay"]:
                # honcho stops every process when one ends: stay, doing nothing.
                threading.Event().wait()
            return
        stop = threading.Event()
        for number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(number, lambda *_: stop.set())
        self.stdout.write("Receiving Slack events over Socket Mode.")
        try:
            socket_mode.run(stop, token)
        except RuntimeError as error:
            raise CommandError(str(error)) from None

    def add_arguments(self, parser):
        parser.add_argument(
            "--stay",
            action="store_true",
            help="Keep running when Socket Mode is off (so a process manager does not restart it).",
        )

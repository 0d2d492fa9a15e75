"""The ``celery`` command for the hub's long-running processes (the Procfile's worker and
scheduler): ``python -m hub.system.celery_command -A hub worker …`` takes every argument
``celery`` takes.

Celery's command line imports the REPL of its ``amqp`` subcommand (click-repl and
prompt_toolkit, ~10 MB resident) into every process it starts, workers and beat included,
which never open a shell. Here that subcommand gets a stand-in before Celery's command line
loads; ``celery amqp repl`` (the interactive broker shell) stays with the ordinary
``celery`` command.
"""

from __future__ import annotations

import sys
import types


def main() -> None:
    if "click_repl" not in sys.modules:
        stand_in = types.ModuleType("click_repl")
        stand_in.register_repl = lambda group, name="repl": None
        sys.modules["click_repl"] = stand_in
    from celery.bin.celery import main as celery_main

    sys.exit(celery_main())


if __name__ == "__main__":
    main()

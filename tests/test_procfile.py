"""Every file the Procfile's processes write follows HUB_VAR_DIR: started from a directory
with no ./var, as `make run` may be, none of them crashes or writes beside the code."""

from __future__ import annotations

import time

import pytest

from tests.procfile import ProcfileProcess, procfile_commands


def test_no_procfile_command_names_a_relative_var_path():
    for name, command in procfile_commands().items():
        assert "var/" not in command, f"{name} writes under ./var whatever HUB_VAR_DIR says"


@pytest.mark.django_db(transaction=True)
def test_scheduler_keeps_its_schedule_under_hub_var_dir(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    start_dir = tmp_path / "start"  # no ./var here
    start_dir.mkdir()
    scheduler = ProcfileProcess(
        "scheduler",
        tmp_path / "scheduler.log",
        env={"HUB_VAR_DIR": str(elsewhere)},
        cwd=start_dir,
    ).start()
    try:
        scheduler.wait_for("beat: Starting")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not list(elsewhere.glob("celerybeat-schedule*")):
            time.sleep(0.2)
        time.sleep(1)
        assert scheduler.process.poll() is None, scheduler.log()
    finally:
        scheduler.stop()
    assert list(elsewhere.glob("celerybeat-schedule*")), scheduler.log()
    assert not (start_dir / "var").exists()
    assert "Traceback" not in scheduler.log()

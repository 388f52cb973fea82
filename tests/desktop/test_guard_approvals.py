"""The guard on a real screen: a destructive command typed into xterm waits for approval;
headless, the task file answers; a denial means not one key reaches the screen."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.desktop.screen import Screen
from agent.desktop.virtual_display import VirtualDisplay
from agent.run.session import TaskSession
from agent.taskfile.task import load_task_text
from tests.helpers import key_presses
from tests.run_json import read_run_json

pytestmark = pytest.mark.desktop

TASK = """\
name: guarded
setup:
  - launch: xterm -title guarded-terminal
  - wait_for: {{window: guarded-terminal, timeout: 20}}
steps:
  - type: "{command}\\n"
checks:
  - file_exists: {{path: "{{workdir}}/done.txt"}}
{approvals}
"""


def _run(tmp_path: Path, screen: Screen, command: str, approvals: str = "") -> tuple:  # type: ignore[type-arg]
    work = tmp_path / "work"
    work.mkdir()
    text = TASK.format(command=command, approvals=approvals)
    loaded = load_task_text(text, "guarded.yaml", builtins={"workdir": str(work)})
    session = TaskSession(loaded, screen, runs_dir=tmp_path / "runs", workdir=work)
    assert screen.display is not None
    with key_presses(screen.display) as presses:
        result = session.run()
    return result, presses, read_run_json(result.run_folder)


def test_rm_rf_is_held_and_a_denial_types_nothing(
    virtual_display: VirtualDisplay, app_screen: Screen, tmp_path: Path
) -> None:
    result, presses, record = _run(tmp_path, app_screen, "rm -rf ~/important")
    assert result.exit_code == 1
    assert "the boss did not approve type 'rm -rf ~/important" in result.reason
    assert presses == []  # not one character of it reached the screen
    (asked,) = record.events_of("approval_requested")
    assert asked["action"]["text"] == "rm -rf ~/important\n"
    assert "rm -rf deletes files for good" in asked["reason"]
    (answer,) = record.events_of("approval_answered")
    assert answer == {**answer, "approved": False, "by": "task file"}
    assert record.events_of("action_executed") == []


def test_an_approved_command_runs(
    virtual_display: VirtualDisplay, app_screen: Screen, tmp_path: Path
) -> None:
    command = f"echo sudo is only a word here > {tmp_path / 'work' / 'done.txt'}"
    result, presses, record = _run(tmp_path, app_screen, command, "approvals: approve")
    assert result.exit_code == 0, result.reason
    assert (tmp_path / "work" / "done.txt").read_text() == "sudo is only a word here\n"
    assert len(presses) >= len(command)
    assert [e["approved"] for e in record.events_of("approval_answered")] == [True]

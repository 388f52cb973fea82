"""The real `shain` command: help, schema, and the errors a user meets before anything runs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from agent.actions import Click
from agent.record.events import ActionExecuted, CheckEvaluated, RunFinished, StepStarted
from agent.record.log import RunLog
from agent.record.status import RunStatus
from tests.helpers import environment_without_display, run_shain

SCRIPTED_TASK = """\
name: save
steps:
  - key: ctrl+s
"""

GOAL_ONLY_TASK = """\
name: goal-only
goal: Write "hello" into a note
"""


def _no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr
    assert "Traceback" not in result.stdout


@pytest.fixture
def task_file(tmp_path: Path) -> Path:
    path = tmp_path / "t.yaml"
    path.write_text(SCRIPTED_TASK, "utf-8")
    return path


def test_help_lists_the_commands() -> None:
    result = run_shain("--help")
    assert result.returncode == 0
    for command in ("run", "runs", "show", "schema"):
        assert command in result.stdout


def test_run_help_lists_exit_codes_and_virtual_display() -> None:
    result = run_shain("run", "--help")
    assert result.returncode == 0
    assert "--virtual-display" in result.stdout
    assert "--var NAME=VALUE" in result.stdout
    assert "exit codes:" in result.stdout
    for code in range(5):
        assert f"\n  {code}  " in result.stdout


def test_schema_is_json_of_task_files() -> None:
    result = run_shain("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert "steps" in schema["properties"]
    assert "goal" in schema["properties"]


def test_missing_task_file_is_bad_input(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    result = run_shain("run", str(missing), "--workdir", str(tmp_path / "work"))
    assert result.returncode == 2
    assert str(missing) in result.stderr
    assert result.stderr.startswith("shain: ")
    _no_traceback(result)


@pytest.mark.parametrize("bad", ["novalue", "=value"])
def test_var_without_name_equals_value_is_bad_input(
    task_file: Path, tmp_path: Path, bad: str
) -> None:
    result = run_shain("run", str(task_file), "--var", bad, "--workdir", str(tmp_path / "w"))
    assert result.returncode == 2
    assert f"--var {bad!r}: expected NAME=VALUE" in result.stderr
    _no_traceback(result)


def test_goal_only_task_without_a_display_is_an_environment_error(tmp_path: Path) -> None:
    path = tmp_path / "goal.yaml"
    path.write_text(GOAL_ONLY_TASK, "utf-8")
    runs = tmp_path / "runs"
    result = run_shain(
        "run",
        str(path),
        "--runs-dir",
        str(runs),
        "--workdir",
        str(tmp_path / "work"),
        env=environment_without_display(),
    )
    # The display is checked before the task is started, so no run folder is made either.
    assert result.returncode == 4
    assert "no display" in result.stderr
    assert "--virtual-display" in result.stderr
    assert not runs.exists()
    _no_traceback(result)


def _unused_display() -> str:
    for number in range(987, 1000):
        if not Path(f"/tmp/.X11-unix/X{number}").exists():
            return f":{number}"
    pytest.skip("no unused display number")


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ("scripted", "a goal but no steps: it needs a model policy"),
        ("openai-chat", "set OPENAI_API_KEY to your OpenAI API key"),  # the default
    ],
)
def test_goal_only_task_is_refused_with_a_run_folder_when_there_is_a_display(
    tmp_path: Path, policy: str, message: str
) -> None:
    path = tmp_path / "goal.yaml"
    path.write_text(GOAL_ONLY_TASK, "utf-8")
    runs = tmp_path / "runs"
    environment = environment_without_display()
    environment.pop("OPENAI_API_KEY", None)
    environment.pop("OPENAI_BASE_URL", None)
    environment["SHAIN_CONFIG"] = str(tmp_path / "no-config.toml")
    environment["DISPLAY"] = _unused_display()  # never reached: the task is refused first
    arguments = ["run", str(path), "--runs-dir", str(runs), "--workdir", str(tmp_path / "w")]
    if policy == "scripted":
        arguments += ["--policy", "scripted"]
    result = run_shain(*arguments, env=environment)
    assert result.returncode == 2
    assert message in result.stdout
    _no_traceback(result)
    (folder,) = runs.iterdir()
    summary = json.loads((folder / "summary.json").read_text("utf-8"))
    assert summary["status"] == "bad_input"
    assert summary["exit_code"] == 2


def test_a_display_that_cannot_be_reached_is_an_environment_error(
    task_file: Path, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    environment = environment_without_display()
    display = _unused_display()
    environment["DISPLAY"] = display
    result = run_shain(
        "run",
        str(task_file),
        "--runs-dir",
        str(runs),
        "--workdir",
        str(tmp_path / "w"),
        "--json",
        env=environment,
    )
    assert result.returncode == 4
    _no_traceback(result)
    report = json.loads(result.stdout)
    assert report["status"] == "environment_error"
    assert report["exit_code"] == 4
    assert display in report["reason"]
    assert report["steps"] == 0
    summary = json.loads((Path(report["run_folder"]) / "summary.json").read_text("utf-8"))
    assert summary["status"] == "environment_error"


def test_runs_of_an_empty_folder(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    result = run_shain("runs", "--runs-dir", str(empty))
    assert result.returncode == 0
    assert result.stdout.strip() == f"no runs in {empty}"


def test_show_of_a_missing_run_is_a_clear_error(tmp_path: Path) -> None:
    result = run_shain("show", "nosuchrun", "--runs-dir", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip() == f"shain: no run 'nosuchrun' in {tmp_path}"
    _no_traceback(result)


def test_runs_and_show_of_a_logged_run(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    log = RunLog.create(runs, "note-task", {})
    log.handle(StepStarted(1))
    log.handle(ActionExecuted(1, Click(400, 300), 0.012, 0.25, True, True))
    log.handle(CheckEvaluated("file note.txt exists", True, ""))
    log.handle(
        RunFinished(RunStatus.SUCCESS, 0, "all 1 scripted steps done; 1 checks hold", 2, 3.25)
    )
    log.close()

    listed = run_shain("runs", "--runs-dir", str(runs), "--json")
    assert listed.returncode == 0
    assert json.loads(listed.stdout) == [
        {"run": log.run_id, "task": "note-task", "status": "success", "steps": 2, "seconds": 3.25}
    ]

    shown = run_shain("show", "last", "--runs-dir", str(runs))
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == f"run {log.run_id}: task 'note-task', success"
    assert "click left (400, 300)" in lines[1]
    assert lines[2].startswith("  check ok   file note.txt exists")
    assert lines[-1] == "success: all 1 scripted steps done; 1 checks hold"


def test_no_workdir_is_left_behind_by_a_run_that_never_started(
    task_file: Path, tmp_path: Path
) -> None:
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    environment = environment_without_display()
    environment["TMPDIR"] = str(temporary)
    missing = run_shain("run", str(tmp_path / "missing.yaml"), env=environment)
    no_display = run_shain("run", str(task_file), "--runs-dir", str(tmp_path), env=environment)
    assert (missing.returncode, no_display.returncode) == (2, 4)
    assert list(temporary.iterdir()) == []


def test_runs_limit_must_be_positive(tmp_path: Path) -> None:
    result = run_shain("runs", "--runs-dir", str(tmp_path), "--limit", "0")
    assert result.returncode == 2
    assert "0 is not a positive number" in result.stderr


def test_bench_lists_its_tasks_with_their_skills_and_oracle_steps() -> None:
    result = run_shain("bench", "--list")
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")][1:]
    assert len(rows) >= 20
    assert "| galculator-mouse | mouse, calculator, clipboard | 8 |" in rows
    assert any("(infeasible: the answer is fail)" in row for row in rows)


def test_bench_controls_need_two_seeds(tmp_path: Path) -> None:
    result = run_shain("bench", "--controls", "-o", str(tmp_path / "b"))
    assert result.returncode == 2
    assert "--controls needs at least 2 seeds" in result.stderr

"""`shain run --virtual-display` on the example tasks, as a user runs them: exit codes,
run folders, and nothing of the run left running afterwards."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from agent.record.log import read_run
from tests.helpers import REPO, environment_without_display, run_shain, run_task

pytestmark = pytest.mark.desktop

EXAMPLES = sorted((REPO / "tasks" / "examples").glob("*.yaml"))


def _run(task: Path, tmp_path: Path, *extra: str) -> tuple[int, dict[str, object], str]:
    run = run_task(task, tmp_path, *extra)
    return run.code, run.result, run.stderr


def test_there_are_at_least_three_examples() -> None:
    names = {path.stem for path in EXAMPLES}
    assert {"mousepad-note", "galculator-copy", "xterm-command"} <= names


@pytest.mark.parametrize("task", EXAMPLES, ids=lambda path: path.stem)
def test_example_passes_headless(task: Path, tmp_path: Path) -> None:
    code, data, stderr = _run(task, tmp_path)
    assert code == 0, f"{task.name} failed: {data}\n{stderr}"
    assert data["status"] == "success"
    checks = data["checks"]
    assert isinstance(checks, list) and checks and all(check["passed"] for check in checks)
    folder = Path(str(data["run_folder"]))
    record = read_run(folder)
    assert record.status == "success"
    assert record.header["version"] == 1 and record.header["schema"] == "shain.runlog"
    frames = sorted((folder / "frames").glob("step-*.jpg"))
    assert frames and frames[0].read_bytes()[:3] == b"\xff\xd8\xff"  # JPEG
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(folder.parent.stat().st_mode) == 0o700


def test_the_note_reads_back_byte_exact(tmp_path: Path) -> None:
    code, _, stderr = _run(REPO / "tasks" / "examples" / "mousepad-note.yaml", tmp_path)
    assert code == 0, stderr
    note = (tmp_path / "work" / "note.txt").read_bytes()
    assert note == "こんにちは、社長 — café ✓\nShain wrote this note.\n".encode()


def test_a_wrong_check_exits_1_and_says_which(tmp_path: Path) -> None:
    task = tmp_path / "wrong.yaml"
    text = (REPO / "tasks" / "examples" / "xterm-command.yaml").read_text()
    task.write_text(
        text.replace('stdout: "hello from xterm: 42"', 'stdout: "hello from xterm: 43"')
    )
    code, data, _ = _run(task, tmp_path)
    assert code == 1
    assert data["status"] == "failed"
    assert "1 of 1 checks failed" in str(data["reason"]) and "43" in str(data["reason"])


def test_a_malformed_task_exits_2_naming_line_and_field(tmp_path: Path) -> None:
    task = tmp_path / "broken.yaml"
    task.write_text("name: broken\nsteps:\n  - type: hello\n  - click: {x: 10, y: left}\n")
    code, data, stderr = _run(task, tmp_path)
    assert code == 2
    assert data == {}
    assert "broken.yaml:4" in stderr and "steps[1].click.y" in stderr
    assert not (tmp_path / "runs").exists()  # nothing was started, no run folder made


def test_no_display_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    task = REPO / "tasks" / "examples" / "xterm-command.yaml"
    result = run_shain(
        "run", str(task), "--runs-dir", str(tmp_path), env=environment_without_display()
    )
    assert result.returncode == 4
    assert "no display" in result.stderr and "--virtual-display" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_app_that_does_not_exist_is_an_environment_error(tmp_path: Path) -> None:
    task = tmp_path / "missing-app.yaml"
    task.write_text(
        "name: missing-app\nsetup:\n  - launch: no-such-program-shain --flag\nsteps:\n  - wait: 0\n"
    )
    code, data, _ = _run(task, tmp_path)
    assert code == 4
    assert "no-such-program-shain" in str(data["reason"]) and "not found" in str(data["reason"])
    assert read_run(Path(str(data["run_folder"]))).status == "environment_error"


def test_runs_and_show_list_what_ran(tmp_path: Path) -> None:
    code, data, _ = _run(REPO / "tasks" / "examples" / "xterm-command.yaml", tmp_path)
    assert code == 0
    runs = run_shain("runs", "--runs-dir", str(tmp_path / "runs"), "--json")
    listed = json.loads(runs.stdout)
    assert [row["status"] for row in listed] == ["success"]
    assert listed[0]["run"] == Path(str(data["run_folder"])).name
    shown = run_shain("show", "last", "--runs-dir", str(tmp_path / "runs"))
    assert shown.returncode == 0
    assert "type 'cd " in shown.stdout and "check ok" in shown.stdout
    assert shown.stdout.strip().splitlines()[-1].startswith("success:")
    assert os.path.basename(str(data["run_folder"])) in shown.stdout

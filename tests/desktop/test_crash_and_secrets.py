"""A run killed with SIGKILL reads back up to its last step; secrets reach no file of a run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.record.log import read_run
from tests.helpers import REPO, environment_without_display, left_behind, run_shain
from tests.run_json import read_run_json

pytestmark = pytest.mark.desktop

SECRET = "s3cr3t-Tr0ub4dor&3-パスワード"

TASK = """\
name: long-terminal-task
secrets: {{SHAIN_TEST_SECRET: {{windows: "^secret-terminal$"}}}}
setup:
  - launch: xterm -title secret-terminal
  - wait_for: {{window: secret-terminal, timeout: 20}}
steps:
  - type: "printf '%s' '{{SHAIN_TEST_SECRET}}' > {workdir}/secret.txt\\n"
  - key: ctrl+l
{waits}
checks:
  - file_equals: {{path: "{workdir}/secret.txt", text: "{{SHAIN_TEST_SECRET}}"}}
  - command: {{run: "test \\"$(cat {workdir}/secret.txt)\\" = \\"$SHAIN_TEST_SECRET\\""}}
"""


def _task(tmp_path: Path, waits: int) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    path = tmp_path / "task.yaml"
    lines = "\n".join("  - wait: 0.2" for _ in range(waits))
    path.write_text(TASK.format(workdir=work, waits=lines))
    return path


def _start(task: Path, tmp_path: Path) -> tuple[subprocess.Popen[str], dict[str, str]]:
    environment = environment_without_display()
    environment["SHAIN_TEST_SECRET"] = SECRET
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "agent",
            "run",
            str(task),
            "--virtual-display",
            "--runs-dir",
            str(tmp_path / "runs"),
            "--workdir",
            str(tmp_path / "work"),
        ],
        env=environment,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ), environment


def _all_bytes(folder: Path) -> list[tuple[Path, bytes]]:
    return [(path, path.read_bytes()) for path in folder.rglob("*") if path.is_file()]


def test_secret_is_used_but_never_written(tmp_path: Path) -> None:
    process, _ = _start(_task(tmp_path, waits=1), tmp_path)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stdout + stderr
    assert (tmp_path / "work" / "secret.txt").read_text() == SECRET  # it really was typed
    assert SECRET not in stdout and SECRET not in stderr
    assert "{SHAIN_TEST_SECRET}" in stdout  # the console shows the step, with the placeholder
    (run_folder,) = (tmp_path / "runs").iterdir()
    # What the boss reads afterwards: the report, the trajectory, `shain show --json`.
    for command in (["report", str(run_folder)], ["export", str(run_folder)]):
        assert run_shain(*command).returncode == 0
    shown = run_shain("show", str(run_folder), "--json")
    assert SECRET not in shown.stdout and "{SHAIN_TEST_SECRET}" in shown.stdout
    files = _all_bytes(run_folder)
    assert {"report.html", "trajectory.jsonl"} <= {path.name for path, _ in files}
    assert any(path.name == "events.jsonl" for path, _ in files)
    for path, content in files:
        for needle in (SECRET.encode(), SECRET.encode("unicode_escape")):
            assert needle not in content, f"the secret is in {path}"


def test_a_killed_run_reads_back_up_to_its_last_step(tmp_path: Path) -> None:
    process, environment = _start(_task(tmp_path, waits=40), tmp_path)
    deadline = time.monotonic() + 60
    events_file = None
    while time.monotonic() < deadline:
        found = list((tmp_path / "runs").glob("*/events.jsonl"))
        if found and found[0].read_text().count('"kind": "action_executed"') >= 5:
            events_file = found[0]
            break
        time.sleep(0.05)
    assert events_file is not None, "the run never got to its fifth step"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)

    record = read_run_json(events_file.parent)
    assert record.status == "incomplete" and record.summary is None
    executed = record.events_of("action_executed")
    assert len(executed) >= 5
    assert [event["step"] for event in executed] == sorted({e["step"] for e in executed})
    assert record.steps_completed == executed[-1]["step"]
    for observed in record.events_of("observed"):
        assert (events_file.parent / observed["frame"]).is_file()
    assert all(SECRET.encode() not in content for _, content in _all_bytes(events_file.parent))

    show = subprocess.run(
        [sys.executable, "-m", "agent", "show", str(events_file.parent)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert f"incomplete: the log ends after step {record.steps_completed}" in show.stdout

    left = left_behind(environment, timeout=10)
    assert not left, f"a SIGKILLed run left these behind: {left}"


def test_ctrl_c_stops_the_run_cleanly(tmp_path: Path) -> None:
    process, environment = _start(_task(tmp_path, waits=200), tmp_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = list((tmp_path / "runs").glob("*/events.jsonl"))
        if found and '"kind": "action_executed"' in found[0].read_text():
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)  # what Ctrl-C in the terminal sends
    stdout, _ = process.communicate(timeout=30)
    assert process.returncode == 3
    assert "stopped: stopped by SIGINT" in stdout
    (run_folder,) = (tmp_path / "runs").iterdir()
    record = read_run(run_folder)
    assert record.status == "stopped" and record.summary is not None
    assert record.summary["steps"] < 200
    left = left_behind(environment, timeout=10)
    assert not left, f"a stopped run left these behind: {left}"

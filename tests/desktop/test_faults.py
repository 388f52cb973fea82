"""Faults while a run works are outcomes the boss can read, not crashes.

Each test breaks something real under a running `shain run` (its screen, its app, its runs
folder, its model server, its terminal) once the run's own log shows it has taken some steps,
and then asserts what a boss would see: the exit code, one clear reason and no traceback, the
run's final event, the steps counted as taken, and no key or button left held on the X server.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.desktop.local import LocalDesktop
from agent.desktop.protocol import Desktop
from agent.desktop.screen import Screen
from agent.desktop.virtual_display import VirtualDisplay
from agent.record.status import RunStatus
from agent.run.session import TaskSession
from agent.stop import StopToken
from agent.taskfile.task import load_task_text
from tests.helpers import (
    REPO,
    environment_without_display,
    left_behind,
    living_processes,
    run_task,
)
from tests.model_server import Hang, ModelServer, Reply, Request, chat_tool_call
from tests.run_json import RunJson, read_run_json

pytestmark = pytest.mark.desktop

TERMINAL_TASK = """\
name: fault-task
setup:
  - launch: xterm -title fault-terminal
  - wait_for: {{window: "^fault-terminal$", timeout: 20}}
steps:
{steps}
checks:
  - command: {{run: "true"}}
"""


def _typing_steps(workdir: Path, count: int) -> str:
    """`count` times: a line typed into the terminal (appended to a file), then a short wait."""
    lines = []
    for number in range(1, count + 1):
        lines.append(f'  - type: "echo {number} >> {workdir}/typed\\n"')
        lines.append("  - wait: 0.3")
    return "\n".join(lines)


def _start(
    task_text: str, tmp_path: Path, *extra: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """`shain run TASK --json` as a user starts it; on a private screen unless `env` names one."""
    task = tmp_path / "task.yaml"
    task.write_text(task_text, encoding="utf-8")
    screen = [] if env and "DISPLAY" in env else ["--virtual-display"]
    return subprocess.Popen(
        [sys.executable, "-m", "agent", "run", str(task), *screen, "--json",
         "--runs-dir", str(tmp_path / "runs"), "--workdir", str(tmp_path / "work"), *extra],
        env=env or environment_without_display(), cwd=REPO, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def _events(runs_dir: Path) -> list[dict[str, Any]]:
    logs = list(runs_dir.glob("*/events.jsonl"))
    if not logs:
        return []
    events = []
    for line in logs[0].read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # the line being written
    return events


def _wait_for_event(
    runs_dir: Path, wanted: Callable[[dict[str, Any]], bool], timeout: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for event in _events(runs_dir):
            if wanted(event):
                return event
        time.sleep(0.05)
    raise AssertionError(f"the run never logged the event; it logged {_events(runs_dir)}")


def _executed(step: int) -> Callable[[dict[str, Any]], bool]:
    return lambda event: event.get("kind") == "action_executed" and event.get("step") == step


def _ended(process: subprocess.Popen[str], timeout: float = 60) -> tuple[int, dict[str, Any], str]:
    stdout, stderr = process.communicate(timeout=timeout)
    result = json.loads(stdout) if stdout.strip() else {}
    return process.returncode, result, stderr


def _nothing_held(display: str) -> None:
    """No key and no mouse button is down on this X server."""
    from Xlib import X
    from Xlib.display import Display

    connection = Display(display)
    try:
        keys = connection.query_keymap()
        pointer = connection.screen().root.query_pointer()
    finally:
        connection.close()
    assert not any(keys), f"keys still held: {[i for i, byte in enumerate(keys) if byte]}"
    buttons = X.Button1Mask | X.Button2Mask | X.Button3Mask | X.Button4Mask | X.Button5Mask
    assert not pointer.mask & buttons, f"a mouse button is still held: {pointer.mask:#x}"


def _final(record: RunJson) -> dict[str, Any]:
    """The run's last event, which must be its ending."""
    last = record.events[-1]
    assert last["kind"] == "run_finished", record.events[-3:]
    return last


def test_the_screen_dying_mid_run_ends_as_an_environment_error_at_its_step(
    tmp_path: Path,
) -> None:
    environment = environment_without_display()
    work = tmp_path / "work"
    process = _start(TERMINAL_TASK.format(steps=_typing_steps(work, 8)), tmp_path, env=environment)
    _wait_for_event(tmp_path / "runs", _executed(3))
    screens = living_processes({"Xvfb"}, marker=environment["SHAIN_TEST_MARKER"])
    assert len(screens) == 1, screens
    os.kill(next(iter(screens)), signal.SIGKILL)
    code, result, stderr = _ended(process)
    assert code == 4, (result, stderr)
    assert "Traceback" not in stderr
    assert result["status"] == "environment_error"
    step = result["steps"]
    assert step >= 3 and f"the screen went away at step {step}" in result["reason"]
    final = _final(read_run_json(Path(result["run_folder"])))
    assert (final["status"], final["steps"]) == ("environment_error", step)
    assert not left_behind(environment), "the run's apps, buses or window manager outlived it"


def test_an_app_killed_mid_run_fails_the_step_that_waits_for_its_window(tmp_path: Path) -> None:
    environment = environment_without_display()
    steps = "\n".join(
        ["  - wait: 0.3"] * 4 + ['  - wait_for: {window: "^fault-terminal$", timeout: 2}']
    )
    process = _start(TERMINAL_TASK.format(steps=steps), tmp_path, env=environment)
    _wait_for_event(tmp_path / "runs", _executed(1))
    terminals = living_processes({"xterm"}, marker=environment["SHAIN_TEST_MARKER"])
    assert len(terminals) == 1, terminals
    os.kill(next(iter(terminals)), signal.SIGKILL)
    code, result, stderr = _ended(process)
    assert code == 1 and "Traceback" not in stderr, (result, stderr)
    assert result["status"] == "failed" and "fault-terminal" in result["reason"], result
    assert result["steps"] == 5
    assert _final(read_run_json(Path(result["run_folder"])))["status"] == "failed"
    assert not left_behind(environment)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 8 MB file system (tmpfs) for the runs, so that it can be filled up."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "shain-test-disk", str(mount_point)],
        capture_output=True,
        text=True,
    )
    assert mounted.returncode == 0, f"the tests mount a small tmpfs (as root): {mounted.stderr}"
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(folder: Path) -> None:
    """Write until the file system holding `folder` has no byte left."""
    chunk = b"\0" * 65536
    with (folder / "filler").open("wb") as filler:
        try:
            while True:
                filler.write(chunk)
                filler.flush()
        except OSError:
            pass


def _typed_lines(work: Path) -> list[str]:
    typed = work / "typed"
    return typed.read_text().split() if typed.exists() else []


def _typing_decided(record: RunJson) -> int:
    return sum(
        1
        for event in record.events_of("decided")
        for action in event["actions"]
        if action["kind"] == "type"
    )


def test_a_runs_folder_that_fills_up_mid_run_stops_the_run_before_it_acts_unlogged(
    tmp_path: Path, small_disk: Path
) -> None:
    work = tmp_path / "work"
    runs = small_disk / "runs"
    task = TERMINAL_TASK.format(steps=_typing_steps(work, 8))
    process = _start(task, tmp_path, "--runs-dir", str(runs))
    _wait_for_event(runs, _executed(3))
    _fill(small_disk)
    code, result, stderr = _ended(process)
    assert code == 4 and "Traceback" not in stderr, (result, stderr)
    assert result["status"] == "environment_error"
    assert "cannot write the run log in" in result["reason"], result
    assert "No space left on device" in result["reason"]
    assert 3 < result["steps"] < 16
    # What was written reads back, and nothing was done that the log does not hold.
    (small_disk / "filler").unlink()
    record = read_run_json(Path(result["run_folder"]))
    assert len(record.events_of("action_executed")) >= 3
    assert 2 <= len(_typed_lines(work)) <= _typing_decided(record) < 8


def test_a_runs_folder_removed_mid_run_is_an_environment_error(tmp_path: Path) -> None:
    work = tmp_path / "work"
    process = _start(TERMINAL_TASK.format(steps=_typing_steps(work, 8)), tmp_path)
    _wait_for_event(tmp_path / "runs", _executed(3))
    shutil.rmtree(next((tmp_path / "runs").iterdir()))
    code, result, stderr = _ended(process)
    assert code == 4 and "Traceback" not in stderr, (result, stderr)
    assert "cannot write the run log in" in result["reason"], result
    assert 3 < result["steps"] < 16 and len(_typed_lines(work)) < 8
    assert not Path(result["run_folder"]).exists()  # not made again, half empty


@pytest.mark.parametrize("unwritable", ["a file", "a full disk"])
def test_a_runs_folder_that_cannot_be_written_stops_the_run_before_anything_starts(
    tmp_path: Path, small_disk: Path, unwritable: str
) -> None:
    if unwritable == "a file":
        runs = tmp_path / "runs-file"
        runs.write_text("not a folder")
    else:
        runs = small_disk / "runs"
        _fill(small_disk)
    task = "name: unloggable\nsetup:\n  - run: touch {workdir}/setup-ran\nsteps:\n  - wait: 0.1\n"
    started = time.monotonic()
    run = run_task(task, tmp_path, "--runs-dir", str(runs))
    assert run.code == 4 and "Traceback" not in run.stderr, run
    assert f"cannot write runs in {runs}" in run.stderr
    assert not (tmp_path / "work" / "setup-ran").exists()  # nothing was done
    assert time.monotonic() - started < 30


MODEL_TASK = """\
name: model-fault-task
goal: Type two lines into the terminal, then say done.
setup:
  - launch: xterm -title fault-terminal
  - wait_for: {window: "^fault-terminal$", timeout: 20}
budget: {max_steps: 10, max_seconds: 120}
"""


def _model_run(
    server: ModelServer, tmp_path: Path, config: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    (tmp_path / "config.toml").write_text(config)
    environment = {
        **(env or environment_without_display()),
        "OPENAI_API_KEY": "sk-test",
        "SHAIN_CONFIG": str(tmp_path / "config.toml"),
    }
    model = ("--policy", "openai-chat", "--model", "test-model", "--base-url", server.base_url)
    return _start(MODEL_TASK, tmp_path, *model, "--profile", "faults", env=environment)


def _type_reply(text: str) -> Any:
    return chat_tool_call("computer", {"type": "type", "text": text})


def test_a_model_server_that_goes_away_mid_run_is_an_environment_error_naming_it(
    tmp_path: Path,
) -> None:
    config = '[profiles.faults]\npolicy = "openai-chat"\nmax_retries = 2\n'
    with ModelServer() as server:
        server.script(_type_reply("echo one\n"), _type_reply("echo two\n"))
        process = _model_run(server, tmp_path, config)
        _wait_for_event(tmp_path / "runs", _executed(2))
        server.stop()  # from now on the port refuses
        code, result, stderr = _ended(process)
    assert code == 4 and "Traceback" not in stderr, (result, stderr)
    assert f"the model at {server.base_url} failed 3 times" in result["reason"], result
    assert result["steps"] == 3
    record = read_run_json(Path(result["run_folder"]))
    assert len(record.events_of("model_retried")) == 2
    assert (_final(record)["status"], _final(record)["steps"]) == ("environment_error", 3)


def test_an_app_killed_under_a_model_run_is_what_the_model_sees_next(tmp_path: Path) -> None:
    environment = environment_without_display()

    def kill_the_terminal(_: Request) -> Reply:
        terminals = living_processes({"xterm"}, marker=environment["SHAIN_TEST_MARKER"])
        assert len(terminals) == 1, terminals
        os.kill(next(iter(terminals)), signal.SIGKILL)
        return chat_tool_call("computer", {"type": "wait"})

    config = '[profiles.faults]\npolicy = "openai-chat"\n'
    with ModelServer() as server:
        done = chat_tool_call("done", {"summary": "the terminal is gone"})
        server.script(_type_reply("echo one\n"), kill_the_terminal, done)
        code, result, stderr = _ended(_model_run(server, tmp_path, config, environment))
    assert code == 0 and "Traceback" not in stderr, (result, stderr)
    assert result["steps"] == 3 and not server.errors
    # The screenshot after the kill is not the one before: the terminal is gone from it.
    before, after = (server.requests[index].images()[-1] for index in (1, 2))
    assert before != after
    assert not left_behind(environment)


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_during_a_wait_for_the_model_stops_the_run_at_once(
    tmp_path: Path, signal_number: signal.Signals
) -> None:
    config = '[profiles.faults]\npolicy = "openai-chat"\ntimeout_seconds = 60\n'
    with ModelServer() as server:
        server.script(_type_reply("echo one\n"), Hang(60))
        process = _model_run(server, tmp_path, config)
        _wait_for_event(tmp_path / "runs", _executed(1))
        deadline = time.monotonic() + 30
        while len(server.requests) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # the request is on its way, and the server sits on it
        sent = time.time()
        process.send_signal(signal_number)
        code, result, stderr = _ended(process)
    assert code == 3 and "Traceback" not in stderr, (result, stderr)
    name = signal.Signals(signal_number).name
    assert (result["status"], result["reason"]) == ("stopped", f"stopped by {name}")
    assert result["steps"] == 2
    final = _final(read_run_json(Path(result["run_folder"])))
    # The 100 ms is measured in bench/stop_latency.py; here a bound a loaded machine keeps.
    assert final["at"] - sent < 1.0, final["at"] - sent


def _long_typing_task(workdir: Path) -> str:
    # Capitals are typed with shift held down: a stop between its press and release must
    # not leave it held.
    text = "ECHO SHAIN " * 300  # about 3 s of typing
    return TERMINAL_TASK.format(steps=f'  - type: "{text}"\n  - wait: 5')


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_mid_typing_stops_cleanly_and_leaves_no_key_held(
    virtual_display: VirtualDisplay, tmp_path: Path, signal_number: signal.Signals
) -> None:
    environment = {**environment_without_display(), "DISPLAY": virtual_display.display}
    process = _start(_long_typing_task(tmp_path / "work"), tmp_path, env=environment)
    _wait_for_event(tmp_path / "runs", lambda event: event.get("kind") == "decided")
    time.sleep(0.3)  # in the middle of the typing
    process.send_signal(signal_number)
    code, result, stderr = _ended(process)
    assert code == 3 and "Traceback" not in stderr, (result, stderr)
    assert result["reason"] == f"stopped by {signal.Signals(signal_number).name}"
    assert result["steps"] == 1
    record = read_run_json(Path(result["run_folder"]))
    assert _final(record)["status"] == "stopped"
    assert record.events_of("action_executed") == []  # stopped inside it
    _nothing_held(virtual_display.display)


class _BuggyDesktop:
    """The real desktop, with a bug in it at the second action (what a bug anywhere in a run
    looks like to the session: an exception that is not one of Shain's errors)."""

    def __init__(self, desktop: Desktop) -> None:
        self.desktop = desktop
        self.actions = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.desktop, name)

    def execute(self, action: Any, stop: StopToken) -> None:
        self.actions += 1
        if self.actions == 2:
            raise ZeroDivisionError("division by zero")
        self.desktop.execute(action, stop)


def test_an_unexpected_exception_names_its_step_and_the_run_folder(
    app_screen: Screen, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    text = "name: buggy\nsteps:\n  - wait: 0.1\n  - wait: 0.1\n  - wait: 0.1\n"
    loaded = load_task_text(text, "buggy.yaml", builtins={"workdir": str(work)})
    session = TaskSession(
        loaded,
        app_screen,
        runs_dir=tmp_path / "runs",
        workdir=work,
        open_desktop=lambda screen: _BuggyDesktop(LocalDesktop(screen)),  # type: ignore[arg-type,return-value]
    )
    with pytest.raises(ZeroDivisionError) as raised:
        session.run()
    assert raised.value.__notes__ == [f"in the run at step 2; its folder: {session.run_folder}"]
    record = read_run_json(session.run_folder)
    final = _final(record)
    assert final["status"] == RunStatus.CRASHED.value and final["steps"] == 2
    assert final["reason"] == "internal error at step 2: ZeroDivisionError: division by zero"

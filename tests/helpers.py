"""Helpers for tests that run the real `shain` command and look at what it left behind."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.desktop.processes import all_processes

REPO = Path(__file__).resolve().parent.parent
MARKER = "SHAIN_TEST_MARKER"
ARTIFACTS = REPO / "artifacts"

# Programs a run may start: the virtual screen, its window manager and bus, and the apps.
RUN_PROGRAMS = frozenset(
    {
        "Xvfb",
        "openbox",
        "dbus-daemon",
        "at-spi-bus-laun",
        "at-spi2-registr",
        "mousepad",
        "galculator",
        "xterm",
        "zenity",
        "pcmanfm",
        "dconf-service",
        "xclip",
    }
)


def run_shain(
    *arguments: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """The real `shain` command in a subprocess, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "agent", *arguments],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=REPO,
    )


@dataclass(frozen=True)
class TaskRun:
    """What `shain run --virtual-display --json` said and left: its exit code, the JSON object
    it printed ({} when it printed none), its stderr, and how long it took."""

    code: int
    result: dict[str, Any]
    stderr: str
    seconds: float

    @property
    def run_folder(self) -> Path:
        return Path(str(self.result["run_folder"]))


def run_task(
    task: Path | str,
    tmp_path: Path,
    *extra: str,
    env: Mapping[str, str] | None = None,
    workdir: str = "work",
    runs_dir: Path | None = None,
    leaves_nothing: bool = True,
    timeout: float = 120,
) -> TaskRun:
    """`shain run TASK --virtual-display --json` in a subprocess, as a user runs it.

    `task` is a task file, or the text of one (written to tmp_path/task.yaml). Runs go to
    `runs_dir` (default tmp_path/runs), the workdir is tmp_path/`workdir`; `env` is added to an
    environment without a display. With `leaves_nothing`, asserts that no process of the run
    (screen, window manager, buses, apps) outlives it.
    """
    if isinstance(task, str):
        path = tmp_path / "task.yaml"
        path.write_text(task, encoding="utf-8")
        task = path
    environment = {**environment_without_display(), **(env or {})}
    started = time.monotonic()
    completed = run_shain(
        "run", str(task), "--virtual-display", "--json",
        "--runs-dir", str(runs_dir or tmp_path / "runs"), "--workdir", str(tmp_path / workdir),
        *extra, env=environment, timeout=timeout,
    )  # fmt: skip
    seconds = time.monotonic() - started
    if leaves_nothing:
        left = left_behind(environment)
        assert not left, f"processes of the run still alive after it ended: {left}"
    result = json.loads(completed.stdout) if completed.stdout.strip() else {}
    return TaskRun(completed.returncode, result, completed.stderr, seconds)


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    name: str
    group: int  # its process group

    @property
    def path(self) -> Path:
        return Path("/proc") / str(self.pid)


def process_table() -> list[ProcessInfo]:
    """Every living process (zombies left out), read from /proc."""
    return [ProcessInfo(p.pid, p.name, p.group) for p in all_processes()]


def living_processes(
    names: Iterable[str] = RUN_PROGRAMS, marker: str | None = None
) -> dict[int, str]:
    """pid -> name of the processes with one of these names that are alive (not zombies);
    with `marker`, only those started under an environment made by environment_without_display
    with that marker (children inherit it), so other runs on the machine do not count."""
    wanted = set(names)
    return {
        process.pid: process.name
        for process in process_table()
        if process.name in wanted and _carries(process.path, marker)
    }


def group_members(group: int) -> dict[int, str]:
    """pid -> name of the living processes in a process group."""
    return {process.pid: process.name for process in process_table() if process.group == group}


def _carries(process: Path, marker: str | None) -> bool:
    if marker is None:
        return True
    try:
        return f"{MARKER}={marker}".encode() in (process / "environ").read_bytes().split(b"\0")
    except OSError:
        return False


def wait_until_gone(pids: Iterable[int], timeout: float = 5.0) -> dict[int, str]:
    """Of these pids, the ones still alive (not zombies) after up to `timeout` seconds."""
    remaining = set(pids)
    deadline = time.monotonic() + timeout
    while True:
        alive = {pid: name for pid, name in living_processes().items() if pid in remaining}
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


def left_behind(environment: dict[str, str], timeout: float = 5.0) -> dict[int, str]:
    """The processes of a finished run (started with `environment`) still alive after up to
    `timeout` seconds: the screen, its window manager and bus, the apps."""
    return wait_until_gone(living_processes(marker=environment[MARKER]), timeout)


def environment_without_display() -> dict[str, str]:
    """The environment for a `shain` subprocess: no display, and a marker its children inherit."""
    environment = dict(os.environ)
    environment.pop("DISPLAY", None)
    environment.pop("WAYLAND_DISPLAY", None)
    environment[MARKER] = uuid.uuid4().hex
    return environment


@contextlib.contextmanager
def key_presses(display_name: str, settle_seconds: float = 0.3) -> Iterator[list[float]]:
    """The times (monotonic) of every key press the X server delivers while the block runs,
    seen by an X RECORD listener: what an app would receive, not what Shain believes it sent."""
    from pynput import keyboard
    from Xlib.display import Display

    presses: list[float] = []
    listener = keyboard.Listener(on_press=lambda *_: presses.append(time.monotonic()))
    listener.start()
    listener.wait()
    try:
        yield presses
    finally:
        time.sleep(settle_seconds)  # let the listener receive what the server still had
        listener.stop()
        # pynput's join waits for one more input event: end its RECORD context from a second
        # connection, so the listener thread ends now (and not later, when the screen dies).
        control = Display(display_name)
        control.record_disable_context(listener._context)
        control.sync()
        control.close()
        listener.join(2)


@contextlib.contextmanager
def device_events(display_name: str) -> Iterator[list[tuple[str, int]]]:
    """Every key, button and pointer-motion event the X server of `display_name` processes
    while the block runs, as (kind, detail), seen by an X RECORD context (`shain record`'s
    listener): whatever a user's apps there could receive, whoever sent it."""
    from agent.learn.recorder import ButtonInput, InputEvent, InputListener, KeyInput

    seen: list[tuple[str, int]] = []

    def received(event: InputEvent) -> None:
        match event:
            case KeyInput(pressed=pressed, keycode=keycode):
                seen.append(("key press" if pressed else "key release", keycode))
            case ButtonInput(pressed=pressed, button=button):
                seen.append(("button press" if pressed else "button release", button))
            case _:
                seen.append(("motion", 0))

    listener = InputListener(display_name, received).start()
    time.sleep(0.2)
    try:
        yield seen
    finally:
        time.sleep(0.3)  # what the server still had
        listener.stop()


def side_by_side(
    cases: Iterable[str], check: Callable[[str, Path], None], tmp_path: Path, at_once: int = 3
) -> None:
    """`check(case, folder)` for every case, `at_once` of them side by side (each run is a
    process on a screen of its own, mostly waiting for its screen to settle), each in a folder
    of its own; one failure listing every case that failed."""

    def attempt(case: str) -> str | None:
        folder = tmp_path / case
        folder.mkdir()
        try:
            check(case, folder)
        except AssertionError as failure:
            return f"{case}: {failure}"
        return None

    with ThreadPoolExecutor(at_once) as pool:
        failures = [failure for failure in pool.map(attempt, cases) if failure is not None]
    assert not failures, "\n".join(failures)

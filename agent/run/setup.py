"""A task's setup, before the first step: apps launched, commands run, files written, and
waits until windows, files or things on the screen are there."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from agent.desktop.apps import AppLauncher
from agent.desktop.protocol import Desktop
from agent.desktop.screen import Screen
from agent.desktop.settle import fingerprint, wait_until_settled
from agent.desktop.windows import list_windows
from agent.errors import EnvironmentProblem
from agent.perception.conditions import NewWindow, wait_for
from agent.perception.locator import Locator
from agent.record.events import Event, SetupDone
from agent.stop import StopToken
from agent.taskfile.items import LaunchStep, RunStep, SetupStep, WaitForStep, WriteFileStep


def run_setup_command(
    command: str, timeout: float, environment: Mapping[str, str], workdir: Path
) -> None:
    """A setup `run:`: a shell command in the task's workdir that must succeed."""
    try:
        result = subprocess.run(
            command,
            shell=True,
            cwd=workdir,
            env=dict(environment),
            capture_output=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise EnvironmentProblem(
            f"setup run {command!r} did not finish within {timeout:g}s"
        ) from None
    if result.returncode != 0:
        output = result.stderr.decode("utf-8", "replace").strip()[-500:]
        raise EnvironmentProblem(
            f"setup run {command!r} exited with {result.returncode}"
            + (f": {output}" if output else "")
        )


def run_setup(
    setup: Sequence[SetupStep],
    *,
    screen: Screen,
    desktop: Desktop,
    launcher: AppLauncher,
    workdir: Path,
    locator: Locator | None,
    stop: StopToken,
    emit: Callable[[Event], None],
) -> None:
    """Each setup step in order, each logged as done; then wait for the screen to come to rest.
    A step that cannot be done raises (an EnvironmentProblem for an app or a command)."""
    if not setup:
        return
    for item in setup:
        before = time.monotonic()
        match item:
            case LaunchStep(launch=spec):
                windows = list_windows(screen.display) if spec.window is not None else []
                known = frozenset(window.window_id for window in windows)
                launcher.launch(spec.command, cwd=spec.cwd, env=spec.env)
                description = f"launch {spec.command}"
                if spec.window is not None:
                    waited = NewWindow(repr(spec.command), known)
                    wait_for(waited, spec.window, stop, screen)
                    description += " (its window is open)"
            case RunStep(run=spec):
                run_setup_command(spec.command, spec.timeout, screen.environment, workdir)
                description = f"run {spec.command}"
            case WriteFileStep(write_file=spec):
                path = workdir / spec.path  # an absolute path stays as it is
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(spec.text, encoding="utf-8")
                description = f"write_file {path}"
            case WaitForStep(wait_for=spec):
                condition = spec.condition(locator)
                wait_for(condition, spec.timeout, stop, screen)
                description = f"wait_for {condition.describe()}"
        emit(SetupDone(description, time.monotonic() - before))
    # A window's title shows before the app has drawn and taken the focus: let the
    # screen come to rest before the first step acts on it.
    settle = wait_until_settled(
        desktop.capture, fingerprint(desktop.capture()), stop, drawing=desktop.drawing
    )
    emit(SetupDone("screen at rest", settle.seconds))

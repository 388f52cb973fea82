"""`shain run`: one task file on this desktop or a private virtual screen, a line per step."""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import signal
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from secrets import token_hex
from typing import TYPE_CHECKING

from agent.desktop.screen import Screen
from agent.errors import ConfigError
from agent.geometry import Size
from agent.record.log import default_runs_dir, find_run
from agent.stop import StopToken, relay_signals
from agent.taskfile.items import LaunchSpec, LaunchStep
from agent.taskfile.task import LoadedTask

if TYPE_CHECKING:
    from agent.run.session import TaskSession
    from agent.run.steering import Steering


def _parse_vars(pairs: Sequence[str]) -> dict[str, str]:
    variables = {}
    for pair in pairs:
        name, separator, value = pair.partition("=")
        if not separator or not name.strip():
            raise ConfigError(f"--var {pair!r}: expected NAME=VALUE")
        variables[name.strip()] = value
    return variables


def _parse_size(text: str) -> Size:
    width, _, height = text.lower().partition("x")
    try:
        size = Size(int(width), int(height))
    except ValueError:
        raise ConfigError(f"--size {text!r}: expected WIDTHxHEIGHT, like 1920x1080") from None
    if not (64 <= size.width <= 8192 and 64 <= size.height <= 8192):
        raise ConfigError(f"--size {text!r}: each side must be between 64 and 8192")
    return size


APP_WINDOW_SECONDS = 30.0


def _with_apps(loaded: LoadedTask, commands: Sequence[str]) -> LoadedTask:
    """The task with these apps launched first, each waited for until its window is open."""
    launches = [
        LaunchStep(launch=LaunchSpec(command=command, window=APP_WINDOW_SECONDS))
        for command in commands
    ]
    task = loaded.task.model_copy(update={"setup": [*launches, *loaded.task.setup]})
    return replace(loaded, task=task)


def _stop_on_signals(stop: StopToken) -> contextlib.AbstractContextManager[None]:
    """First Ctrl-C (or SIGTERM, or SIGHUP: the terminal closed) stops the run cleanly, with
    its final event and exit 3; a second one interrupts at once."""
    return relay_signals(
        (signal.SIGINT, signal.SIGTERM, signal.SIGHUP),
        lambda received: stop.stop(f"stopped by {received.name}"),
        interrupt_if=lambda: stop.stopped,
    )


@contextlib.contextmanager
def _screen(args: argparse.Namespace) -> Iterator[Screen]:
    """The screen to work on: the desktop this command runs on, or a private virtual one."""
    if not args.virtual_display:
        yield Screen.of_this_session()
        return
    from agent.desktop.apps import private_screen

    with private_screen(_parse_size(args.size), documents=args.workdir) as screen:
        yield screen


@contextlib.contextmanager
def _watchable(steering: Steering | None, session: TaskSession, screen: Screen) -> Iterator[None]:
    """The run's control channel open, and `live.json` saying where, while the block runs."""
    if steering is None:
        yield
        return
    from agent.run.control import socket_folder
    from agent.run.live import LiveRun, remove_live, write_live

    folder = session.run_folder
    if steering.path == Path():
        steering.path = socket_folder() / f"{folder.name}.sock"
    size = screen.size or Size(0, 0)
    live = LiveRun(os.getpid(), screen.display, size.width, size.height, str(steering.path),
                   screen.private)  # fmt: skip
    hello = {"run_id": folder.name, "run_folder": str(folder), "task": session.loaded.task.name,
             "goal": session.loaded.task.goal, **asdict(live)}  # fmt: skip
    steering.start(hello, session.bus.emit)
    write_live(folder, live)
    try:
        yield
    finally:
        remove_live(folder)
        steering.close()


def command(args: argparse.Namespace) -> int:
    from agent.cli.policy_choice import run_profile
    from agent.config.profiles import load_config
    from agent.desktop.local import LocalDesktop
    from agent.policy.choose import PolicyRequest
    from agent.record.console import ConsoleSink
    from agent.run.session import TaskSession
    from agent.taskfile.task import load_task

    profile = run_profile(load_config(), args, lambda note: print(note, file=sys.stderr))
    replay = find_run(args.replay, args.runs_dir or default_runs_dir()) if args.replay else None
    overrides = _parse_vars(args.var)
    # Named now (the task file refers to it), made only once the run really starts.
    workdir = args.workdir or Path(tempfile.gettempdir()) / f"shain-work-{token_hex(4)}"
    args.workdir = workdir
    builtins = {"workdir": str(workdir)}
    loaded = load_task(args.task, overrides=overrides, builtins=builtins, seed=args.seed)
    oracle = None
    if args.oracle_seed is not None:
        other = load_task(args.task, overrides=overrides, builtins=builtins, seed=args.oracle_seed)
        oracle = other.task.oracle
    if args.app:
        loaded = _with_apps(loaded, args.app)
    limits = {"max_steps": args.max_steps, "max_seconds": args.max_seconds}
    changes = {name: value for name, value in limits.items() if value is not None}
    if changes:
        budget = loaded.task.budget.model_copy(update=changes)
        loaded = replace(loaded, task=loaded.task.model_copy(update={"budget": budget}))
    runs_dir = args.runs_dir or default_runs_dir()
    progress = sys.stderr if args.json else sys.stdout
    stop = StopToken()
    request = PolicyRequest(profile, replay, oracle, heal=args.heal)
    steering = None
    if args.control is not None or args.virtual_display:
        from agent.run.steering import Steering

        # A watcher (the office, `shain watch`) can follow and steer the run through it.
        steering = Steering(args.control or Path(), stop, pause_after=args.pause_after)
    with _stop_on_signals(stop), _screen(args) as screen:
        workdir.mkdir(mode=0o700, parents=True, exist_ok=True)  # once there is a screen
        session = TaskSession(
            loaded,
            screen,
            runs_dir=runs_dir,
            workdir=workdir,
            policy=request,
            sinks=[ConsoleSink(progress), *([steering] if steering else [])],
            stop=stop,
            approver=steering.approve if steering and args.ask_boss else None,
            ask_boss=steering.ask if steering and args.ask_boss else None,
            notes=steering.notes if steering else None,
            open_desktop=functools.partial(LocalDesktop, monitor=args.monitor),
            run_id=args.run_id,
        )
        with _watchable(steering, session, screen):
            result = session.run()
            if steering is not None and args.keep_screen:
                steering.wait_for_close()
    if args.json:
        print(
            json.dumps(
                {
                    "status": result.status,
                    "exit_code": result.exit_code,
                    "reason": result.reason,
                    "declared": result.declared,
                    "steps": result.steps,
                    "seconds": round(result.seconds, 3),
                    "input_tokens": result.spent.input_tokens,
                    "output_tokens": result.spent.output_tokens,
                    "cost_usd": round(result.spent.cost_usd, 6),
                    "run_folder": str(result.run_folder),
                    "workdir": str(workdir),
                    "checks": [
                        {"check": c.description, "passed": c.passed, "detail": c.detail}
                        for c in result.checks
                    ],
                },
                ensure_ascii=False,
            )
        )
    else:
        spent = result.spent
        tokens = f", {spent.tokens} tokens, ${spent.cost_usd:.4f}" if spent.tokens else ""
        print(
            f"{result.status}: {result.reason} ({result.steps} steps, {result.seconds:.1f}s"
            f"{tokens}) — run folder {result.run_folder}"
        )
    return result.exit_code

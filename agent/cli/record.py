"""`shain record -o FILE`: the boss shows how on the screen; the task file that does it again."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from agent.desktop.screen import Screen
from agent.stop import relay_signals


def add_parsers(commands: Any) -> None:
    record = commands.add_parser(
        "record",
        help="record the boss doing a task on the screen, as a task file",
        description="Record the keyboard and mouse on the display Shain was started on (or "
        "--display) until Ctrl-C (SIGINT) or SIGTERM, and write a task file that does it "
        "again: clicks by the element they hit (role, name, window), typing as vars, "
        "password fields as secrets, and setup that launches the apps used. Checks are "
        "yours to add.",
        epilog="exit codes: 0 written; 2 nothing was done (nothing written), or the file "
        "cannot be written; 4 the display cannot be opened or has no RECORD extension",
    )
    record.add_argument("-o", "--output", type=Path, required=True, help="the task file to write")
    record.add_argument("--display", help="the X display to record, like :1 (default: $DISPLAY)")


def record_command(args: argparse.Namespace) -> int:
    from agent.learn.recording import record_demonstration

    screen = Screen.of_this_session() if args.display is None else _named_screen(args.display)
    stop = threading.Event()
    with relay_signals((signal.SIGINT, signal.SIGTERM), lambda _: stop.set()):
        recording = record_demonstration(
            screen,
            args.output,
            stop,
            on_ready=lambda: print(
                f"recording display {screen.display}: show the task, then press Ctrl-C",
                file=sys.stderr,
                flush=True,
            ),
        )
    recorded = recording.recorded
    notes = [f"{len(recorded.variables)} vars" if recorded.variables else ""]
    if recorded.secrets:
        notes.append(f"secrets {', '.join(recorded.secrets)} (set them in the environment)")
    if recorded.points:
        notes.append(f"{recorded.points} clicks as points (see their comments)")
    reads = recording.describe_reads()
    print(
        f"{recorded.steps} steps recorded to {recorded.path}"
        + "".join(f"; {note}" for note in notes if note)
        + (f" ({reads})" if reads else "")
    )
    return 0


def _named_screen(display: str) -> Screen:
    import os

    return Screen.of_this_session({**os.environ, "DISPLAY": display})


HANDLERS = {"record": record_command}

"""`shain tray`'s command line: the tray app with what it is given to do first."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QTimer

from agent.config.profiles import load_config, resolve_profile
from agent.desktop.boss_input import DEFAULT_HOTKEY
from agent.errors import AgentError
from agent.record.log import default_runs_dir
from ui.office.hiring import order_for
from ui.tray.app import TrayApp
from ui.tray.approval_card import DEFAULT_TIMEOUT_SECONDS
from ui.tray.request import OwnScreen, make_request
from ui.widgets.application import run_until_quit, shain_application


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shain tray", description=__doc__)
    parser.add_argument("--runs-dir", type=Path, help="where run folders go")
    parser.add_argument(
        "--run", type=Path, action="append", default=[], help="queue a task file on this desktop"
    )
    parser.add_argument(
        "--office",
        type=Path,
        action="append",
        default=[],
        metavar="TASK",
        help="give a task file to an employee on a screen of its own (repeatable)",
    )
    parser.add_argument("--profile", help="the config profile for --run and --office tasks")
    parser.add_argument(
        "--policy", help="the policy for --run and --office tasks (e.g. oracle, openai-chat)"
    )
    parser.add_argument(
        "--hotkey", help=f"the global stop hotkey (default: the config's, else {DEFAULT_HOTKEY})"
    )
    parser.add_argument("--exit-when-idle", action="store_true", help="quit when the queue empties")
    parser.add_argument("--window", action="store_true", help="the control window, not the tray")
    parser.add_argument(
        "--approval-timeout",
        type=float,
        default=DEFAULT_TIMEOUT_SECONDS,
        help="seconds an approval card waits for an answer before it pauses the task",
    )
    return parser


def _print_geometry(tray: TrayApp) -> None:
    """Where the icon sits on the screen (for scripts that click it)."""
    if tray.tray is not None:
        box = tray.tray.geometry()
        print(f"tray geometry: {box.x()} {box.y()} {box.width()} {box.height()}", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    app = shain_application()
    app.setQuitOnLastWindowClosed(False)
    runs_dir = args.runs_dir or default_runs_dir()
    try:
        config = load_config()
        profile = resolve_profile(config, args.profile, policy=args.policy)
        name = args.profile or "default"
        requests = [make_request(path=path, profile=profile) for path in args.run]
        requests += [
            make_request(path=path, profile=profile, profile_name=name, own_screen=OwnScreen())
            for path in args.office
        ]
    except AgentError as error:
        print(f"shain tray: {error}", file=sys.stderr)
        return error.exit_code
    tray = TrayApp(
        runs_dir,
        hotkey=args.hotkey or config.stop_hotkey,
        hotkey_from_config=args.hotkey is None,
        use_tray=False if args.window else None,
        exit_when_idle=args.exit_when_idle,
        approval_timeout=args.approval_timeout,
        config=config,
    )
    print(f"system tray available: {tray.tray_available}", flush=True)
    if tray.tray is not None:
        QTimer.singleShot(1000, lambda: _print_geometry(tray))
    for request in requests:
        if request.own_screen is not None and args.policy:
            policy = (
                "--policy",
                args.policy,
                *(("--profile", args.profile) if args.profile else ()),
            )
            tray.hire(order_for(request, runs_dir, config, policy), request.label)
        else:
            tray.enqueue(request)
    if args.exit_when_idle and not requests:
        QTimer.singleShot(0, tray.quit_app)
    return run_until_quit(app, on_signal=tray.quit_app)

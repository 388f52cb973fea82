"""The `shain` command (also `python -m agent`)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import get_args

from agent import __version__
from agent.benchmark import runs as benchmark
from agent.cli import fleet, learn, record, records, run
from agent.config.profiles import PolicyName
from agent.errors import AgentError, ConfigError, EnvironmentProblem
from agent.record.log import default_runs_dir, find_run

EXIT_CODES = """exit codes:
  0  success: every check holds
  1  the checks failed or the agent gave up
  2  bad input: unreadable task file, unknown key, bad --var
  3  stopped by the boss (Ctrl-C) or by a budget
  4  environment error: no display, an app would not start
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shain",
        description="Shain (社員), a desktop AI employee: runs tasks on a screen, logs each step.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"shain {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = commands.add_parser(
        "run",
        help="run a task file",
        description="Run a task file: setup, steps, checks. Prints a line per step.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("task", type=Path, help="the task file (YAML)")
    run.add_argument(
        "--virtual-display",
        action="store_true",
        help="run on a private virtual screen (Xvfb, openbox, a session bus and an "
        "accessibility bus) that is "
        "torn down afterwards; apps get a fresh profile (HOME and XDG folders)",
    )
    run.add_argument(
        "--size", default="1920x1080", help="virtual screen size, WIDTHxHEIGHT (default 1920x1080)"
    )
    run.add_argument(
        "--app",
        action="append",
        default=[],
        metavar="COMMAND",
        help="start this app first and wait for its window (repeatable; with "
        "--virtual-display, before the task's own setup)",
    )
    run.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a task variable (repeatable); overrides the task file's vars",
    )
    run.add_argument(
        "--seed",
        type=int,
        default=0,
        help="picks the values of the task's `params` (default 0); the same seed gives the "
        "same task",
    )
    run.add_argument(
        "--max-steps", type=_positive, help="cap the task's step budget (budget.max_steps)"
    )
    run.add_argument(
        "--max-seconds", type=_positive, help="the task's time budget (budget.max_seconds)"
    )
    run.add_argument(
        "--oracle-seed",
        type=int,
        metavar="SEED",
        help="with --policy oracle: solve the task as SEED would set it (a benchmark control: "
        "the checks must tell the seeds apart)",
    )
    model = run.add_argument_group(
        "model",
        "for goal-only tasks and `ai:` steps; defaults come from the profile in "
        "~/.config/shain/config.toml (SHAIN_CONFIG to change); the key from $OPENAI_API_KEY",
    )
    model.add_argument("--profile", help="a named profile from the config file")
    model.add_argument(
        "--policy",
        choices=get_args(PolicyName),
        help="how to decide: a task file's script, a model and its output format, or a "
        "benchmark control (oracle: the task's own solution; do-nothing: says done at once); "
        "default: picked from --model's name when it is given",
    )
    model.add_argument(
        "--model",
        help="the model name the endpoint knows; without --policy its name picks the policy "
        "(README: models)",
    )
    model.add_argument(
        "--marks",
        action="store_true",
        default=None,
        help="set-of-marks (openai-chat): number the actionable elements on each screenshot "
        "and let the model click a number",
    )
    model.add_argument(
        "--heal",
        action="store_true",
        help="a scripted step whose target is gone (or whose wait_for times out) is handed to "
        "the model; the script then goes on, and a repaired task file is proposed beside it",
    )
    model.add_argument(
        "--replay",
        metavar="RUN",
        help="replay the decisions of an earlier run (an id, a prefix, a folder or 'last') "
        "instead of asking a model",
    )
    model.add_argument(
        "--base-url",
        help="an OpenAI-compatible endpoint, e.g. http://localhost:11434/v1 "
        "(default: $OPENAI_BASE_URL, else OpenAI)",
    )
    run.add_argument(
        "--monitor", type=_positive, help="the monitor to work on, 1 to N (default: the primary)"
    )
    run.add_argument("--runs-dir", type=Path, help="where run folders go (default: user data dir)")
    run.add_argument(
        "--run-id", help="name the run folder this (it must be new); the fleet names its runs"
    )
    run.add_argument(
        "--workdir", type=Path, help="the task's {workdir} (default: a new private temp folder)"
    )
    run.add_argument(
        "--json", action="store_true", help="print the result as one JSON object on stdout"
    )
    watched = run.add_argument_group(
        "watching and steering",
        "a run on a private screen serves a control channel: `shain watch RUN` (or the "
        "office) follows it live, pauses, stops and takes it over",
    )
    watched.add_argument(
        "--control",
        type=Path,
        metavar="SOCKET",
        help="serve the control channel at this path (default with --virtual-display: a "
        "private folder of yours, named by the run)",
    )
    watched.add_argument(
        "--ask-boss",
        action="store_true",
        help="approvals and the model's questions wait for a watcher's answer instead of the "
        "task file's `approvals:` (a model's question otherwise ends the run)",
    )
    watched.add_argument(
        "--pause-after",
        type=float,
        metavar="SECONDS",
        help="with --ask-boss: a question unanswered this long pauses the run (it still waits)",
    )
    watched.add_argument(
        "--keep-screen",
        action="store_true",
        help="when the task ends, keep its private screen until a watcher closes it",
    )

    runs = commands.add_parser("runs", help="list past runs, newest first")
    runs.add_argument("--runs-dir", type=Path)
    runs.add_argument("--limit", type=_positive, default=20, help="how many (default 20)")
    runs.add_argument("--json", action="store_true")

    show = commands.add_parser("show", help="print the steps of a run")
    show.add_argument("run", help="a run id, a unique prefix of one, a run folder, or 'last'")
    show.add_argument("--runs-dir", type=Path)
    show.add_argument("--json", action="store_true", help="the whole run log as JSON")

    export = commands.add_parser(
        "export", help="write a run as a trajectory: one JSON line per step"
    )
    export.add_argument("run", help="a run id, a unique prefix of one, a run folder, or 'last'")
    export.add_argument("-o", "--output", type=Path, help="default: <run folder>/trajectory.jsonl")
    export.add_argument("--runs-dir", type=Path)

    report = commands.add_parser("report", help="write a run as one self-contained HTML page")
    report.add_argument("run", help="a run id, a unique prefix of one, a run folder, or 'last'")
    report.add_argument("-o", "--output", type=Path, help="default: <run folder>/report.html")
    report.add_argument("--runs-dir", type=Path)

    tray = commands.add_parser(
        "tray",
        help="the tray icon: new tasks, the queue, pause and stop (shain tray --help)",
        add_help=False,  # its options are the tray app's own: --help shows them
    )
    tray.add_argument("tray_arguments", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)

    logs = commands.add_parser("logs", help="browse run logs in a window (follows live runs)")
    logs.add_argument("run", nargs="?", help="a run id, a prefix, a run folder, or 'last'")
    logs.add_argument("--runs-dir", type=Path)

    watch = commands.add_parser(
        "watch",
        help="watch a run that is going on, live: pause, stop or take over its screen",
        description="Open a window on a run that is going on (`shain run --virtual-display`): "
        "its screen live with its last action drawn on it, its steps and thoughts, and "
        "Pause/Resume, Stop and Take over/Hand back. While you have taken the screen over, "
        "your mouse and keys in the picture act on it (text from your input method too) and "
        "the run waits; Hand back (or closing the window) lets it go on.",
        epilog="exit codes: 0 the window was closed; 2 no such run, or it has ended (`shain "
        "show RUN` shows an ended run); 4 no desktop to open the window on",
    )
    watch.add_argument("run", help="a run id, a unique prefix of one, a run folder, or 'last'")
    watch.add_argument(
        "--runs-dir", type=Path, help="where run folders are (default: user data dir)"
    )

    commands.add_parser("schema", help="print the JSON Schema of task files")
    benchmark.add_parser(commands)
    fleet.add_parsers(commands)
    learn.add_parsers(commands)
    record.add_parsers(commands)
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def _need_a_desktop(what: str) -> None:
    if not any(os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")):
        # Qt aborts the process without a display instead of raising.
        raise EnvironmentProblem(f"no display: {what} needs a desktop session")


def _command_logs(args: argparse.Namespace) -> int:
    runs_dir = args.runs_dir or default_runs_dir()
    run = find_run(args.run, runs_dir) if args.run else None
    _need_a_desktop("the log viewer")
    from ui.log_viewer import main as log_viewer  # the core never imports Qt; this is ui

    return log_viewer(run, runs_dir)


def _command_watch(args: argparse.Namespace) -> int:
    from agent.run.live import read_live

    folder = find_run(args.run, args.runs_dir or default_runs_dir())
    live = read_live(folder)
    if live is None:
        raise ConfigError(f"run {folder.name} has ended: `shain show {folder.name}` shows it")
    _need_a_desktop("watching a run")
    from ui.office import watch  # the core never imports Qt; this is ui

    return watch(folder, live)


def _command_tray(args: argparse.Namespace) -> int:
    if not {"-h", "--help"} & set(args.tray_arguments):
        _need_a_desktop("the tray app")
    from ui.tray.main import main as tray

    return tray(args.tray_arguments)


def _command_schema(_: argparse.Namespace) -> int:
    from agent.taskfile.task import task_json_schema

    print(json.dumps(task_json_schema(), indent=2, ensure_ascii=False))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["tray"]:
        # Everything after `tray` is the tray app's own (argparse would take --help itself).
        args = argparse.Namespace(command="tray", tray_arguments=arguments[1:])
    else:
        args = _parser().parse_args(arguments)
    handlers = {
        "run": run.command,
        "runs": records.runs_command,
        "show": records.show_command,
        "schema": _command_schema,
        "export": records.export_command,
        "logs": _command_logs,
        "watch": _command_watch,
        "tray": _command_tray,
        "report": records.report_command,
        "bench": benchmark.command,
        **fleet.HANDLERS,
        **learn.HANDLERS,
        **record.HANDLERS,
    }
    try:
        return handlers[args.command](args)
    except AgentError as error:
        print(f"shain: {error}", file=sys.stderr)
        return error.exit_code
    except FileNotFoundError as error:
        print(f"shain: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("shain: interrupted", file=sys.stderr)
        return 3
    except Exception:
        traceback.print_exc()
        print(
            "shain: internal error (a bug): please report it with the trace above", file=sys.stderr
        )
        return 1

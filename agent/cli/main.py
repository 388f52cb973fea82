"""The `shain` command (also `python -m agent`)."""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import signal
import sys
import tempfile
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from secrets import token_hex
from types import FrameType
from typing import Any

from agent import __version__
from agent.benchmark import runs as benchmark
from agent.desktop.screen import Screen
from agent.errors import AgentError, ConfigError, EnvironmentProblem
from agent.geometry import Size
from agent.record.log import default_runs_dir, find_run, iter_runs, read_run
from agent.stop import StopToken

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
        choices=[
            "scripted",
            "openai-chat",
            "openai-cua",
            "ui-tars",
            "qwen-vl",
            "oracle",
            "do-nothing",
        ],
        help="how to decide: a task file's script, a model and its output format, or a "
        "benchmark control (oracle: the task's own solution; do-nothing: says done at once)",
    )
    model.add_argument("--model", help="the model name the endpoint knows")
    model.add_argument(
        "--marks",
        action="store_true",
        default=None,
        help="set-of-marks (openai-chat): number the actionable elements on each screenshot "
        "and let the model click a number",
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
        "--workdir", type=Path, help="the task's {workdir} (default: a new private temp folder)"
    )
    run.add_argument(
        "--json", action="store_true", help="print the result as one JSON object on stdout"
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

    commands.add_parser("schema", help="print the JSON Schema of task files")
    benchmark.add_parser(commands)
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


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


@contextlib.contextmanager
def _stop_on_signals(stop: StopToken) -> Iterator[None]:
    """First Ctrl-C (or SIGTERM) stops the run cleanly; a second one interrupts at once."""

    def handle(signum: int, _: FrameType | None) -> None:
        if stop.stopped:
            raise KeyboardInterrupt
        stop.stop(f"stopped by {signal.Signals(signum).name}")

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def _screen(args: argparse.Namespace) -> Iterator[Screen]:
    """The screen to work on: the desktop this command runs on, or a private virtual one."""
    if not args.virtual_display:
        yield Screen.of_this_session()
        return
    from agent.desktop.apps import private_screen

    with private_screen(_parse_size(args.size)) as screen:
        yield screen


def _command_run(args: argparse.Namespace) -> int:
    from agent.config.profiles import load_config, resolve_profile
    from agent.desktop.local import LocalDesktop
    from agent.policy.choose import PolicyRequest
    from agent.record.console import ConsoleSink
    from agent.run.session import TaskSession
    from agent.taskfile.task import load_task

    profile = resolve_profile(
        load_config(),
        args.profile,
        policy=args.policy,
        model=args.model,
        base_url=args.base_url,
        marks=args.marks,
    )
    replay = find_run(args.replay, args.runs_dir or default_runs_dir()) if args.replay else None
    overrides = _parse_vars(args.var)
    # Named now (the task file refers to it), made only once the run really starts.
    workdir = args.workdir or Path(tempfile.gettempdir()) / f"shain-work-{token_hex(4)}"
    builtins = {"workdir": str(workdir)}
    loaded = load_task(args.task, overrides=overrides, builtins=builtins, seed=args.seed)
    oracle = None
    if args.oracle_seed is not None:
        other = load_task(args.task, overrides=overrides, builtins=builtins, seed=args.oracle_seed)
        oracle = other.task.oracle
    if args.max_steps is not None:
        budget = loaded.task.budget.model_copy(update={"max_steps": args.max_steps})
        loaded = replace(loaded, task=loaded.task.model_copy(update={"budget": budget}))
    runs_dir = args.runs_dir or default_runs_dir()
    progress = sys.stderr if args.json else sys.stdout
    stop = StopToken()
    request = PolicyRequest(profile, replay, oracle)
    with _stop_on_signals(stop), _screen(args) as screen:
        workdir.mkdir(mode=0o700, parents=True, exist_ok=True)
        session = TaskSession(
            loaded,
            screen,
            runs_dir=runs_dir,
            workdir=workdir,
            policy=request,
            sinks=[ConsoleSink(progress)],
            stop=stop,
            open_desktop=functools.partial(LocalDesktop, monitor=args.monitor),
        )
        result = session.run()
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


def _command_runs(args: argparse.Namespace) -> int:
    runs_dir = args.runs_dir or default_runs_dir()
    rows: list[dict[str, Any]] = []
    for record in iter_runs(runs_dir):
        if len(rows) >= args.limit:
            break
        summary = record.summary or {}
        rows.append(
            {
                "run": record.run_id,
                "task": record.header.get("task", "?"),
                "status": record.status,
                "steps": summary.get("steps", record.steps_completed),
                "seconds": summary.get("seconds"),
            }
        )
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
    elif not rows:
        print(f"no runs in {runs_dir}")
    else:
        for row in rows:
            seconds = f"{row['seconds']:.1f}s" if row["seconds"] is not None else "-"
            print(f"{row['run']:<48} {row['status']:<18} {row['steps']:>4} steps {seconds:>8}")
    return 0


def _command_show(args: argparse.Namespace) -> int:
    from agent.record.codec import encode_event
    from agent.record.describe import describe_event
    from agent.record.events import RunStarted

    record = read_run(find_run(args.run, args.runs_dir or default_runs_dir()))
    if args.json:
        print(
            json.dumps(
                {
                    "run": record.run_id,
                    "folder": str(record.folder),
                    "status": record.status,
                    "header": record.header,
                    "summary": record.summary,
                    "events": [encode_event(event) for event in record.events],
                },
                ensure_ascii=False,
            )
        )
        return 0
    print(f"run {record.run_id}: task {record.header.get('task')!r}, {record.status}")
    for event in record.events:
        # The first line says what RunStarted would, and how the run ended.
        line = None if isinstance(event, RunStarted) else describe_event(event)
        if line is not None:
            print(line)
    if record.summary:
        print(f"{record.summary['status']}: {record.summary['reason']}")
    else:
        print(f"incomplete: the log ends after step {record.steps_completed}")
    return 0


def _command_export(args: argparse.Namespace) -> int:
    from agent.record.trajectory import write_trajectory

    record = read_run(find_run(args.run, args.runs_dir or default_runs_dir()))
    output = args.output or record.folder / "trajectory.jsonl"
    count = write_trajectory(record, output)
    print(f"{count} steps of run {record.run_id} written to {output}")
    return 0


def _command_report(args: argparse.Namespace) -> int:
    from agent.report.writer import write_report

    folder = find_run(args.run, args.runs_dir or default_runs_dir())
    print(f"report of run {folder.name} written to {write_report(folder, args.output)}")
    return 0


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


def _command_tray(args: argparse.Namespace) -> int:
    if not {"-h", "--help"} & set(args.tray_arguments):
        _need_a_desktop("the tray app")
    from ui.tray.app import main as tray

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
        "run": _command_run,
        "runs": _command_runs,
        "show": _command_show,
        "schema": _command_schema,
        "export": _command_export,
        "logs": _command_logs,
        "tray": _command_tray,
        "report": _command_report,
        "bench": benchmark.command,
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

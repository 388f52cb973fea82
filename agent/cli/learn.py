"""`shain learn`: turn a successful run into a task file that replays it without a model."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from agent.record.log import default_runs_dir, find_run


def add_parsers(commands: Any) -> None:
    learn = commands.add_parser(
        "learn",
        help="turn a successful run into a task file that replays it without a model",
        description="Write a task file from a successful run (a model's, or the oracle's): "
        "the goal, setup, checks and variables of the task it ran, and its actions as steps, "
        "each click named by the element it hit (role, name, window). `shain run` replays it "
        "with no model; with --heal a model stands in for a step whose target is gone.",
        epilog="exit codes: 0 written; 2 the run did not succeed, or no such run or task file",
    )
    learn.add_argument("run", help="a run id, a unique prefix of one, a run folder, or 'last'")
    learn.add_argument("-o", "--output", type=Path, required=True, help="the task file to write")
    learn.add_argument("--runs-dir", type=Path)
    learn.add_argument(
        "--task", type=Path, help="the task file the run ran (default: the one its log names)"
    )


def learn_command(args: argparse.Namespace) -> int:
    from agent.learn.from_run import learn_from_run

    folder = find_run(args.run, args.runs_dir or default_runs_dir())
    learned = learn_from_run(folder, args.output, args.task)
    points = f"; {learned.points} clicks as points (see their comments)" if learned.points else ""
    print(f"{learned.steps} steps learned from run {folder.name} written to {learned.path}{points}")
    return 0


HANDLERS = {"learn": learn_command}

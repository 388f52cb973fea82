"""`shain bench`: run the benchmark's tasks, each on its own fresh virtual screen, and score them.

Every run is a `shain run --virtual-display` child process: its own screen, its own apps, and
pyautogui (which binds one display per process) bound to it. `--parallel N` keeps N of them
going side by side. `--controls` runs the three controls that prove the suite itself: the
oracle must pass every task, the do-nothing policy none, and the oracle solving another seed's
task none (the checks must tell the seeds' parameters apart).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

from agent.benchmark.summary import RunScore, summarise, write_summary
from agent.errors import TaskFileError
from agent.record.log import read_run
from agent.taskfile.task import load_task

BENCH_TASKS = Path(__file__).resolve().parents[2] / "tasks" / "bench"
# A child that outlives its task's own time budget by this much is killed.
_GRACE_SECONDS = 90


@dataclass(frozen=True, slots=True)
class BenchTask:
    name: str
    path: Path
    oracle_steps: int  # the oracle's actions, plus saying done: what a perfect agent needs
    skills: tuple[str, ...]
    max_seconds: float
    expect: str  # done, or fail for a task that cannot be done


@dataclass(frozen=True, slots=True)
class PlannedRun:
    task: BenchTask
    seed: int
    policy: str
    control: str = ""  # oracle | do-nothing | other-seed; "" outside --controls
    oracle_seed: int | None = None

    @property
    def expected_success(self) -> bool:
        return self.control in ("", "oracle")

    def label(self) -> str:
        what = self.control or self.policy
        other = f" (solved as seed {self.oracle_seed})" if self.oracle_seed is not None else ""
        return f"{self.task.name} seed {self.seed} {what}{other}"


def find_tasks(folder: Path, pattern: str | None) -> list[BenchTask]:
    """The tasks in `folder` whose name (or file name) matches the glob `pattern`."""
    if not folder.is_dir():
        raise TaskFileError(f"no benchmark tasks: {folder} is not a folder")
    tasks = []
    for path in sorted(folder.glob("*.yaml")):
        loaded = load_task(path, builtins={"workdir": "/nonexistent"})
        task = loaded.task
        if pattern and not (
            fnmatch.fnmatch(task.name, pattern) or fnmatch.fnmatch(path.name, pattern)
        ):
            continue
        # Every step that acts (a click on a target included); waiting is not a step.
        actions = [step for step in task.oracle if step.kind not in ("wait_for", "ai")]
        tasks.append(
            BenchTask(
                task.name,
                path,
                len(actions) + 1,
                tuple(task.skills),
                task.budget.max_seconds,
                task.expect,
            )
        )
    if not tasks:
        raise TaskFileError(f"no benchmark task in {folder} matches {pattern!r}")
    return tasks


def task_table(tasks: Sequence[BenchTask]) -> str:
    lines = ["| task | skills | oracle steps |", "|---|---|---|"]
    for task in tasks:
        expect = " (infeasible: the answer is fail)" if task.expect == "fail" else ""
        lines.append(f"| {task.name}{expect} | {', '.join(task.skills)} | {task.oracle_steps} |")
    return "\n".join(lines)


def plan_runs(
    tasks: Sequence[BenchTask], seeds: Sequence[int], policy: str, controls: bool
) -> list[PlannedRun]:
    if not controls:
        return [PlannedRun(task, seed, policy) for task in tasks for seed in seeds]
    if len(seeds) < 2:
        raise TaskFileError("--controls needs at least 2 seeds (--seeds 2): one solves another")
    runs = []
    for task in tasks:
        for index, seed in enumerate(seeds):
            other = seeds[(index + 1) % len(seeds)]
            runs += [
                PlannedRun(task, seed, "oracle", "oracle"),
                PlannedRun(task, seed, "do-nothing", "do-nothing"),
            ]
            # A task that cannot be done has one right answer for every seed: saying so.
            if task.expect == "done":
                runs.append(PlannedRun(task, seed, "oracle", "other-seed", oracle_seed=other))
    return runs


@dataclass(frozen=True)
class ChildOptions:
    runs_dir: Path
    max_steps: int | None = None
    model_arguments: tuple[str, ...] = ()  # --profile/--model/--base-url, passed on


def run_one(planned: PlannedRun, options: ChildOptions) -> RunScore:
    """One task run in a child process on its own virtual screen."""
    command = [
        sys.executable,
        "-m",
        "agent",
        "run",
        str(planned.task.path),
        "--virtual-display",
        "--json",
        "--seed",
        str(planned.seed),
        "--runs-dir",
        str(options.runs_dir),
    ]
    if planned.policy:  # none: what the task file says (its steps)
        command += ["--policy", planned.policy]
    if planned.oracle_seed is not None:
        command += ["--oracle-seed", str(planned.oracle_seed)]
    if options.max_steps is not None:
        command += ["--max-steps", str(options.max_steps)]
    if planned.policy not in ("oracle", "do-nothing"):
        command += list(options.model_arguments)
    started = time.monotonic()
    try:
        child = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=planned.task.max_seconds + _GRACE_SECONDS,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    except subprocess.TimeoutExpired:
        wall = time.monotonic() - started
        return RunScore.broken(planned.task.name, planned.seed, planned.control, wall, "hung")
    wall = time.monotonic() - started
    try:
        result: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        tail = (child.stderr or child.stdout).strip()[-400:]
        reason = f"exit code {child.returncode}, no result: {tail}"
        return RunScore.broken(planned.task.name, planned.seed, planned.control, wall, reason)
    score = RunScore.from_result(
        planned.task.name, planned.seed, planned.control, wall, result, planned.task.oracle_steps
    )
    folder = Path(result.get("run_folder", ""))
    if folder.is_dir():
        score = score.with_events(read_run(folder).events)
    return replace(score, expected_success=planned.expected_success)


def run_all(
    planned: Sequence[PlannedRun],
    options: ChildOptions,
    parallel: int,
    progress: Callable[[int, int, PlannedRun, RunScore], None],
) -> list[RunScore]:
    scores: list[RunScore | None] = [None] * len(planned)
    finished = 0
    lock = threading.Lock()

    def work(index: int) -> None:
        nonlocal finished
        score = run_one(planned[index], options)
        with lock:
            scores[index] = score
            finished += 1
            progress(finished, len(planned), planned[index], score)

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        for future in [pool.submit(work, index) for index in range(len(planned))]:
            future.result()
    return [score for score in scores if score is not None]


def print_progress(stream: TextIO) -> Callable[[int, int, PlannedRun, RunScore], None]:
    def report(done: int, total: int, planned: PlannedRun, score: RunScore) -> None:
        verdict = "success" if score.success else score.status
        if planned.control and score.success != planned.expected_success:
            verdict += "  <-- control broken"
        print(
            f"[{done}/{total}] {planned.label()}: {verdict} ({score.steps} steps, "
            f"{score.wall_seconds:.1f}s)"
            + (f" - {score.reason[:160]}" if not score.success else ""),
            file=stream,
            flush=True,
        )

    return report


def add_parser(commands: Any) -> None:
    bench = commands.add_parser(
        "bench",
        help="score a policy on the benchmark suite (tasks/bench), or check the suite",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    bench.add_argument(
        "--policy",
        default="oracle",
        help="openai-chat, openai-cua, ui-tars, qwen-vl, oracle or do-nothing (default oracle)",
    )
    bench.add_argument("--profile", help="a named profile from the config file")
    bench.add_argument("--model", help="the model name the endpoint knows")
    bench.add_argument("--base-url", help="an OpenAI-compatible endpoint")
    bench.add_argument(
        "--marks", action="store_true", help="set-of-marks screenshots (openai-chat)"
    )
    bench.add_argument("--seeds", type=int, default=1, help="seeds 1..N for each task (default 1)")
    bench.add_argument("--tasks", metavar="GLOB", help="only tasks whose name matches the glob")
    bench.add_argument("--tasks-dir", type=Path, default=BENCH_TASKS, help=f"default {BENCH_TASKS}")
    bench.add_argument(
        "--parallel", type=int, default=1, help="virtual screens side by side (default 1)"
    )
    bench.add_argument("--max-steps", type=int, help="cap every task's step budget")
    bench.add_argument(
        "--controls",
        action="store_true",
        help="run the suite's controls instead of a policy: oracle (must pass), do-nothing "
        "and another seed's oracle (must fail); exit 0 only if all of them hold",
    )
    bench.add_argument(
        "-o", "--output", type=Path, help="where summary.json, summary.md and the runs go"
    )
    bench.add_argument(
        "--list", action="store_true", help="print the tasks as a Markdown table and exit"
    )


def command(args: argparse.Namespace) -> int:
    if args.seeds < 1 or args.parallel < 1:
        raise TaskFileError("--seeds and --parallel must be at least 1")
    tasks = find_tasks(args.tasks_dir, args.tasks)
    if args.list:
        print(task_table(tasks))
        return 0
    seeds = list(range(1, args.seeds + 1))
    planned = plan_runs(tasks, seeds, args.policy, args.controls)
    output = args.output or Path(f"bench-{time.strftime('%Y%m%d-%H%M%S')}")
    output.mkdir(parents=True, exist_ok=True)
    model_arguments = tuple(
        argument
        for flag, value in (
            ("--profile", args.profile),
            ("--model", args.model),
            ("--base-url", args.base_url),
        )
        if value is not None
        for argument in (flag, value)
    ) + (("--marks",) if args.marks else ())
    options = ChildOptions(output / "runs", args.max_steps, model_arguments)
    print(
        f"bench: {len(planned)} runs ({len(tasks)} tasks x {len(seeds)} seeds"
        + (" x 3 controls" if args.controls else f", policy {args.policy}")
        + f"), {args.parallel} at a time; results in {output}",
        file=sys.stderr,
        flush=True,
    )
    started = time.monotonic()
    scores = run_all(planned, options, args.parallel, print_progress(sys.stderr))
    summary = summarise(
        scores,
        tasks={task.name: (task.skills, task.oracle_steps) for task in tasks},
        policy="controls" if args.controls else args.policy,
        seeds=seeds,
        wall_seconds=time.monotonic() - started,
    )
    markdown = write_summary(summary, output)
    print(markdown)
    if args.controls:
        broken = [score for score in scores if score.success != score.expected_success]
        return 1 if broken else 0
    return 0

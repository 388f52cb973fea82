"""A soak: the example tasks and the benchmark's tasks, solved by the oracle, back to back for
many runs, with what a leak would leave counted before and after.

Every run is a `shain run --virtual-display` child, as `shain bench` starts them (one at a
time here). Counted before the first run and after the last: this process's open files, the
processes started under this soak (marked through the environment), the entries of the
temporary folder the runs are given (TMPDIR: a folder of the soak's own, so that other work
on the machine does not count; each run's work folder, kept on purpose for the boss, left out)
and the X server sockets no server answers on any more (a leaked screen). Also: each run's time
against its task's median (the slowest must stay under three times it), and the runs that did
not succeed.

    python bench/soak.py [--runs 300] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

from agent.benchmark.runs import (
    BENCH_TASKS,
    ChildOptions,
    PlannedRun,
    find_tasks,
    print_progress,
    run_all,
)

EXAMPLES = BENCH_TASKS.parent / "examples"
MARKER = "SHAIN_SOAK_MARKER"
X_SOCKETS = Path("/tmp/.X11-unix")


def _marked_processes(marker: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environment = (entry / "environ").read_bytes().split(b"\0")
            name = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if f"{MARKER}={marker}".encode() in environment:
            found.append(f"{entry.name} {name}")
    return found


def _stale_x_sockets() -> list[str]:
    """The X sockets no server answers on: what a screen that was not shut down leaves."""
    stale = []
    for entry in sorted(X_SOCKETS.iterdir()) if X_SOCKETS.is_dir() else []:
        with socket.socket(socket.AF_UNIX) as probe:
            try:
                probe.connect(str(entry))
            except OSError:
                stale.append(entry.name)
    return stale


def _snapshot(marker: str, temporary: Path) -> dict[str, list[str]]:
    return {
        "processes": _marked_processes(marker),
        "open_files": sorted(os.listdir("/proc/self/fd")),
        "tmp_entries": sorted(
            entry.name for entry in temporary.iterdir() if not entry.name.startswith("shain-work-")
        ),
        "stale_x_sockets": _stale_x_sockets(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=300, help="runs in all (default 300)")
    parser.add_argument("--json", action="store_true", help="print one JSON object at the end")
    args = parser.parse_args()
    marker = uuid.uuid4().hex
    os.environ[MARKER] = marker  # the children inherit it
    # The examples run their own steps (no policy named); the benchmark's tasks the oracle.
    tasks = [(task, "") for task in find_tasks(EXAMPLES, None)]
    tasks += [(task, "oracle") for task in find_tasks(BENCH_TASKS, None)]
    planned = []
    for index in range(args.runs):
        task, policy = tasks[index % len(tasks)]
        planned.append(PlannedRun(task, seed=1 + (index // len(tasks)) % 6, policy=policy))
    work = Path(tempfile.mkdtemp(prefix="shain-soak-"))
    temporary = work / "tmp"
    temporary.mkdir()
    os.environ["TMPDIR"] = str(temporary)  # the children's temporary folder
    before = _snapshot(marker, temporary)
    started = time.monotonic()
    try:
        scores = run_all(planned, ChildOptions(work / "runs"), 1, print_progress(sys.stderr))
        time.sleep(2)  # the last run's screen and apps finish going
        after = _snapshot(marker, temporary)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    by_task: dict[str, list[float]] = defaultdict(list)
    for score in scores:
        by_task[score.task].append(score.wall_seconds)
    ratios = [
        score.wall_seconds / statistics.median(by_task[score.task]) for score in scores
    ]  # each run against its own task's median
    slowest = max(range(len(scores)), key=lambda index: ratios[index])
    failed = [
        f"{score.task} seed {score.seed}: {score.status} {score.reason}"
        for score in scores
        if not score.success
    ]
    new = {
        name: sorted(set(after[name]) - set(before[name]))
        for name in before
        if set(after[name]) - set(before[name])
    }
    slowest_run = f"{scores[slowest].task} seed {scores[slowest].seed}"
    result = {
        "runs": len(scores),
        "failed": failed,
        "minutes": round((time.monotonic() - started) / 60, 1),
        "median_run_seconds": round(statistics.median(s.wall_seconds for s in scores), 2),
        "slowest_vs_its_task_median": round(ratios[slowest], 2),
        "slowest_run": f"{slowest_run}: {scores[slowest].wall_seconds:.1f}s",
        "before": {name: len(items) for name, items in before.items()},
        "after": {name: len(items) for name, items in after.items()},
        "new": new,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{len(scores)} runs in {result['minutes']} min, {len(failed)} failed")
    for line in failed:
        print(f"  failed: {line}")
    print(
        f"slowest run {result['slowest_run']}, {result['slowest_vs_its_task_median']}x its "
        f"task's median (median run {result['median_run_seconds']}s)"
    )
    for name in before:
        print(f"{name}: {len(before[name])} before, {len(after[name])} after")
    for name, items in new.items():
        print(f"  new {name}: {items}")


if __name__ == "__main__":
    main()

"""What the fleet does on this machine: throughput of the benchmark suite's oracle through a
real `shain worker` with 1, 2, 3 slots, and the time from `submit` to the run's first step on
an idle fleet. A benchmark, not a test: it prints medians, nothing is asserted.

A redis-server of its own (the settings of docs/fleet/redis.conf, a free port, a temp folder)
and one real worker per slot count. Throughput: every task of tasks/bench (or those matching
--tasks) submitted at once with `--policy oracle`, a different seed each pass; runs per minute
from the first submit to the last run's end, the median of --repeats passes. First step: one
quick scripted task at a time on an idle one-slot worker; from the moment `submit` is called
to the run's first step line (its first action done), and to the run's start on the worker.

    .venv/bin/python bench/fleet.py                                  # about 10 minutes
    .venv/bin/python bench/fleet.py --slots 1,2 --repeats 2 --tasks 'zenity-*'
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from agent.benchmark.runs import BENCH_TASKS, find_tasks
from agent.fleet.broker import connect
from agent.fleet.registry import Registry, RunState
from agent.fleet.submit import checked_order, follow, submit

REPO = Path(__file__).resolve().parent.parent
QUICK = "name: first-step\ngoal: press a key\nsteps:\n  - key: shift\n"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _redis(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    server = subprocess.Popen(
        ["redis-server", str(REPO / "docs" / "fleet" / "redis.conf"), "--port", str(port),
         "--bind", "127.0.0.1", "--dir", str(folder), "--daemonize", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while True:
        try:
            connect(url)
            return server, url
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _worker(url: str, slots: int, runs_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    environment = {key: value for key, value in os.environ.items() if key != "DISPLAY"}
    with open(log, "ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "agent", "worker", "--slots", str(slots), "--runs-dir",
             str(runs_dir), "--broker", url, "--name", f"bench-{slots}"],
            stdout=output, stderr=subprocess.STDOUT, env=environment, start_new_session=True,
        )  # fmt: skip


def _stop(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def _wait_for_worker(registry: Registry, name: str) -> None:
    deadline = time.monotonic() + 30
    while not any(worker.name == name for worker in registry.workers()):
        if time.monotonic() > deadline:
            raise SystemExit(f"worker {name} did not come up")
        time.sleep(0.2)


def throughput(url: str, paths: list[Path], seed: int) -> tuple[float, int]:
    """(runs per minute, runs that did not succeed) of one pass."""
    registry = Registry(connect(url))
    started = time.monotonic()
    run_ids = []
    for path in paths:
        order = checked_order(path, variables={}, queue="shain", seed=seed, policy="oracle")
        submit(registry, url, order)
        run_ids.append(order.run_id)
    while True:
        records = [registry.get(run_id) for run_id in run_ids]
        if all(record is not None and record.state is RunState.ENDED for record in records):
            break
        time.sleep(0.2)
    wall = time.monotonic() - started
    failed = sum(1 for record in records if record is None or record.status != "success")
    return len(run_ids) / wall * 60, failed


def first_step(url: str, task: Path) -> tuple[float, float]:
    """(seconds from submit to the first step line, seconds from submit to the run's start)."""
    registry = Registry(connect(url))
    called = time.monotonic()
    wall_called = time.time()
    order = checked_order(task, variables={}, queue="shain")
    submit(registry, url, order)
    seen: list[float] = []

    def line(text: str) -> None:
        if not seen and text.lstrip().startswith("step"):
            seen.append(time.monotonic())

    record = follow(registry, order.run_id, line)
    if not seen or record.started_at is None:
        raise SystemExit(f"the first-step run did not act: {record.reason}")
    return seen[0] - called, record.started_at - wall_called


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--slots", default="1,2,3", help="slot counts to measure (default 1,2,3)")
    parser.add_argument("--repeats", type=int, default=3, help="passes per slot count")
    parser.add_argument("--tasks", help="a glob of benchmark task names (default: all)")
    parser.add_argument("--samples", type=int, default=7, help="first-step samples")
    args = parser.parse_args()
    paths = [task.path for task in find_tasks(BENCH_TASKS, args.tasks)]
    with tempfile.TemporaryDirectory(prefix="shain-bench-fleet-") as temp:
        work = Path(temp)
        server, url = _redis(work)
        try:
            print(f"{len(paths)} tasks, {os.cpu_count()} cores; worker logs in {work}")
            # Other people's work on a shared machine counts too: the load says how busy it was.
            print("| slots | runs/min (median) | passes | not success | load before |")
            print("|---|---|---|---|---|")
            for slots in (int(n) for n in args.slots.split(",")):
                worker = _worker(url, slots, work / f"runs-{slots}", work / f"worker-{slots}.log")
                try:
                    _wait_for_worker(Registry(connect(url)), f"bench-{slots}")
                    load = os.getloadavg()[0]
                    passes = [throughput(url, paths, seed) for seed in range(args.repeats)]
                finally:
                    _stop(worker)
                rates = [rate for rate, _ in passes]
                each = ", ".join(f"{rate:.1f}" for rate in rates)
                failed = sum(count for _, count in passes)
                median = statistics.median(rates)
                print(f"| {slots} | {median:.1f} | {each} | {failed} | {load:.1f} |", flush=True)
            quick = work / "first-step.yaml"
            quick.write_text(QUICK, encoding="utf-8")
            worker = _worker(url, 1, work / "runs-first", work / "worker-first.log")
            try:
                _wait_for_worker(Registry(connect(url)), "bench-1")
                first_step(url, quick)  # warm: the first run of a worker loads more
                samples = [first_step(url, quick) for _ in range(args.samples)]
            finally:
                _stop(worker)
            steps = sorted(step for step, _ in samples)
            starts = sorted(start for _, start in samples)
            print(
                f"submit -> first step on an idle fleet: median {statistics.median(steps):.2f}s "
                f"(min {steps[0]:.2f}, max {steps[-1]:.2f}; {len(steps)} runs); submit -> run "
                f"started on the worker: median {statistics.median(starts):.3f}s"
            )
        finally:
            server.terminate()
            server.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())

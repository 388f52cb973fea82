"""What an office of employees costs on this machine, and how many it runs with throughput
still growing. Benchmarks are not tests: this prints medians (and peaks), nothing is asserted.

Footprint: N employees at once, each a `shain run TASK --virtual-display` process on its own
screen (Xvfb, openbox, a session bus, an accessibility bus, the task's app: mousepad). Every
`--interval` seconds for `--window` seconds, each employee's process tree is read from /proc:
memory is PSS (shared pages split between the processes sharing them, so the sums add up)
and RSS, summed over the tree; CPU is the tree's CPU time over the window, in cores (1.0 = one
core busy). Two kinds of work:

  idle     setup done, then a scripted `wait_for` on a file that never appears
  working  typing a sentence, clicking in the text, ctrl+End, Return, over and over (scripted
           steps: the same machinery an oracle or a model's actions go through)

Throughput: `shain bench --policy oracle --seeds 1 --parallel N` (the whole suite, every run a
`shain run --virtual-display` child) for each N: runs per minute (the median of --repeats
passes, and each pass), the machine's CPU use, the peak memory in use, and every run that did
not pass.

On a shared machine other people's work counts too: each measurement first waits (up to
--quiet-wait seconds) for the machine to be quiet, and the tables say how busy it was before
and how much CPU went to processes that were not ours ("others").

    .venv/bin/python bench/office.py                       # both parts (about 10 minutes)
    .venv/bin/python bench/office.py --employees 1,2,4 --window 30 --skip-throughput
    .venv/bin/python bench/office.py --skip-footprint --parallel 1,2,3,4,6,8 --repeats 3

(One file past 400 lines on purpose: a benchmark is copied and run alone, with nothing of
the tests around it.)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.desktop.children import die_with_parent

REPO = Path(__file__).resolve().parents[1]
SHAIN = [sys.executable, "-m", "agent"]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
READY_SECONDS = 90.0  # for every employee to finish its setup, on a loaded machine
WARMUP_SECONDS = 2.0  # after setup, before sampling
STOP_SECONDS = 30.0
QUIET_CORES = 0.25  # the machine counts as quiet below this many cores busy

IDLE_TASK = """\
name: office-idle
goal: Keep mousepad open and wait for a file that never comes.
setup:
  - launch: mousepad {workdir}/notes.txt
  - wait_for: {window: "notes\\\\.txt", timeout: 60}
steps:
  - wait_for: {file: "{workdir}/never-appears", timeout: 36000}
budget: {max_steps: 5, max_seconds: 36000}
"""
# Mousepad's window sits in the middle of a 1920x1080 screen: the click lands in its text.
_CYCLE = """\
  - type: "The quarterly report is ready for review. "
  - click: {x: 960, y: 600}
  - key: ctrl+End
  - key: Return
"""
WORKING_TASK = (
    """\
name: office-working
goal: Type and click in mousepad, over and over.
setup:
  - launch: mousepad {workdir}/work.txt
  - wait_for: {window: "work\\\\.txt", timeout: 60}
steps:
"""
    + _CYCLE * 500
    + "budget: {max_steps: 5000, max_seconds: 36000}\n"
)
TASKS = {"idle": IDLE_TASK, "working": WORKING_TASK}
# How the table names a process of an employee's tree (by its /proc comm); the root is "shain".
KINDS = {
    "Xvfb": "Xvfb",
    "openbox": "openbox",
    "dbus-daemon": "dbus-daemon (both buses)",
    "at-spi-bus-laun": "at-spi (launcher, registry)",
    "at-spi2-registr": "at-spi (launcher, registry)",
    "mousepad": "the app (mousepad)",
}
SHAIN_KIND = "shain run (python)"
OTHER_KIND = "other"


# --- /proc ---


@dataclass(frozen=True)
class ProcessSample:
    pid: int
    name: str
    ppid: int
    ticks: int  # user + system CPU time, clock ticks
    pss_kb: int
    rss_kb: int


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(name, parent pid, CPU ticks) of a living process; None for a zombie or a gone one."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = stat[stat.index("(") + 1 : stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in "ZX":
        return None
    return name, int(fields[1]), int(fields[11]) + int(fields[12])


def _memory(pid: int) -> tuple[int, int]:
    """(PSS, RSS) in kB; zeros for a process that is gone."""
    values = {"Pss:": 0, "Rss:": 0}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            key, _, rest = line.partition(" ")
            if key in values:
                values[key] = int(rest.split()[0])
    except (OSError, IndexError, ValueError):
        pass
    return values["Pss:"], values["Rss:"]


def process_tree(root: int) -> list[ProcessSample]:
    """The living processes of `root`'s tree, root included."""
    parents: dict[int, tuple[str, int, int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            parents[int(entry.name)] = stat
    children: dict[int, list[int]] = {}
    for pid, (_, ppid, _) in parents.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = [], [root] if root in parents else []
    while todo:
        pid = todo.pop()
        name, ppid, ticks = parents[pid]
        pss, rss = _memory(pid)
        found.append(ProcessSample(pid, name, ppid, ticks, pss, rss))
        todo.extend(children.get(pid, []))
    return found


def _memory_in_use_kb() -> int:
    info = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, _, rest = line.partition(":")
        info[key] = int(rest.split()[0])
    return info["MemTotal"] - info["MemAvailable"]


def _cpu_times() -> tuple[int, int]:
    """(busy, total) clock ticks of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wait_for_quiet(most: float, below: float = QUIET_CORES, span: float = 3.0) -> float:
    """Wait (up to `most` seconds) until the machine has been nearly idle for `span` seconds:
    on a shared machine, other people's work would count as ours. Returns the cores busy
    over the last span."""
    deadline = time.monotonic() + most
    while True:
        busy0, _ = _cpu_times()
        time.sleep(span)
        busy1, _ = _cpu_times()
        cores = (busy1 - busy0) / CLOCK_TICKS / span
        if cores < below or time.monotonic() > deadline:
            return cores


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# --- footprint ---


@dataclass
class Employee:
    index: int
    folder: Path
    process: subprocess.Popen[bytes]
    samples: list[list[ProcessSample]] = field(default_factory=list)

    @property
    def events(self) -> list[dict[str, Any]]:
        found = []
        for log in (self.folder / "runs").glob("*/events.jsonl"):
            for line in log.read_text("utf-8").splitlines()[1:]:
                if line.endswith("}"):
                    found.append(json.loads(line))
        return found

    def ready(self) -> bool:
        return any(event["kind"] == "step_started" for event in self.events)


def _hire(index: int, task: Path, folder: Path) -> Employee:
    folder.mkdir(parents=True)
    command = [*SHAIN, "run", str(task), "--virtual-display"]
    command += ["--runs-dir", str(folder / "runs"), "--workdir", str(folder / "work")]
    environment = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    with (folder / "output.txt").open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=REPO,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent(),  # this bench killed: its employees go too
        )
    return Employee(index, folder, process)


def _dismiss(employees: Sequence[Employee]) -> None:
    for employee in employees:
        if employee.process.poll() is None:
            employee.process.send_signal(signal.SIGTERM)  # a clean stop: it tears its screen down
    for employee in employees:
        try:
            employee.process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            employee.process.kill()
            employee.process.wait()


def measure_footprint(
    kind: str, count: int, window: float, interval: float, folder: Path, quiet_wait: float
) -> dict[str, Any]:
    """`count` employees doing `kind` work at once, sampled for `window` seconds."""
    task = folder / f"{kind}.yaml"
    task.write_text(TASKS[kind])
    busy_before = wait_for_quiet(quiet_wait)
    employees: list[Employee] = []
    try:
        for index in range(count):
            employees.append(_hire(index, task, folder / f"{kind}-{count}-{index}"))
        deadline = time.monotonic() + READY_SECONDS
        while not all(employee.ready() for employee in employees):
            for employee in employees:
                if employee.process.poll() is not None:
                    output = (employee.folder / "output.txt").read_text(errors="replace")
                    raise RuntimeError(f"employee {employee.index} ended early:\n{output}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the employees were not all set up within {READY_SECONDS} s")
            time.sleep(0.1)
        time.sleep(WARMUP_SECONDS)
        busy0, total0 = _cpu_times()
        own0 = time.process_time()
        started = time.monotonic()
        wall_started = time.time()
        in_use = []
        while True:
            for employee in employees:
                employee.samples.append(process_tree(employee.process.pid))
            in_use.append(_memory_in_use_kb())
            if time.monotonic() - started >= window:
                break
            time.sleep(interval)
        seconds = time.monotonic() - started
        wall_ended = time.time()
        busy1, total1 = _cpu_times()
        own = time.process_time() - own0
    finally:
        _dismiss(employees)
    per_employee = [_summarise_employee(e, seconds, wall_started, wall_ended) for e in employees]
    # What the rest of the machine did meanwhile (other people's work, the kernel), in cores.
    machine_cores = (busy1 - busy0) / CLOCK_TICKS / seconds
    others = machine_cores - sum(one["cpu_cores"] for one in per_employee) - own / seconds
    kinds = sorted({k for one in per_employee for k in one["kinds_kb"]})
    return {
        "kind": kind,
        "employees": count,
        "window_seconds": round(seconds, 1),
        "busy_before_cores": round(busy_before, 2),
        "pss_mb": _median(one["pss_mb"] for one in per_employee),
        "rss_mb": _median(one["rss_mb"] for one in per_employee),
        "cpu_cores": _median(one["cpu_cores"] for one in per_employee),
        "processes": _median(one["processes"] for one in per_employee),
        "steps_per_minute": _median(one["steps_per_minute"] for one in per_employee),
        "machine_cpu_percent": round(100 * (busy1 - busy0) / max(total1 - total0, 1), 1),
        "others_cores": round(others, 2),
        "machine_memory_in_use_mb": round(statistics.median(in_use) / 1024),
        "kinds_mb": {
            kind: _median(one["kinds_kb"].get(kind, 0) / 1024 for one in per_employee)
            for kind in kinds
        },
    }


def _summarise_employee(
    employee: Employee, seconds: float, wall_started: float, wall_ended: float
) -> dict[str, Any]:
    first, last = employee.samples[0], employee.samples[-1]
    before = {sample.pid: sample.ticks for sample in first}
    # A process that came up during the window counts all its CPU time; one that went is lost.
    ticks = sum(sample.ticks - before.get(sample.pid, 0) for sample in last)
    kinds: dict[str, list[float]] = {}
    for tree in employee.samples:
        per_kind: dict[str, float] = {}
        for sample in tree:
            name = SHAIN_KIND if sample.pid == employee.process.pid else KINDS.get(sample.name)
            per_kind[name or OTHER_KIND] = per_kind.get(name or OTHER_KIND, 0) + sample.pss_kb
        for name, kb in per_kind.items():
            kinds.setdefault(name, []).append(kb)
    steps = [
        event
        for event in employee.events
        if event["kind"] == "action_executed" and wall_started <= event["at"] <= wall_ended
    ]
    return {
        "pss_mb": statistics.median(sum(s.pss_kb for s in tree) for tree in employee.samples)
        / 1024,
        "rss_mb": statistics.median(sum(s.rss_kb for s in tree) for tree in employee.samples)
        / 1024,
        "cpu_cores": ticks / CLOCK_TICKS / seconds,
        "processes": statistics.median(len(tree) for tree in employee.samples),
        "steps_per_minute": len(steps) * 60 / seconds,
        "kinds_kb": {name: statistics.median(values) for name, values in kinds.items()},
    }


def _median(values: Any) -> float:
    return round(float(statistics.median(list(values))), 3)


# --- throughput ---


def measure_throughput(parallel: int, folder: Path, quiet_wait: float, name: str) -> dict[str, Any]:
    """The benchmark suite's oracle, `parallel` runs at a time, its files in folder/name."""
    output = folder / name
    busy_before = wait_for_quiet(quiet_wait)
    command = [*SHAIN, "bench", "--policy", "oracle", "--seeds", "1"]
    command += ["--parallel", str(parallel), "-o", str(output)]
    peak = [_memory_in_use_kb()]
    done = threading.Event()

    def watch_memory() -> None:
        while not done.wait(1.0):
            peak.append(_memory_in_use_kb())

    watcher = threading.Thread(target=watch_memory, daemon=True)
    watcher.start()
    busy0, total0 = _cpu_times()
    # The bench's runs, their screens and apps: all reaped, so counted in our children's time.
    children0 = _children_cpu()
    started = time.monotonic()
    environment = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    completed = subprocess.run(
        command, cwd=REPO, env=environment, capture_output=True, text=True, check=False
    )
    seconds = time.monotonic() - started
    busy1, total1 = _cpu_times()
    bench_cpu = _children_cpu() - children0
    done.set()
    watcher.join()
    summary_file = output / "summary.json"
    if not summary_file.exists():
        raise RuntimeError(
            f"shain bench left no summary (exit {completed.returncode}):\n"
            f"{completed.stderr[-2000:]}"
        )
    runs: list[dict[str, Any]] = json.loads(summary_file.read_text())["runs"]
    failed = [
        f"{run['task']}: {run['status']} {str(run.get('reason', ''))[:120]}"
        for run in runs
        if run["status"] != "success"
    ]
    return {
        "parallel": parallel,
        "runs": len(runs),
        "passed": len(runs) - len(failed),
        "failed": failed,
        "seconds": round(seconds, 1),
        "runs_per_minute": round(len(runs) * 60 / seconds, 2),
        "run_seconds_median": _median(run["wall_seconds"] for run in runs),
        "machine_cpu_percent": round(100 * (busy1 - busy0) / max(total1 - total0, 1), 1),
        "bench_cores": round(bench_cpu / seconds, 2),
        "others_cores": round(((busy1 - busy0) / CLOCK_TICKS - bench_cpu) / seconds, 2),
        "peak_memory_in_use_mb": round(max(peak) / 1024),
        "busy_before_cores": round(busy_before, 2),
        "command": " ".join(["shain", *command[3:]]),
    }


# --- report ---


def footprint_table(results: Sequence[dict[str, Any]]) -> str:
    lines = [
        "| work | employees | PSS per employee (MB) | RSS per employee (MB) | CPU per employee "
        "(cores) | processes each | steps/min each | machine CPU | others' CPU (cores) | "
        "machine memory in use (MB) | busy before (cores) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['kind']} | {r['employees']} | {r['pss_mb']:.0f} | {r['rss_mb']:.0f} | "
            f"{r['cpu_cores']:.3f} | {r['processes']:.0f} | {r['steps_per_minute']:.0f} | "
            f"{r['machine_cpu_percent']:.0f}% | {r['others_cores']:.2f} | "
            f"{r['machine_memory_in_use_mb']} | {r['busy_before_cores']:.2f} |"
        )
    return "\n".join(lines)


def kinds_table(results: Sequence[dict[str, Any]]) -> str:
    """PSS by process kind, for the single-employee measurements."""
    single = [r for r in results if r["employees"] == min(x["employees"] for x in results)]
    kinds = sorted({k for r in single for k in r["kinds_mb"]})
    lines = [
        "| process | " + " | ".join(f"{r['kind']} PSS (MB)" for r in single) + " |",
        "|---|" + "---:|" * len(single),
    ]
    for kind in kinds:
        values = " | ".join(f"{r['kinds_mb'].get(kind, 0):.1f}" for r in single)
        lines.append(f"| {kind} | {values} |")
    return "\n".join(lines)


def throughput_table(results: Sequence[dict[str, Any]]) -> str:
    lines = [
        "| parallel | runs | passed | wall (s) | runs/min (median) | runs/min (each pass) | "
        "median run (s) | machine CPU | "
        "bench's CPU (cores) | others' CPU (cores) | peak memory in use (MB) | "
        "busy before (cores) |",
        "|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['parallel']} | {r['runs']} | {r['passed']} | {r['seconds']:.0f} | "
            f"{r['runs_per_minute']:.1f} | "
            f"{', '.join(f'{x:.1f}' for x in r['passes_runs_per_minute'])} | "
            f"{r['run_seconds_median']:.1f} | "
            f"{r['machine_cpu_percent']:.0f}% | {r['bench_cores']:.2f} | "
            f"{r['others_cores']:.2f} | {r['peak_memory_in_use_mb']} | "
            f"{r['busy_before_cores']:.2f} |"
        )
    failures = [f"- parallel {r['parallel']}: {f}" for r in results for f in r["failed"]]
    return "\n".join(lines + (["", "Runs that did not pass:", *failures] if failures else []))


def _numbers(text: str) -> list[int]:
    values = [int(part) for part in text.split(",") if part.strip()]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: positive numbers, comma separated")
    return values


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python bench/office.py", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--employees", type=_numbers, default=[1, 2, 4], help="default 1,2,4")
    parser.add_argument("--window", type=float, default=30.0, help="seconds sampled (default 30)")
    parser.add_argument("--interval", type=float, default=1.0, help="between samples (default 1)")
    parser.add_argument(
        "--parallel", type=_numbers, default=[1, 2, 3, 4, 6], help="default 1,2,3,4,6"
    )
    parser.add_argument(
        "--repeats", type=int, default=1, help="suite passes per --parallel value (default 1)"
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=120.0,
        help=f"seconds to wait, before each measurement, for the machine to be quiet (under "
        f"{QUIET_CORES} cores busy; default 120)",
    )
    parser.add_argument("--skip-footprint", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the runs' folders")
    parser.add_argument("--json", action="store_true", help="print one JSON object at the end")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="shain-bench-office-"))
    print(
        f"# bench/office.py on {os.cpu_count()} CPUs, "
        f"{round(int(Path('/proc/meminfo').read_text().split()[1]) / 1024 / 1024)} GB; "
        f"load {_load()}" + (f"; files in {folder}" if args.keep else "") + "\n",
        flush=True,
    )
    try:
        report = run(args, folder)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    if args.json:
        print(json.dumps(report, indent=2))


def run(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    report: dict[str, Any] = {"command": " ".join(["python bench/office.py", *sys.argv[1:]])}
    if not args.skip_footprint:
        footprint = []
        for kind in ("idle", "working"):
            for count in args.employees:
                print(f"footprint: {count} {kind} ...", file=sys.stderr, flush=True)
                footprint.append(
                    measure_footprint(
                        kind, count, args.window, args.interval, folder, args.quiet_wait
                    )
                )
        report["footprint"] = footprint
        print(footprint_table(footprint), "", kinds_table(footprint), "", sep="\n", flush=True)
    if not args.skip_throughput:
        throughput = []
        for parallel in args.parallel:
            passes = []
            for repeat in range(args.repeats):
                print(f"throughput: --parallel {parallel} ...", file=sys.stderr, flush=True)
                name = f"bench-parallel-{parallel}-{repeat + 1}"
                passes.append(measure_throughput(parallel, folder, args.quiet_wait, name))
            passes.sort(key=lambda result: float(result["runs_per_minute"]))
            median = dict(passes[len(passes) // 2])  # the other columns are this pass's
            median["passes_runs_per_minute"] = [result["runs_per_minute"] for result in passes]
            median["runs"] = sum(result["runs"] for result in passes)
            median["passed"] = sum(result["passed"] for result in passes)
            median["failed"] = [f for result in passes for f in result["failed"]]
            throughput.append(median)
        report["throughput"] = throughput
        print(throughput_table(throughput), "", sep="\n", flush=True)
        print(
            "each pass: shain bench --policy oracle --seeds 1 --parallel N -o FOLDER",
            flush=True,
        )
    return report


if __name__ == "__main__":
    main()

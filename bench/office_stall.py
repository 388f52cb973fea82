"""How long the office's GUI thread stalls while employees work (target: under 50 ms).

The office window (real Qt, offscreen) with N employees running benchmark tasks by their
oracle, each a `shain run` process on its own screen, followed through its control channel,
with live thumbnails. A 5 ms timer on the GUI thread records how late each tick fires; the
longest gap between ticks is the longest stall a boss would feel. Benchmarks are not tests:
this prints medians and the worst, over the whole run.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/office_stall.py --employees 3 --rounds 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QElapsedTimer, QTimer
from PySide6.QtWidgets import QApplication

from agent.office.employee import EmployeeOrder
from ui.office.office import Office
from ui.office.office_window import OfficeWindow

REPO = Path(__file__).resolve().parents[1]
TASKS = ("galculator-mouse", "mousepad-select-copy", "zenity-checklist", "mousepad-type-save")
TICK_MS = 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--employees", type=int, default=3, help="at once (default 3)")
    parser.add_argument("--rounds", type=int, default=2, help="tasks per employee (default 2)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    folder = Path(tempfile.mkdtemp(prefix="shain-bench-office-"))
    office = Office(slots=args.employees)
    window = OfficeWindow(office, folder / "runs")
    window.show()
    count = args.employees * args.rounds
    for index in range(count):
        name = TASKS[index % len(TASKS)]
        order = EmployeeOrder(
            task_file=REPO / "tasks" / "bench" / f"{name}.yaml",
            workdir=folder / f"work-{index}",
            runs_dir=folder / "runs",
            model_arguments=("--policy", "oracle", "--seed", str(index)),
        )
        office.hire(name, order)
    gaps: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last: list[int] = []  # from the first tick on: the window's first paint is not a stall

    def tick() -> None:
        now = clock.nsecsElapsed()
        if last:
            gaps.append((now - last[0]) / 1e6)
        last[:] = [now]
        if all(employee.is_over for employee in office.employees):
            app.quit()

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(TICK_MS)
    started = time.monotonic()
    app.exec()
    timer.stop()  # quitting below waits for the processes: that is shutting down, not a stall
    seconds = time.monotonic() - started
    states = [employee.state for employee in office.employees]
    problems = [f"{e.label}: {e.state} {e.detail}" for e in office.employees if e.state != "done"]
    office.quit()
    window.shut()
    stalls = sorted(gap - TICK_MS for gap in gaps)
    result = {
        "employees_at_once": args.employees,
        "tasks": count,
        "done": states.count("done"),
        "seconds": round(seconds, 1),
        "ticks": len(gaps),
        "median_lateness_ms": round(statistics.median(stalls), 2),
        "p99_lateness_ms": round(stalls[int(len(stalls) * 0.99)], 2),
        "longest_stall_ms": round(stalls[-1], 2),
        "not_done": problems,
    }
    if args.json:
        print(json.dumps(result), flush=True)
        os._exit(0)
    for key, value in result.items():
        print(f"{key:>20}: {value}")
    sys.stdout.flush()
    os._exit(0)  # Qt objects torn down by the interpreter's last collection can crash it


if __name__ == "__main__":
    main()

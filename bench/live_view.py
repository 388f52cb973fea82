"""What a live view of an employee's screen costs: frames per second shown and CPU, at the
watching rate (5 a second) and as fast as it goes, for a 1920x1080 screen shown at about half
size (the watch window's picture).

A private Xvfb with a terminal printing the time every 20 ms (so frames differ); the real
LiveView (Qt offscreen, so painting is counted) grabs and scales on its thread and paints on
the GUI thread. CPU is this process's time (every thread) and the X server's, over the wall
time, in % of one core. Medians of 1-second windows for fps; medians per frame for grab and
scale.

    python bench/live_view.py [--seconds 10] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from agent.desktop.apps import AppLauncher
from agent.desktop.virtual_display import VirtualDisplay
from agent.geometry import Size

VIEW = (960, 540)
MAX_FPS = 1000.0  # no wait between frames: as fast as grabbing and scaling go
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Phase:
    asked_fps: str
    fps_median: float
    frames: int
    cpu_percent: float  # this process, every thread
    x_server_cpu_percent: float
    grab_ms_median: float
    scale_ms_median: float


def _process_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def _run_events(seconds: float) -> None:
    """Qt's event loop, as an app runs it (idle between events), for `seconds`."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(round(seconds * 1000), loop.quit)
    loop.exec()


def measure(display: VirtualDisplay, seconds: float) -> list[Phase]:
    from PySide6.QtWidgets import QApplication

    from ui.office.live_view import LiveView
    from ui.office.screen_feed import FeedFrame

    _app = QApplication.instance() or QApplication([])
    view = LiveView(display.screen)
    view.resize(*VIEW)
    view.show()
    frames: list[FeedFrame] = []
    view.frame_shown.connect(frames.append)
    view.start()
    x_server = display.pids[0]

    def run(fps: float, label: str) -> Phase:
        view.fps = fps
        _run_events(1.0)  # settle into the new rate
        frames.clear()
        started, cpu, x_cpu = time.monotonic(), time.process_time(), _process_seconds(x_server)
        _run_events(seconds)
        wall = time.monotonic() - started
        used, x_used = time.process_time() - cpu, _process_seconds(x_server) - x_cpu
        per_second = [0] * int(wall)
        for frame in frames:
            second = int(frame.captured_at - started)
            if 0 <= second < len(per_second):
                per_second[second] += 1
        return Phase(
            label,
            statistics.median(per_second),
            len(frames),
            round(100 * used / wall, 1),
            round(100 * x_used / wall, 1),
            round(1000 * statistics.median(f.grab_seconds for f in frames), 2),
            round(1000 * statistics.median(f.scale_seconds for f in frames), 2),
        )

    try:
        return [run(5.0, "5"), run(15.0, "15"), run(MAX_FPS, "max")]
    finally:
        view.stop()
        view.wait_stopped()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=10.0, help="per rate (default 10)")
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before Qt is first imported
    with VirtualDisplay(Size(1920, 1080)) as display:
        apps = AppLauncher(display.screen)
        ticking = "while :; do date +%T.%N; sleep 0.02; done"
        apps.launch(["xterm", "-geometry", "200x60+0+0", "-e", "sh", "-c", ticking])
        time.sleep(1.0)
        try:
            phases = measure(display, options.seconds)
        finally:
            apps.close_all()
    rows: list[dict[str, Any]] = [asdict(phase) for phase in phases]
    if options.json:
        print(json.dumps({"screen": "1920x1080", "view": "x".join(map(str, VIEW)), "rates": rows}))
        return
    print(f"live view of a 1920x1080 screen shown at {VIEW[0]}x{VIEW[1]}, {os.cpu_count()} cores")
    print(
        f"{'asked fps':>9} {'fps (median)':>12} {'frames':>7} {'CPU %':>6} {'Xvfb CPU %':>10} "
        f"{'grab ms':>8} {'scale ms':>9}"
    )
    for phase in phases:
        print(
            f"{phase.asked_fps:>9} {phase.fps_median:>12g} {phase.frames:>7} "
            f"{phase.cpu_percent:>6} {phase.x_server_cpu_percent:>10} "
            f"{phase.grab_ms_median:>8} {phase.scale_ms_median:>9}"
        )


if __name__ == "__main__":
    main()

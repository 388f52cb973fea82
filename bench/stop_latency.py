"""How fast a stop ends typing: the time from StopToken.stop() to the last key event the X
server delivered, while LocalDesktop types a 5,000-character text.

A pynput listener (X RECORD) sees every key event the server processes, so this measures
what an app would receive, not what Shain believes it sent.

    python bench/stop_latency.py [--runs N] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import threading
import time
from collections.abc import Callable

from agent.desktop.screen import Screen
from agent.desktop.virtual_display import VirtualDisplay


def _recorder(seen: list[float]) -> Callable[..., None]:
    def record(*_: object) -> None:
        seen.append(time.monotonic())

    return record


def measure(screen: Screen, runs: int) -> list[float]:
    from pynput import keyboard

    from agent.actions import TypeText
    from agent.desktop.local import LocalDesktop
    from agent.errors import Stopped
    from agent.stop import StopToken

    latencies = []
    with LocalDesktop(screen) as desktop:
        for _ in range(runs):
            presses: list[float] = []
            listener = keyboard.Listener(on_press=_recorder(presses))
            listener.start()
            listener.wait()
            stop = StopToken()
            timer = threading.Timer(0.3, stop.stop)
            timer.start()
            with contextlib.suppress(Stopped):
                desktop.execute(TypeText("x" * 5000), stop)
            time.sleep(0.2)  # let the listener receive what the server still had
            listener.stop()
            listener.join(timeout=2)
            assert stop.requested_at is not None
            latencies.append(max(presses) - stop.requested_at)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="stops to measure (default 20)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    with VirtualDisplay(window_manager=None) as display:
        # pynput's listener (the measurement) opens the display DISPLAY names.
        os.environ["DISPLAY"] = display.display
        latencies = [seconds * 1000 for seconds in measure(display.screen, args.runs)]
    result = {
        "runs": len(latencies),
        "median_ms": round(statistics.median(latencies), 3),
        "max_ms": round(max(latencies), 3),
        "min_ms": round(min(latencies), 3),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"stop -> last key event, typing 5,000 characters, {result['runs']} runs: "
            f"median {result['median_ms']:.2f} ms, min {result['min_ms']:.2f} ms, "
            f"max {result['max_ms']:.2f} ms"
        )


if __name__ == "__main__":
    main()

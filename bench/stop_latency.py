"""How fast a stop lands: the time from StopToken.stop() to the last key event the X server
delivered while LocalDesktop types a 5,000-character text; and to the run's thread getting
Stopped while it waits for a model server that sits on the request.

A pynput listener (X RECORD) sees every key event the server processes, so the first
measures what an app would receive, not what Shain believes it sent.

    python bench/stop_latency.py [--runs N] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
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


def measure_model_wait(runs: int) -> list[float]:
    from agent.config.profiles import Profile
    from agent.errors import Stopped
    from agent.policy.client import ModelClient
    from agent.stop import StopToken

    latencies = []
    # A server that takes every connection into its backlog and never answers: the request
    # is sent and then waits, as for a model that is slow to think.
    with socket.create_server(("127.0.0.1", 0), backlog=64) as silent:
        base_url = f"http://127.0.0.1:{silent.getsockname()[1]}/v1"
        for _ in range(runs):
            stop = StopToken()
            profile = Profile(base_url=base_url, model="m", timeout_seconds=60)
            client = ModelClient(profile, stop, environ={})
            timer = threading.Timer(0.3, stop.stop)
            timer.start()
            with contextlib.suppress(Stopped):
                client.call(
                    lambda api: api.chat.completions.create(
                        model="m", messages=[{"role": "user", "content": "hi"}]
                    )
                )
            assert stop.requested_at is not None
            latencies.append(time.monotonic() - stop.requested_at)
    return latencies


def _summary(latencies: list[float]) -> dict[str, float]:
    milliseconds = [seconds * 1000 for seconds in latencies]
    return {
        "runs": len(milliseconds),
        "median_ms": round(statistics.median(milliseconds), 3),
        "max_ms": round(max(milliseconds), 3),
        "min_ms": round(min(milliseconds), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="stops to measure (default 20)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    with VirtualDisplay(window_manager=None) as display:
        # pynput's listener (the measurement) opens the display DISPLAY names.
        os.environ["DISPLAY"] = display.display
        typing = _summary(measure(display.screen, args.runs))
    waiting = _summary(measure_model_wait(args.runs))
    if args.json:
        print(json.dumps({"typing": typing, "model_wait": waiting}))
        return
    for what, result in (("last key event, typing 5,000 characters", typing),
                         ("Stopped, waiting for a model server that hangs", waiting)):  # fmt: skip
        print(
            f"stop -> {what}, {result['runs']} runs: median {result['median_ms']:.2f} ms, "
            f"min {result['min_ms']:.2f} ms, max {result['max_ms']:.2f} ms"
        )


if __name__ == "__main__":
    main()

"""CPU per settling screen: settle on drawing reports (X DAMAGE) against sampling the screen.

Each screen is a private 1920x1080 virtual screen (as `shain run --virtual-display` makes it)
with mousepad open, driven by a child process of its own (pyautogui binds one display per
process) that acts and settles in a loop, as a scripted employee does: type a character,
settle; BackSpace, settle; ... for --seconds. What it costs is the CPU time of that process
(capture, comparison, input, waiting) plus its screen's X server (Xvfb: drawing, and serving
the captures), read from /proc before and after the loop; the app's own CPU is the same
either way and is left out. Both ways run with 1 and with --screens screens at once.

    python bench/settle_cpu.py [--seconds S] [--screens N] [--runs R] [--json]

Reported per way and number of screens: % of one core per screen (median over --runs),
settles per second per screen, and CPU milliseconds per action and settle. On 2 cores, 4
screens at once also slow each other's apps: the figures are what each screen costs, not how
fast it goes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from agent.actions import Action, KeyPress, TypeText
from agent.desktop.apps import AppLauncher, private_screen
from agent.desktop.current_frame import CurrentFrame
from agent.desktop.local import LocalDesktop
from agent.desktop.processes import all_processes
from agent.desktop.settle import fingerprint, wait_until_settled
from agent.geometry import Size
from agent.perception.conditions import WindowAppears, wait_for
from agent.stop import StopToken

WAYS = ("sampling", "drawing")


def _xvfb_cpu_seconds() -> float:
    """CPU seconds of the Xvfb servers this process started (its children)."""
    return sum(
        process.cpu_seconds
        for process in all_processes()
        if process.name == "Xvfb" and process.parent == os.getpid()
    )


def one_screen(way: str, seconds: float) -> dict[str, float]:
    """Act and settle on a private screen for `seconds`; what it cost."""
    with tempfile.TemporaryDirectory(prefix="shain-settle-cpu-") as folder:
        note = Path(folder) / "note.txt"
        note.write_text("settling\n", encoding="utf-8")
        with private_screen(Size(1920, 1080)) as screen:
            launcher = AppLauncher(screen)
            try:
                launcher.launch(["mousepad", str(note)])
                wait_for(WindowAppears("note.txt - Mousepad"), 30, StopToken(), screen)
                with LocalDesktop(screen) as desktop:
                    return _loop(desktop, way, seconds)
            finally:
                launcher.close_all()


def _loop(desktop: LocalDesktop, way: str, seconds: float) -> dict[str, float]:
    stop = StopToken()
    drawing = desktop.drawing if way == "drawing" else None
    if way == "drawing" and drawing is None:
        raise RuntimeError("this X server reports no drawing (no DAMAGE extension)")
    actions: tuple[Action, ...] = (TypeText("x"), KeyPress(("backspace",)))
    time.sleep(1.0)  # the window comes to rest
    cpu_before, xvfb_before, started = time.process_time(), _xvfb_cpu_seconds(), time.monotonic()
    # As the loop looks: on drawing reports a look reuses the last capture while nothing was
    # drawn since (settle's capture at rest is the next reference); sampling captures each time.
    look = CurrentFrame(desktop) if drawing is not None else desktop.capture
    settles = 0
    while time.monotonic() - started < seconds:
        action = actions[settles % 2]
        reference = fingerprint(look()).copy()
        if drawing is not None:
            drawing.forget()
        desktop.execute(action, stop)
        wait_until_settled(look, reference, stop, drawing=drawing, action=action)
        settles += 1
    wall = time.monotonic() - started
    return {
        "wall_s": wall,
        "settles": settles,
        "own_cpu_s": time.process_time() - cpu_before,
        "xvfb_cpu_s": _xvfb_cpu_seconds() - xvfb_before,
    }


def run_child(way: str, seconds: float) -> dict[str, float]:
    command = [sys.executable, str(Path(__file__).resolve()), "--one-screen", way]
    command += ["--seconds", str(seconds)]
    child = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    if child.returncode != 0:
        raise RuntimeError(f"a screen failed: {(child.stderr or child.stdout)[-800:]}")
    result: dict[str, float] = json.loads(child.stdout.strip().splitlines()[-1])
    return result


def measure(way: str, screens: int, seconds: float) -> dict[str, float]:
    with ThreadPoolExecutor(max_workers=screens) as pool:
        results = list(pool.map(lambda _: run_child(way, seconds), range(screens)))
    per_screen = [
        100 * (result["own_cpu_s"] + result["xvfb_cpu_s"]) / result["wall_s"] for result in results
    ]
    return {
        "core_percent_per_screen": statistics.mean(per_screen),
        "own_percent_per_screen": statistics.mean(
            100 * result["own_cpu_s"] / result["wall_s"] for result in results
        ),
        "xvfb_percent_per_screen": statistics.mean(
            100 * result["xvfb_cpu_s"] / result["wall_s"] for result in results
        ),
        "settles_per_second_per_screen": statistics.mean(
            result["settles"] / result["wall_s"] for result in results
        ),
        "cpu_ms_per_settle": statistics.mean(
            1000 * (result["own_cpu_s"] + result["xvfb_cpu_s"]) / result["settles"]
            for result in results
        ),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    table: dict[str, dict[str, Any]] = {}
    for screens in (1, args.screens):
        for way in WAYS:
            rounds = []
            for number in range(args.runs):
                print(f"{way}, {screens} screen(s), run {number + 1}...", file=sys.stderr)
                rounds.append(measure(way, screens, args.seconds))
            table[f"{way} x{screens}"] = {
                key: round(statistics.median(r[key] for r in rounds), 2) for key in rounds[0]
            } | {"runs": [round(r["core_percent_per_screen"], 2) for r in rounds]}
    return {"seconds": args.seconds, "runs": args.runs, "table": table}


def format_table(result: dict[str, Any]) -> str:
    lines = [
        f"CPU per settling screen (type a character / BackSpace in mousepad, settle, for "
        f"{result['seconds']:g} s; medians of {result['runs']} runs; % of one core)",
        "",
        f"{'way, screens at once':<24}{'per screen':>11}{'shain':>8}{'Xvfb':>8}{'settles/s':>11}",
    ]
    for name, row in result["table"].items():
        lines.append(
            f"{name:<24}{row['core_percent_per_screen']:>10.1f}%"
            f"{row['own_percent_per_screen']:>7.1f}%{row['xvfb_percent_per_screen']:>7.1f}%"
            f"{row['settles_per_second_per_screen']:>11.1f}{row['cpu_ms_per_settle']:>15.1f}"
        )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python bench/settle_cpu.py",
        description="CPU per settling screen: settle on X drawing reports against sampling "
        "the screen every 25 ms, with 1 and N screens at once.",
        epilog="Needs Xvfb, openbox, D-Bus, at-spi2-core and mousepad.",
    )
    parser.add_argument("--seconds", type=float, default=15.0, help="per measurement (15)")
    parser.add_argument("--screens", type=int, default=4, help="screens at once (4)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each, medians (3)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--one-screen", choices=WAYS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.screens < 1 or args.runs < 1:
        parser.error("--seconds, --screens and --runs must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.one_screen:
        print(json.dumps(one_screen(args.one_screen, args.seconds)))
        return 0
    result = run(args)
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

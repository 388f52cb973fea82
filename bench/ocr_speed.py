"""What OCR costs and how well it reads xterm's small default font, on a private 1920x1080
screen: two xterms showing known lines (80x24, the "fixed" 6x13 bitmap font) and mousepad.

Measured, as medians: the first read (rapidocr's import and model load included), a read of
the whole screen, of a 600x300 region around one terminal, and a cache hit. Reads that should
not hit the cache get a copy of the frame with one corner pixel changed. Quality: the share of
the terminals' lines read exactly (whitespace runs as one space), region by region and from
the whole screen.

    python bench/ocr_speed.py [--runs N] [--upscale X] [--threads N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from difflib import SequenceMatcher
from importlib import metadata
from pathlib import Path
from typing import Any

from agent.desktop.apps import AppLauncher, private_profile
from agent.desktop.protocol import Frame
from agent.desktop.virtual_display import VirtualDisplay
from agent.desktop.windows import list_windows
from agent.geometry import Box, Size
from agent.perception.conditions import WindowAppears, wait_for
from agent.perception.ocr import DEFAULT_UPSCALE, OcrReader
from agent.stop import StopToken

SCREEN = Size(1920, 1080)
TERMINALS = ((40, 60), (1000, 60))  # where the two xterms go
REGION_SIZE = Size(600, 300)
# Words for the terminals' lines, the kind a business desktop shows.
VOCABULARY = (
    "report invoice quarterly ready total budget meeting Friday contract signed send please "
    "file folder export import settings open close save cancel error warning user admin "
    "server backup daily weekly Tokyo Osaka Tanaka shipment order pending done failed retry"
)
WORDS = VOCABULARY.split()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python bench/ocr_speed.py", description=__doc__)
    parser.add_argument("--runs", type=int, default=5, metavar="N", help="reads of each kind")
    parser.add_argument("--upscale", type=float, default=DEFAULT_UPSCALE, metavar="X")
    parser.add_argument("--threads", type=int, default=None, metavar="N")
    parser.add_argument("--json", action="store_true", help="one JSON object, not a table")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def known_lines(seed: int, count: int = 22) -> list[str]:
    """Sentences, `ls -l` lines, paths and figures, as a terminal shows them (< 80 columns)."""
    pick = random.Random(seed)
    lines = []
    for _ in range(count):
        kind = pick.random()
        if kind < 0.5:
            sentence = " ".join(pick.choice(WORDS) for _ in range(pick.randint(3, 9)))
            lines.append(sentence[0].upper() + sentence[1:] + pick.choice(".:?!,"))
        elif kind < 0.7:
            lines.append(
                f"-rw-r--r-- 1 user staff {pick.randint(10, 99999):>6} Mar "
                f"{pick.randint(1, 28):>2} {pick.randint(0, 23):02}:{pick.randint(0, 59):02} "
                f"{pick.choice(WORDS)}_{pick.randint(1, 99)}.{pick.choice(['txt', 'csv', 'log'])}"
            )
        elif kind < 0.85:
            folder, name = pick.choice(WORDS), pick.choice(WORDS)
            lines.append(f"/home/{folder}/{name}-{pick.randint(100, 999)}")
        else:
            lines.append(
                f"ID {pick.randint(1000, 9999)}  amount ${pick.randint(1, 9999)}."
                f"{pick.randint(0, 99):02}  rate {pick.randint(0, 100)}%  [{pick.choice(WORDS)}]"
            )
    return [line[:78] for line in lines]


def window_box(environment: dict[str, str], title: str) -> Box:
    """The window's client box on the screen (title bar excluded)."""
    windows = list_windows(environment["DISPLAY"])
    return next(window.box for window in windows if window.title == title)


def capture(display: str) -> Frame:
    import mss
    import numpy as np

    with mss.MSS(display=display) as grabber:
        shot = grabber.grab(grabber.monitors[1])
        pixels = np.frombuffer(shot.raw, dtype=np.uint8).reshape(shot.height, shot.width, 4)
        return Frame(pixels.copy(), time.monotonic())


def changed(frame: Frame, counter: int, where: Box) -> Frame:
    """The same screen with the top-left pixel of `where` changed: the same OCR work (a
    window's corner), a new cache key."""
    pixels = frame.pixels.copy()
    pixels[where.top, where.left] = (counter % 256, 0, 0, 255)
    return Frame(pixels, time.monotonic())


def timed(read: Callable[[Frame, Box | None], object], frame: Frame, region: Box | None) -> float:
    started = time.perf_counter()
    read(frame, region)
    return time.perf_counter() - started


def _spaced(text: str) -> str:
    return " ".join(text.split())


def exact_share(read: list[str], expected: list[str]) -> float:
    seen = {_spaced(text) for text in read}
    return sum(_spaced(line) in seen for line in expected) / len(expected)


def misread(read: list[str], expected: list[str]) -> list[list[str]]:
    """[expected, the most alike line read] for each line not read exactly."""
    seen = [_spaced(text) for text in read]
    pairs = []
    for line in expected:
        if _spaced(line) not in seen:
            alike = max(seen, key=lambda text: SequenceMatcher(None, _spaced(line), text).ratio())
            pairs.append([line, alike])
    return pairs


def measure(args: argparse.Namespace) -> dict[str, Any]:
    profile = Path(tempfile.mkdtemp(prefix="shain-ocr-bench-"))
    expected = {f"bench-term-{i}": known_lines(seed=i) for i in range(len(TERMINALS))}
    with VirtualDisplay(SCREEN) as display:
        screen = display.screen.with_environment(
            private_profile(display.child_environment(), profile)
        )
        environment = dict(screen.environment)
        apps = AppLauncher(screen)
        try:
            for (title, lines), (x, y) in zip(expected.items(), TERMINALS, strict=True):
                text = profile / f"{title}.txt"
                text.write_text("\n".join(lines) + "\n")
                geometry = f"80x24+{x}+{y}"
                command = ["sh", "-c", f"cat {text}; sleep 100000"]
                apps.launch(["xterm", "-T", title, "-geometry", geometry, "-e", *command])
                wait_for(WindowAppears(title), 20, StopToken(), screen)
            apps.launch(["mousepad"])
            wait_for(WindowAppears("Mousepad"), 20, StopToken(), screen)
            time.sleep(1.0)  # everything drawn
            windows = {title: window_box(environment, title) for title in expected}
            frame = capture(display.display)
        finally:
            apps.close_all()

    reader = OcrReader(upscale=args.upscale, threads=args.threads)
    first_window = next(iter(windows.values()))
    region = Box(first_window.left, first_window.top, REGION_SIZE.width, REGION_SIZE.height)
    first = timed(reader.read, changed(frame, 0, region), region)
    full, part, hit = [], [], []
    for run in range(1, args.runs + 1):
        full.append(timed(reader.read, changed(frame, run, region), None))
        part.append(timed(reader.read, changed(frame, run, region), region))
        hit.append(timed(reader.read, frame, None))
    whole = [line.text for line in reader.read(frame)]  # this one read by the last hit
    by_region = [line.text for box in windows.values() for line in reader.read(frame, box)]
    everything = [line for lines in expected.values() for line in lines]
    return {
        "upscale": args.upscale,
        "threads": reader.threads,
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "rapidocr": metadata.version("rapidocr"),
        "onnxruntime": metadata.version("onnxruntime"),
        "first_read_s": first,
        "full_screen_s": statistics.median(full),
        "full_screen_all_s": full,
        "region_600x300_s": statistics.median(part),
        "region_all_s": part,
        "cache_hit_ms": statistics.median(hit) * 1000,
        "lines_exact_by_window": exact_share(by_region, everything),
        "lines_exact_whole_screen": exact_share(whole, everything),
        "lines_on_screen": len(whole),
        "misread_by_window": misread(by_region, everything),
    }


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    result = measure(args)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"rapidocr {result['rapidocr']}, onnxruntime {result['onnxruntime']}, "
        f"upscale {result['upscale']:g}, {result['threads']} threads "
        f"({result['cpus_usable']} CPUs usable), medians of {args.runs}"
    )
    print(f"  first read (load included)   {result['first_read_s']:6.2f} s")
    print(f"  whole 1920x1080 screen       {result['full_screen_s']:6.2f} s")
    print(f"  600x300 region               {result['region_600x300_s']:6.2f} s")
    print(f"  cache hit                    {result['cache_hit_ms']:6.2f} ms")
    print(f"  xterm lines exact, by window {result['lines_exact_by_window']:6.0%}")
    print(f"  xterm lines exact, screen    {result['lines_exact_whole_screen']:6.0%}")
    for expected, read in result["misread_by_window"]:
        print(f"    {expected!r} read as {read!r}")


if __name__ == "__main__":
    main()

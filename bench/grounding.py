"""Grounding accuracy of Shain's locators (and of stubs that show the harness works), on the
benchmark suite's apps on a private virtual screen.

    python bench/grounding.py [--json] [--no-ocr] [--repeats N]

Scenes: mousepad + galculator, mousepad's Find and Replace dialog, zenity entry and list
dialogs, pcmanfm on a folder. In each, samples are built from the visible accessibility
elements (agent/benchmark/grounding.py) and every grounder is scored on the same screenshot:
point in the true box for the things on the screen, refusal for things that are not. Also
reports the time of a full accessibility snapshot (visible elements) of the example apps.

With OCR, also what a model is shown: each scene's frame shrunk to 1280x720 by Shain's
downscale (agent/perception/encoding.py) and by Pillow's BOX filter (what it used before), and
how many of the scene's named things OCR reads at their place in each (a 4-letter name or
longer, in the right box scaled down): the shrunk picture must lose nothing a model reads.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from agent.benchmark.grounding import (
    AccessibilityGrounder,
    BoxCentreStub,
    Grounder,
    GroundingSample,
    OcrGrounder,
    Prediction,
    ShiftedStub,
    evaluate,
    markdown,
    report,
    samples_from,
)
from agent.desktop.apps import AppLauncher, private_screen
from agent.desktop.local import LocalDesktop
from agent.desktop.protocol import Frame
from agent.desktop.screen import Screen
from agent.desktop.virtual_display import DEFAULT_SIZE
from agent.geometry import Box, Size
from agent.perception.conditions import WindowAppears, wait_for
from agent.perception.encoding import downscaled, frame_to_image, image_to_frame
from agent.perception.locator import TextReader
from agent.perception.screen_elements import ScreenElements, default_text_reader
from agent.stop import StopToken


@dataclass(frozen=True)
class Scene:
    name: str
    commands: tuple[tuple[str, ...], ...]
    windows: tuple[str, ...]  # a title pattern per window to wait for
    keys: str = ""  # pressed once the windows are up (xdotool key syntax)


def scenes(folder: Path) -> list[Scene]:
    note = folder / "report.txt"
    note.write_text("Quarterly report\nSales rose by 12 percent.\n", encoding="utf-8")
    files = folder / "files"
    files.mkdir(exist_ok=True)
    for name in ("budget.ods", "minutes.txt", "photo.png", "plan.md"):
        (files / name).write_text(name, encoding="utf-8")
    rows = [f"{fruit} {size}" for fruit in ("Apple", "Pear", "Plum") for size in ("S", "M", "L")]
    return [
        Scene(
            "mousepad + galculator",
            (("mousepad", str(note)), ("galculator",)),
            ("report.txt", "^galculator$"),
        ),
        Scene(
            "mousepad find and replace",
            (("mousepad", str(note)),),
            ("report.txt",),
            keys="ctrl+r",
        ),
        Scene(
            "zenity entry",
            (("zenity", "--entry", "--title=Rename", "--text=New name:", "--entry-text=draft"),),
            ("^Rename$",),
        ),
        Scene("zenity list", (_zenity_list(rows),), ("^Pick a fruit$",)),
        Scene("pcmanfm", (("pcmanfm", "--no-desktop", str(files)),), ("files",)),
    ]


def _zenity_list(rows: Sequence[str]) -> tuple[str, ...]:
    size = ("--width=400", "--height=400")
    return ("zenity", "--list", "--title=Pick a fruit", "--column=Fruit", *size, *rows)


def _accuracies(shares: dict[str, Any]) -> str:
    return json.dumps({name: round(share["accuracy"], 3) for name, share in shares.items()})


def grounders(elements: ScreenElements, use_ocr: bool) -> list[Grounder]:
    chosen: list[Grounder] = [
        BoxCentreStub(),
        ShiftedStub(5, 3),
        ShiftedStub(15, 10),
        ShiftedStub(30, 20),
        AccessibilityGrounder(elements),
    ]
    reader = default_text_reader() if use_ocr else None
    if reader is not None:
        chosen.append(OcrGrounder(reader, elements.window_boxes))
    elif use_ocr:
        print(
            "grounding: OCR is not installed (pip install 'shain[ocr]'): skipped", file=sys.stderr
        )
    return chosen


MODEL_SIZE = Size(1280, 720)


def model_size_frames(frame: Frame) -> dict[str, Frame]:
    """The frame as a model is shown it, by Shain's downscale and by the BOX filter."""
    box = frame_to_image(frame).resize((MODEL_SIZE.width, MODEL_SIZE.height), Image.Resampling.BOX)
    return {"downscaled": downscaled(frame, MODEL_SIZE), "BOX": image_to_frame(box)}


def names_read(
    reader: TextReader, small: Frame, samples: Sequence[GroundingSample], screen: Size
) -> tuple[int, int]:
    """(names OCR reads inside their box, names tried) in a model-size frame."""
    scale_x, scale_y = small.width / screen.width, small.height / screen.height
    tried = read = 0
    for sample in samples:
        if sample.box is None or len(sample.name.strip()) < 4:
            continue
        tried += 1
        box = sample.box
        area = Box(
            int(box.left * scale_x) - 2,
            int(box.top * scale_y) - 2,
            int(box.width * scale_x) + 4,
            int(box.height * scale_y) + 4,
        )
        if reader.find(small, sample.name.strip(), area):
            read += 1
    return read, tried


def run_scene(
    scene: Scene,
    screen: Screen,
    desktop: LocalDesktop,
    elements: ScreenElements,
    chosen: Sequence[Grounder],
) -> tuple[list[GroundingSample], dict[str, list[Prediction]], Frame]:
    stop = StopToken()
    apps = AppLauncher(screen)
    try:
        for command, window in zip(scene.commands, scene.windows, strict=True):
            apps.launch(list(command))
            wait_for(WindowAppears(window, focused=False), 30, stop, screen)
        if scene.keys:
            apps.launch(["xdotool", "key", scene.keys]).wait(5)
        samples: list[GroundingSample] = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the tree shows up a moment after the windows
            samples = samples_from(elements())
            if sum(s.box is not None for s in samples) >= 5:
                stop.sleep(0.3)  # and grows for a moment more (a dialog's widgets)
                samples = samples_from(elements())
                break
            stop.sleep(0.1)
        frame = desktop.capture()
        predictions = {g.name: evaluate(g, frame, samples) for g in chosen}
        return samples, predictions, Frame(frame.pixels.copy(), frame.captured_at)
    finally:
        apps.close_all()


def snapshot_seconds(screen: Screen, elements: ScreenElements, repeats: int) -> float:
    """Median time of a full visible-elements read with the example apps open."""
    stop = StopToken()
    apps = AppLauncher(screen)
    try:
        apps.launch(["mousepad"])
        wait_for(WindowAppears("Mousepad", focused=False), 30, stop, screen)
        apps.launch(["galculator"])
        wait_for(WindowAppears("^galculator$", focused=False), 30, stop, screen)
        apps.launch(["xterm"])
        wait_for(WindowAppears("xterm", focused=False), 30, stop, screen)
        stop.sleep(1.0)  # let both trees fill in
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            elements()
            times.append(time.perf_counter() - started)
        return statistics.median(times)
    finally:
        apps.close_all()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print the full report as JSON")
    parser.add_argument("--no-ocr", action="store_true", help="leave the OCR locator out")
    parser.add_argument("--repeats", type=int, default=10, help="snapshots to time (default 10)")
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="shain-grounding-") as temporary,
        private_screen(DEFAULT_SIZE) as screen,
    ):
        folder = Path(temporary)
        elements = ScreenElements(screen)
        all_predictions: dict[str, list[Prediction]] = {}
        reader = None if args.no_ocr else default_text_reader()
        model_size: dict[str, list[int]] = {"downscaled": [0, 0], "BOX": [0, 0]}
        with LocalDesktop(screen) as desktop:
            chosen = grounders(elements, not args.no_ocr)
            for scene in scenes(folder):
                samples, predictions, frame = run_scene(scene, screen, desktop, elements, chosen)
                if reader is not None:
                    for way, small in model_size_frames(frame).items():
                        read, tried = names_read(reader, small, samples, desktop.size)
                        model_size[way][0] += read
                        model_size[way][1] += tried
                present = sum(s.box is not None for s in samples)
                print(
                    f"grounding: {scene.name}: {present} targets + {len(samples) - present} absent",
                    file=sys.stderr,
                )
                for name, found in predictions.items():
                    all_predictions.setdefault(name, []).extend(found)
            snapshot = snapshot_seconds(screen, elements, args.repeats)
        elements.close()
    reports = {name: report(found) for name, found in all_predictions.items()}
    result: dict[str, Any] = {"grounders": reports, "snapshot_ms": round(1000 * snapshot, 1)}
    if reader is not None:
        result["ocr_names_read_at_model_size"] = model_size
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print(markdown(reports))
        apps = "mousepad + galculator + xterm"
        print(f"Visible-elements snapshot of {apps}: {1000 * snapshot:.1f} ms (median)")
        if reader is not None:
            for way, (read, tried) in model_size.items():
                print(f"OCR of the {MODEL_SIZE} frame, {way}: {read} of {tried} names read")
        for name, figures in reports.items():
            print(f"\n{name}: by role {_accuracies(figures['by_role'])}")
            print(f"{name}: by app {_accuracies(figures['by_app'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Per-step overhead of Shain against the common pyautogui way, on a private 1920x1080 screen.

One step is the work an agent does around each model call, settle time excluded:

  ours    LocalDesktop.capture() (one reused mss) -> downscaled to 1280x720 (OpenCV, still BGRA)
          -> encode_jpeg(quality=80) (OpenCV) -> LocalDesktop.execute(Click) (XTest, one batch)
  common  pyautogui.screenshot() -> resize to 1280x720 (LANCZOS) -> PNG (Pillow's default
          compression) -> pyautogui.click() with pyautogui's default PAUSE of 0.1 s

Both run on their own Xvfb + openbox display (started and torn down here), interleaved step by
step, clicking alternately at two points in the middle of the empty root window. The whole
measurement is repeated --rounds times (default 3); each figure is the median of the rounds'
medians, p90s are over all steps.

    python bench/step_overhead.py [--runs N] [--warmup N] [--rounds N] [--json]

On Linux, pyautogui.screenshot() (pyscreeze) shells out to `scrot` when the session is X11
(XDG_SESSION_TYPE=x11, set here for the Xvfb screen) or uses Pillow's ImageGrab when
gnome-screenshot is installed; when it cannot work, the common way falls back to
PIL.ImageGrab.grab() and the report says so.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from importlib import metadata
from typing import Any

import numpy as np
from PIL import Image, features

from agent.actions import Click
from agent.desktop.virtual_display import VirtualDisplay
from agent.geometry import Size
from agent.perception.encoding import downscaled, encode_jpeg
from agent.stop import StopToken

SCREEN = Size(1920, 1080)
MODEL_IMAGE = Size(1280, 720)
JPEG_QUALITY = 80
PYAUTOGUI_DEFAULT_PAUSE = 0.1
# Two harmless spots on the empty root window, far enough apart not to make a double-click.
CLICK_POINTS = ((860, 540), (1060, 540))
TARGET_OURS_MS = 5.0
TARGET_RATIO = 40.0

PARTS = ("capture", "resize", "encode", "click", "total")
LABELS = {
    "capture": "capture",
    "resize": "downscale",
    "encode": "encode",
    "click": "click",
    "total": "step total",
}
OURS_DOES = {
    "capture": "LocalDesktop.capture() (mss, reused)",
    "resize": "downscaled(frame, 1280x720): cv2.resize INTER_LINEAR at 1.5x, still BGRA",
    "encode": f"encode_jpeg(quality={JPEG_QUALITY}): OpenCV libjpeg-turbo, from BGRA",
    "click": "LocalDesktop.execute(Click): pyautogui's fail-safe check, then XTest in one batch",
}
COMMON_DOES = {
    "resize": "image.resize((1280, 720), LANCZOS)",
    "encode": "PNG, Pillow default compression",
    "click": f"pyautogui.click(x, y), PAUSE={PYAUTOGUI_DEFAULT_PAUSE}",
}

Timings = dict[str, list[float]]  # part -> milliseconds, one entry per step


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python bench/step_overhead.py",
        description=(
            "Measure Shain's per-step overhead (capture, resize, JPEG encode, click; no settle) "
            "against the common pyautogui way (screenshot, LANCZOS resize, PNG, click with the "
            "default 0.1 s PAUSE) on a private 1920x1080 Xvfb display, and print medians, "
            "p90s and the ratio common/ours."
        ),
        epilog=(
            f"Targets: ours median step < {TARGET_OURS_MS:g} ms and common/ours >= "
            f"{TARGET_RATIO:g}x. Needs Xvfb and openbox; pyautogui.screenshot() needs scrot "
            "(apt-get install scrot) or gnome-screenshot, else PIL.ImageGrab.grab() stands in."
        ),
    )
    parser.add_argument(
        "--runs", type=int, default=30, metavar="N", help="measured steps of each (default 30)"
    )
    parser.add_argument(
        "--warmup", type=int, default=3, metavar="N", help="unmeasured steps first (default 3)"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, metavar="N", help="repeat it all N times (default 3)"
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object instead of the table"
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.warmup < 0:
        parser.error("--warmup must not be negative")
    return args


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def machine_info() -> dict[str, Any]:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "cpu_model": _cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {
            name: _version(name) for name in ("mss", "PyAutoGUI", "pyscreeze", "Pillow", "numpy")
        },
        "pillow_xcb": bool(features.check("xcb")),
    }


def pyscreeze_backend() -> str:
    """What pyautogui.screenshot() will run here, read from pyscreeze's own import-time probes."""
    if not sys.platform.startswith("linux"):
        return f"pyscreeze's {sys.platform} screenshot"
    import pyscreeze  # type: ignore[import-untyped]

    pillow = tuple(getattr(pyscreeze, "PILLOW_VERSION", (0,)))
    gnome = bool(getattr(pyscreeze, "GNOMESCREENSHOT_EXISTS", False))
    scrot = bool(getattr(pyscreeze, "SCROT_EXISTS", False))
    x11 = bool(getattr(pyscreeze, "RUNNING_X11", False))
    if gnome and pillow >= (9, 2, 0):
        return "PIL.ImageGrab.grab() (pyscreeze's choice when gnome-screenshot is installed)"
    if x11 and scrot:
        return "scrot -z to a temporary PNG in the working directory, read back with PIL"
    if gnome:
        return "gnome-screenshot -f to a temporary PNG, read back with PIL"
    return "nothing (pyscreeze wants scrot on X11, or gnome-screenshot)"


def choose_common_capture(gui: Any) -> tuple[Callable[[], Image.Image], str, bool]:
    """pyautogui.screenshot if it works here, else PIL.ImageGrab.grab; (grab, how, fallback)."""
    backend = pyscreeze_backend()
    try:
        shot = gui.screenshot()
        if shot.size != (SCREEN.width, SCREEN.height):
            raise RuntimeError(f"it returned {shot.size[0]}x{shot.size[1]}, not {SCREEN}")
    except Exception as error:
        from PIL import ImageGrab

        hint = " - missing tool: apt-get install scrot" if backend.startswith("nothing") else ""
        how = (
            f"PIL.ImageGrab.grab() as a FALLBACK: pyautogui.screenshot() failed here "
            f"[{backend}]{hint}: {error}"
        )
        return ImageGrab.grab, how, True
    return gui.screenshot, f"pyautogui.screenshot() -> {backend}", False


class Clock:
    """Splits one step into parts; every mark closes the part that ran since the last one."""

    def __init__(self, timings: Timings) -> None:
        self._timings = timings
        self._start = self._last = time.perf_counter()

    def mark(self, part: str) -> None:
        now = time.perf_counter()
        self._timings.setdefault(part, []).append((now - self._last) * 1000)
        self._last = now

    def finish(self) -> None:
        self._timings.setdefault("total", []).append((time.perf_counter() - self._start) * 1000)


@contextlib.contextmanager
def pyautogui_pause(gui: Any, seconds: float) -> Iterator[None]:
    gui.PAUSE = seconds
    try:
        yield
    finally:
        gui.PAUSE = 0  # what LocalDesktop set, and what the rest of the run expects


def summarize(rounds: list[list[float]]) -> dict[str, Any]:
    """The median of the rounds' medians, the p90 over all steps, and each round's median."""
    medians = [statistics.median(values) for values in rounds]
    every = [value for values in rounds for value in values]
    return {
        "median_ms": round(statistics.median(medians), 3),
        "p90_ms": round(float(np.percentile(every, 90)), 3),
        "round_medians_ms": [round(median, 3) for median in medians],
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    with VirtualDisplay(SCREEN) as display:
        # Before anything imports pyautogui: it binds the display named by DISPLAY on import,
        # and pyscreeze decides at import whether this is an X11 session (needed for scrot).
        os.environ["DISPLAY"] = display.display
        session_type_was = os.environ.get("XDG_SESSION_TYPE")
        os.environ["XDG_SESSION_TYPE"] = "x11"
        os.environ.pop("WAYLAND_DISPLAY", None)

        from agent.desktop.local import LocalDesktop  # imports pyautogui when opened

        # scrot writes its PNG into the working directory; keep that out of the caller's.
        with (
            tempfile.TemporaryDirectory(prefix="shain-bench-") as workdir,
            contextlib.chdir(workdir),
            LocalDesktop(display.screen) as desktop,
        ):
            import pyautogui as gui

            stop = StopToken()
            grab, common_capture, fallback = choose_common_capture(gui)
            ours_rounds: list[Timings] = [{} for _ in range(args.rounds)]
            common_rounds: list[Timings] = [{} for _ in range(args.rounds)]
            sizes: dict[str, list[int]] = {"jpeg_bytes": [], "png_bytes": []}

            def ours_step(x: int, y: int, timings: Timings) -> None:
                clock = Clock(timings)
                frame = desktop.capture()
                clock.mark("capture")
                image = downscaled(frame, MODEL_IMAGE)
                clock.mark("resize")
                jpeg = encode_jpeg(image, quality=JPEG_QUALITY)
                clock.mark("encode")
                desktop.execute(Click(x, y), stop)
                clock.mark("click")
                clock.finish()
                sizes["jpeg_bytes"].append(len(jpeg))

            def common_step(x: int, y: int, timings: Timings) -> None:
                with pyautogui_pause(gui, PYAUTOGUI_DEFAULT_PAUSE):
                    clock = Clock(timings)
                    shot = grab()
                    clock.mark("capture")
                    small = shot.resize(
                        (MODEL_IMAGE.width, MODEL_IMAGE.height), Image.Resampling.LANCZOS
                    )
                    clock.mark("resize")
                    buffer = io.BytesIO()
                    small.save(buffer, "PNG")
                    png = buffer.getvalue()
                    clock.mark("encode")
                    gui.click(x, y)
                    clock.mark("click")
                    clock.finish()
                sizes["png_bytes"].append(len(png))

            for ours, common in zip(ours_rounds, common_rounds, strict=True):
                for step in range(args.warmup + args.runs):
                    x, y = CLICK_POINTS[step % len(CLICK_POINTS)]
                    measured = step >= args.warmup
                    ours_step(x, y, ours if measured else {})
                    common_step(x, y, common if measured else {})
            pointer = tuple(gui.position())
            pause_after = gui.PAUSE

    last_point = CLICK_POINTS[(args.warmup + args.runs - 1) % len(CLICK_POINTS)]
    if pointer != last_point:
        raise RuntimeError(f"the clicks did not land: pointer at {pointer}, not {last_point}")
    ours_stats = {part: summarize([t[part] for t in ours_rounds]) for part in PARTS}
    common_stats = {part: summarize([t[part] for t in common_rounds]) for part in PARTS}
    ours_total = ours_stats["total"]["median_ms"]
    ratio = common_stats["total"]["median_ms"] / ours_total
    return {
        "machine": machine_info(),
        "setup": {
            "screen": str(SCREEN),
            "model_image": str(MODEL_IMAGE),
            "display": "Xvfb + openbox (private, torn down on exit)",
            "runs": args.runs,
            "warmup": args.warmup,
            "rounds": args.rounds,
            "click_points": [list(point) for point in CLICK_POINTS],
            "xdg_session_type_was": session_type_was,
            "pyautogui_pause_after": pause_after,
        },
        "ours_does": OURS_DOES,
        "common_does": {"capture": common_capture, **COMMON_DOES},
        "common_capture_fallback": fallback,
        "ours": ours_stats,
        "common": common_stats,
        "ratio_per_part": {
            part: round(common_stats[part]["median_ms"] / ours_stats[part]["median_ms"], 2)
            for part in PARTS
            if ours_stats[part]["median_ms"] > 0
        },
        "ratio": round(ratio, 2),
        "payload_median_bytes": {
            "ours_jpeg": int(statistics.median(sizes["jpeg_bytes"])),
            "common_png": int(statistics.median(sizes["png_bytes"])),
        },
        "targets": {
            f"ours_median_under_{TARGET_OURS_MS:g}ms": ours_total < TARGET_OURS_MS,
            f"ratio_at_least_{TARGET_RATIO:g}x": ratio >= TARGET_RATIO,
        },
        "elapsed_s": round(time.perf_counter() - started, 2),
    }


def format_table(result: dict[str, Any]) -> str:
    machine, setup = result["machine"], result["setup"]
    versions = ", ".join(f"{name} {version}" for name, version in machine["versions"].items())
    lines = [
        f"Shain step overhead vs the common way: {setup['screen']} on {setup['display']}, "
        f"{setup['rounds']} rounds of {setup['runs']} steps each after {setup['warmup']} "
        "warm-up, interleaved; medians of the rounds' medians",
        f"machine: {machine['cpu_count']} CPUs ({machine['cpus_usable']} usable), "
        f"{machine['cpu_model']}; Python {machine['python']}; {machine['platform']}",
        f"libraries: {versions}; Pillow XCB grab: {'yes' if machine['pillow_xcb'] else 'no'}",
        "",
        f"{'part':<18}{'ours med':>10}{'p90':>9}{'common med':>13}{'p90':>9}{'ratio':>9}",
    ]
    for part in PARTS:
        ours, common = result["ours"][part], result["common"][part]
        ratio = result["ratio_per_part"].get(part)
        lines.append(
            f"{LABELS[part]:<18}{ours['median_ms']:>10.2f}{ours['p90_ms']:>9.2f}"
            f"{common['median_ms']:>13.2f}{common['p90_ms']:>9.2f}"
            + (f"{ratio:>8.1f}x" if ratio is not None else f"{'-':>9}")
        )
    lines.append("(milliseconds; ratio = common median / ours median)")
    lines.append("")
    lines.append("ours:")
    lines += [f"  {LABELS[part]:<18}{does}" for part, does in result["ours_does"].items()]
    lines.append("common:")
    lines += [f"  {LABELS[part]:<18}{does}" for part, does in result["common_does"].items()]
    payload = result["payload_median_bytes"]
    lines.append(
        f"payload for the model: ours JPEG {payload['ours_jpeg']:,} bytes, "
        f"common PNG {payload['common_png']:,} bytes (medians)"
    )
    ours_total = result["ours"]["total"]["median_ms"]
    met = [
        ("MET" if ok else "NOT MET")
        for ok in (ours_total < TARGET_OURS_MS, result["ratio"] >= TARGET_RATIO)
    ]
    lines += [
        "",
        "step total per round: ours "
        + ", ".join(f"{m:.2f}" for m in result["ours"]["total"]["round_medians_ms"])
        + " ms; common "
        + ", ".join(f"{m:.2f}" for m in result["common"]["total"]["round_medians_ms"])
        + " ms",
        f"target ours median < {TARGET_OURS_MS:g} ms: {ours_total:.2f} ms -> {met[0]}",
        f"target common/ours >= {TARGET_RATIO:g}x: {result['ratio']:.1f}x -> {met[1]}",
        f"elapsed: {result['elapsed_s']:.1f} s",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not sys.platform.startswith("linux"):
        print("this benchmark needs Linux (it runs its own Xvfb display)", file=sys.stderr)
        return 2
    result = run(args)
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

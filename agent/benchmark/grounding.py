"""Grounding accuracy: can a grounder find, on a screenshot, the thing an instruction names?

Samples come from the accessibility tree of real apps: every visible actionable element with a
name that is unique in its window, with its true box and an instruction ("click the 'Save'
button in the 'Save As' window"), plus instructions for things that are not on the screen,
which a good grounder refuses. A grounder predicts a point (or refuses); a hit is a point
inside the true box. Reports break accuracy down by role, size and app, with the time per
locate.
"""

from __future__ import annotations

import re
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from agent.desktop.protocol import Frame
from agent.geometry import Box, Point
from agent.perception.atspi import Element
from agent.perception.locator import Locator, Target, TextReader
from agent.perception.marks import is_actionable

# Names no app here shows: instructions for them must be refused.
ABSENT_NAMES = ("Frobnicate", "Launch Rocket", "Quantum Settings", "Send Fax")
# By the shorter side of the true box: a 16 px checkbox is small, a text area large.
SIZE_LIMITS = ((24, "small"), (40, "medium"))
_FRIENDLY_ROLES = {"push button": "button", "toggle button": "button", "page tab": "tab"}


@dataclass(frozen=True, slots=True)
class GroundingSample:
    app: str
    role: str
    name: str
    window: str
    box: Box | None  # None: the thing is not on the screen, and the right answer is to refuse
    instruction: str

    @property
    def size(self) -> str:
        if self.box is None:
            return "absent"
        shorter = min(self.box.width, self.box.height)
        return next((label for limit, label in SIZE_LIMITS if shorter < limit), "large")


class Grounder(Protocol):
    @property
    def name(self) -> str: ...

    def ground(self, frame: Frame, sample: GroundingSample) -> Point | None:
        """Where to click for the sample's instruction; None to refuse (not on the screen)."""
        ...


def instruction_for(role: str, name: str, window: str) -> str:
    friendly = _FRIENDLY_ROLES.get(role, role)
    return f"click the {name.strip()!r} {friendly} in the {window!r} window"


def samples_from(elements: Sequence[Element]) -> list[GroundingSample]:
    """A sample per actionable element whose name is unique in its window, and the absent."""
    candidates = [e for e in elements if is_actionable(e) and e.name.strip()]
    counts = Counter((e.window_name, e.name.strip().casefold()) for e in candidates)
    samples = [
        GroundingSample(
            e.app,
            e.role,
            e.name,
            e.window_name,
            e.box,
            instruction_for(e.role, e.name, e.window_name),
        )
        for e in candidates
        if counts[(e.window_name, e.name.strip().casefold())] == 1
    ]
    windows = sorted({(e.app, e.window_name) for e in candidates if e.window_name})
    for index, name in enumerate(ABSENT_NAMES):
        if windows:
            app, window = windows[index % len(windows)]
            instruction = instruction_for("push button", name, window)
            samples.append(GroundingSample(app, "push button", name, window, None, instruction))
    return samples


@dataclass(frozen=True, slots=True)
class Prediction:
    sample: GroundingSample
    point: Point | None
    seconds: float

    @property
    def correct(self) -> bool:
        if self.sample.box is None:
            return self.point is None
        return self.point is not None and self.sample.box.contains(self.point)


def evaluate(
    grounder: Grounder, frame: Frame, samples: Iterable[GroundingSample]
) -> list[Prediction]:
    predictions = []
    for sample in samples:
        started = time.perf_counter()
        point = grounder.ground(frame, sample)
        predictions.append(Prediction(sample, point, time.perf_counter() - started))
    return predictions


def _share(predictions: Sequence[Prediction]) -> dict[str, Any]:
    right = sum(p.correct for p in predictions)
    return {"samples": len(predictions), "correct": right, "accuracy": right / len(predictions)}


def report(predictions: Sequence[Prediction]) -> dict[str, Any]:
    """Accuracy on present targets (overall, by role, size, app), refusals of absent ones, and
    the median time per locate."""
    present = [p for p in predictions if p.sample.box is not None]
    absent = [p for p in predictions if p.sample.box is None]

    def by(key: Callable[[GroundingSample], str]) -> dict[str, Any]:
        groups: defaultdict[str, list[Prediction]] = defaultdict(list)
        for prediction in present:
            groups[key(prediction.sample)].append(prediction)
        return {name: _share(group) for name, group in sorted(groups.items())}

    seconds = [p.seconds for p in predictions]
    return {
        "present": _share(present) if present else None,
        "absent_refused": _share(absent) if absent else None,
        "by_role": by(lambda s: s.role),
        "by_size": by(lambda s: s.size),
        "by_app": by(lambda s: s.app or "?"),
        "median_ms": round(1000 * statistics.median(seconds), 3) if seconds else None,
        # OCR reads a window once and then answers from its cache: the mean shows the reads.
        "mean_ms": round(1000 * statistics.fmean(seconds), 3) if seconds else None,
        "misses": [f"{p.sample.instruction}: {p.point}" for p in predictions if not p.correct][:20],
    }


class BoxCentreStub:
    """Knows the answer: the centre of the true box. The harness must score it 100%."""

    name = "box-centre stub"

    def ground(self, frame: Frame, sample: GroundingSample) -> Point | None:
        return None if sample.box is None else sample.box.center


@dataclass
class ShiftedStub:
    """The true centre moved by a fixed offset, as a model that is a little off would be."""

    dx: int
    dy: int

    @property
    def name(self) -> str:
        return f"shifted stub ({self.dx:+d}, {self.dy:+d}) px"

    def ground(self, frame: Frame, sample: GroundingSample) -> Point | None:
        if sample.box is None:
            return None
        centre = sample.box.center
        return Point(centre.x + self.dx, centre.y + self.dy)


class AccessibilityGrounder:
    """Shain's locator on the accessibility tree: the role, the name and the window."""

    name = "accessibility locator"

    def __init__(self, elements: Callable[[], Sequence[Element]]) -> None:
        self._locator = Locator(elements)

    def ground(self, frame: Frame, sample: GroundingSample) -> Point | None:
        target = Target(role=sample.role, name=sample.name, window=f"^{re.escape(sample.window)}$")
        found = self._locator.find(target, use_ocr=False)
        return found[0].box.center if len(found) == 1 else None


class OcrGrounder:
    """Shain's locator on text alone (no tree): OCR inside the named window's box."""

    name = "ocr locator"

    def __init__(self, ocr: TextReader, windows: Callable[[], Mapping[str, Box]]) -> None:
        self._ocr = ocr
        self._windows = windows

    def ground(self, frame: Frame, sample: GroundingSample) -> Point | None:
        locator = Locator(lambda: [], lambda: frame, self._ocr, self._windows)
        target = Target(text=sample.name.strip(), window=f"^{re.escape(sample.window)}$")
        found = locator.find(target)
        return found[0].box.center if found else None


def markdown(reports: Mapping[str, Mapping[str, Any]]) -> str:
    lines = [
        "| grounder | present: point in box | absent: refused | small | medium | large "
        "| ms per locate: median / mean |",
        "|---|---|---|---|---|---|---|",
    ]

    def cell(share: Mapping[str, Any] | None) -> str:
        if not share:
            return "-"
        return f"{100 * share['accuracy']:.1f}% ({share['correct']}/{share['samples']})"

    for name, figures in reports.items():
        sizes = figures["by_size"]
        lines.append(
            f"| {name} | {cell(figures['present'])} | {cell(figures['absent_refused'])} "
            f"| {cell(sizes.get('small'))} | {cell(sizes.get('medium'))} "
            f"| {cell(sizes.get('large'))} | {figures['median_ms']} / {figures['mean_ms']} |"
        )
    return "\n".join(lines) + "\n"

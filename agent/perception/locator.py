"""Find a thing on the screen by what it is: the accessibility tree first, OCR second.

A `Target` names a thing as a user would: its text, its role, its accessible name, the window
it is in, and which of several (`nth`, in reading order). `Locator.find` looks once;
`Locator.locate` waits for exactly one match and says, when it gives up, what it saw instead.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from agent.desktop.protocol import Frame
from agent.errors import DesktopError
from agent.geometry import Box
from agent.perception.atspi import Element
from agent.stop import StopToken

# Friendly role names (what a task file says) and the AT-SPI roles they cover.
ROLE_ALIASES: Mapping[str, frozenset[str]] = {
    "button": frozenset({"push button", "toggle button"}),
    "checkbox": frozenset({"check box", "check menu item"}),
    "check box": frozenset({"check box", "check menu item"}),
    "radio": frozenset({"radio button", "radio menu item"}),
    "menu item": frozenset({"menu item", "check menu item", "radio menu item"}),
    "field": frozenset({"text", "entry", "password text", "spin button"}),
    "entry": frozenset({"text", "entry", "password text"}),
    "tab": frozenset({"page tab"}),
    "row": frozenset({"table row", "list item", "table cell", "tree item"}),
    "cell": frozenset({"table cell"}),
}
POLL_SECONDS = 0.1
# OCR reads the whole screen in seconds: while waiting, it runs at most this often.
OCR_EVERY_SECONDS = 1.0


class TargetNotFound(DesktopError):
    """Nothing on the screen matched a target within its timeout."""


class AmbiguousTarget(DesktopError):
    """Several things matched a target that did not say which one (`nth`)."""


@dataclass(frozen=True, slots=True)
class Target:
    text: str | None = None  # shown text: a name, a widget's contents, or OCR's reading
    role: str | None = None  # "button", "menu item", or any AT-SPI role name
    name: str | None = None  # the accessible name, whole
    window: str | None = None  # a regular expression for its window's title
    nth: int | None = None  # 1-based, in reading order (top to bottom, left to right)

    def describe(self) -> str:
        parts = [
            f"{key}: {value!r}"
            for key, value in (
                ("text", self.text),
                ("role", self.role),
                ("name", self.name),
                ("within window", self.window),
                ("nth", self.nth),
            )
            if value is not None
        ]
        return "{" + ", ".join(parts) + "}"


@dataclass(frozen=True, slots=True)
class Candidate:
    source: Literal["accessibility", "ocr"]
    role: str  # "text" for what OCR read
    label: str  # the name, contents or text that matched
    box: Box
    window: str  # its window's title ("" when not known)
    actionable: bool = False
    # A part of a text widget's contents: the box is the whole widget, not the words.
    inside_contents: bool = False

    def describe(self) -> str:
        where = f" in {self.window!r}" if self.window else ""
        centre = self.box.center
        return f"{self.role} {self.label!r} at ({centre.x}, {centre.y}){where} [{self.source}]"


class TextReader(Protocol):
    """OCR: where a text appears in a frame (optionally only in a region)."""

    def find(self, frame: Frame, text: str, region: Box | None = None) -> Sequence[TextSeen]: ...


class TextSeen(Protocol):
    @property
    def text(self) -> str: ...

    @property
    def box(self) -> Box: ...


ElementSource = Callable[[], Sequence[Element]]
WindowBoxes = Callable[[], Mapping[str, Box]]  # window title -> its box on screen


def normalise(text: str) -> str:
    return " ".join(text.split()).casefold()


def _roles(role: str) -> frozenset[str]:
    wanted = role.strip().lower()
    return ROLE_ALIASES.get(wanted, frozenset({wanted}))


class Locator:
    """Finds targets with `elements` (the visible accessibility elements) and, for text the
    tree does not have, `ocr` on frames from `capture`."""

    def __init__(
        self,
        elements: ElementSource,
        capture: Callable[[], Frame] | None = None,
        ocr: TextReader | None = None,
        windows: WindowBoxes | None = None,
    ) -> None:
        self._elements = elements
        self._capture = capture
        self._ocr = ocr
        self._windows = windows
        self._last_ocr = float("-inf")  # when OCR last read the screen

    def find(self, target: Target, *, use_ocr: bool = True) -> list[Candidate]:
        """Everything that matches now, in reading order (before `nth` picks one)."""
        found = self._from_tree(target, self._elements())
        if any(c.inside_contents for c in found) and self._ocr is not None:
            if not use_ocr:
                return []  # the widget's box is not where the words are: wait for OCR
            self._last_ocr = time.monotonic()
            return self._within_contents(target, found)
        if found or not use_ocr or target.text is None or target.role or target.name:
            return found
        self._last_ocr = time.monotonic()
        return self._from_ocr(target)

    def _within_contents(self, target: Target, found: list[Candidate]) -> list[Candidate]:
        """Words inside a text widget: the tree knows they are there, OCR where they are
        drawn (and whether they are scrolled into view at all)."""
        assert self._ocr is not None and self._capture is not None and target.text is not None
        frame = self._capture()
        refined: list[Candidate] = []
        for candidate in found:
            if not candidate.inside_contents:
                refined.append(candidate)
                continue
            for seen in self._ocr.find(frame, target.text, candidate.box):
                refined.append(Candidate("ocr", "text", seen.text, seen.box, candidate.window))
        return _in_reading_order(refined)

    def poll(self, target: Target) -> list[Candidate]:
        """`find` for a loop that asks again and again: OCR at most every OCR_EVERY_SECONDS."""
        return self.find(target, use_ocr=time.monotonic() - self._last_ocr >= OCR_EVERY_SECONDS)

    def locate(self, target: Target, timeout: float, stop: StopToken) -> Candidate:
        """The one candidate the target means, waiting up to `timeout` seconds for it."""
        deadline = time.monotonic() + timeout
        found = self.find(target)  # the first look may always read the screen
        while not found:
            if time.monotonic() >= deadline:
                raise TargetNotFound(
                    f"nothing on the screen matches {target.describe()} after {timeout:g}s; "
                    + self.what_is_visible()
                )
            stop.sleep(POLL_SECONDS)
            found = self.poll(target)
        return self._pick(target, found)

    def what_is_visible(self, limit: int = 40) -> str:
        """A short account of the screen for an error message: the windows and named things."""
        elements = [e for e in self._elements() if e.name or e.text]
        windows = sorted({e.window_name for e in elements if e.window_name})
        shown = [f"{e.role} {e.name or e.text!r}" for e in elements[:limit]]
        more = f" and {len(elements) - limit} more" if len(elements) > limit else ""
        return (
            f"windows: {', '.join(map(repr, windows)) or 'none with an accessibility tree'}; "
            f"visible: {', '.join(shown) or 'nothing named'}{more}"
        )

    def _pick(self, target: Target, found: list[Candidate]) -> Candidate:
        if target.nth is not None:
            if target.nth > len(found):
                raise TargetNotFound(
                    f"{target.describe()}: nth {target.nth}, but only {len(found)} match: "
                    + _listing(found)
                )
            return found[target.nth - 1]
        if len(found) > 1:
            raise AmbiguousTarget(
                f"{target.describe()} matches {len(found)} things; add nth: (1 to "
                f"{len(found)}, in reading order) or within: - " + _listing(found)
            )
        return found[0]

    def _from_tree(self, target: Target, elements: Sequence[Element]) -> list[Candidate]:
        window = re.compile(target.window) if target.window is not None else None
        roles = _roles(target.role) if target.role is not None else None
        name = normalise(target.name) if target.name is not None else None
        exact: list[Candidate] = []
        partial: list[Candidate] = []
        for element in elements:
            if window is not None and not window.search(element.window_name):
                continue
            if roles is not None and element.role not in roles:
                continue
            if name is not None and normalise(element.name) != name:
                continue
            label = element.name or element.text or ""
            into, inside_contents = exact, False
            if target.text is not None:
                wanted = normalise(target.text)
                shown = [normalise(element.name), normalise(element.text or "")]
                if wanted in shown:
                    label = element.name if shown[0] == wanted else element.text or ""
                elif any(wanted in text for text in shown):
                    into, inside_contents = partial, wanted not in shown[0]
                else:
                    continue
            into.append(
                Candidate(
                    "accessibility",
                    element.role,
                    label,
                    element.box,
                    element.window_name,
                    bool(element.actions),
                    inside_contents,
                )
            )
        # A whole match beats a part of a longer text: "Save" is not "Save As…".
        return _in_reading_order(_without_nested(exact or partial))

    def _from_ocr(self, target: Target) -> list[Candidate]:
        """OCR inside each window (or the one named by `within`): reading a few windows is
        several times faster than the whole screen, and the desktop behind holds nothing."""
        if self._ocr is None or self._capture is None or target.text is None:
            return []
        windows = dict(self._windows()) if self._windows is not None else {}
        if target.window is not None:
            pattern = re.compile(target.window)
            windows = {title: box for title, box in windows.items() if pattern.search(title)}
            if not windows:
                return []
        frame = self._capture()
        regions: list[tuple[str, Box | None]] = list(windows.items()) or [("", None)]
        found: list[Candidate] = []
        for title, region in regions:
            for item in self._ocr.find(frame, target.text, region):
                if not any(c.box == item.box for c in found):  # overlapping windows
                    found.append(Candidate("ocr", "text", item.text, item.box, title))
        return _in_reading_order(found)


def _without_nested(found: list[Candidate]) -> list[Candidate]:
    """One candidate per thing: a label inside a button that has the same text is the button."""
    kept = []
    for candidate in found:
        inside_another = any(
            other is not candidate
            and other.label == candidate.label
            and other.box.contains(candidate.box.center)
            and (other.actionable, other.box.width * other.box.height)
            > (candidate.actionable, candidate.box.width * candidate.box.height)
            for other in found
        )
        if not inside_another:
            kept.append(candidate)
    return kept


def _in_reading_order(found: list[Candidate]) -> list[Candidate]:
    # Rows first: things whose tops are within a few pixels are on one line.
    return sorted(found, key=lambda c: (c.box.top // 8, c.box.left))


def _listing(found: Sequence[Candidate], limit: int = 10) -> str:
    lines = [f"{index}: {c.describe()}" for index, c in enumerate(found[:limit], start=1)]
    more = f"; and {len(found) - limit} more" if len(found) > limit else ""
    return "; ".join(lines) + more

"""What to draw over a step's screenshot to show its action: one description, drawn by both
the HTML report (SVG) and the log viewer (QPainter), so they always agree."""

from __future__ import annotations

from dataclasses import dataclass

from agent.actions import (
    Action,
    AskBoss,
    Click,
    Done,
    Drag,
    Fail,
    KeyPress,
    Move,
    Scroll,
    TypeText,
    Wait,
)
from agent.geometry import Point
from agent.record.events import LoggedAction, UnreadableAction


@dataclass(frozen=True, slots=True)
class Marker:
    """A point the action hits: a click (with its button and count) or a move."""

    at: Point
    label: str
    kind: str = "marker"


@dataclass(frozen=True, slots=True)
class Trail:
    """A drag's path, start to end."""

    points: tuple[Point, ...]
    kind: str = "trail"


@dataclass(frozen=True, slots=True)
class Arrow:
    """A scroll: where, and which way (in wheel clicks; positive dy is down)."""

    at: Point
    dx: int
    dy: int
    kind: str = "arrow"


@dataclass(frozen=True, slots=True)
class Caption:
    """Text or keys that have no place on the screen: shown as a caption."""

    text: str
    kind: str = "caption"


Overlay = Marker | Trail | Arrow | Caption
CAPTION_LIMIT = 80


def _short(text: str) -> str:
    return text if len(text) <= CAPTION_LIMIT else text[: CAPTION_LIMIT - 1] + "…"


def overlays_of(action: Action) -> tuple[Overlay, ...]:
    match action:
        case Click(x=x, y=y, button=button, count=count):
            label = {1: "", 2: "double ", 3: "triple "}.get(count, f"{count}x ") + button
            return (Marker(Point(x, y), f"{label} click"),)
        case Move(x=x, y=y):
            return (Marker(Point(x, y), "move"),)
        case Drag(path=path):
            return (Trail(path),)
        case Scroll(x=x, y=y, scroll_x=dx, scroll_y=dy):
            return (Arrow(Point(x, y), dx, dy),)
        case TypeText(text=text):
            return (Caption(f"type “{_short(text)}”"),)
        case KeyPress(keys=keys):
            return (Caption("keys " + "+".join(keys)),)
        case Wait(seconds=seconds):
            return (Caption(f"wait {seconds:g}s"),)
        case Done(summary=summary):
            return (Caption(_short(f"done: {summary}" if summary else "done")),)
        case Fail(reason=reason):
            return (Caption(_short(f"fail: {reason}")),)
        case AskBoss(question=question):
            return (Caption(_short(f"asks the boss: {question}")),)


def overlays_of_logged(action: LoggedAction) -> tuple[Overlay, ...]:
    """Overlays for an action as the run log holds it; a caption if it cannot be read."""
    if isinstance(action, UnreadableAction):
        return (Caption(f"unreadable action: {action.error}"),)
    return overlays_of(action)

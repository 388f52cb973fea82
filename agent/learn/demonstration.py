"""A demonstration's input folded into actions: what the boss did, as a run would have done it.

A press and release at one point is a click (two within DOUBLE_CLICK_SECONDS at the same
point, a double click); a press and release apart, a drag; wheel buttons, scrolls (merged
while they go one way at one point). Keys that type a character, with no modifier but shift,
are merged into one typing (backspace takes back the last character typed); any other key,
or a character with ctrl, alt or super, is a shortcut. A pause after typing is kept as a
short wait. Input to Shain's own windows is left
out. Each action keeps what was seen when it began (agent.learn.watcher.Sight), and its
context, as `shain learn` reads it from a run, says which windows were there once it was done:
the windows seen when the next action began.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from agent.actions import Action, Click, Drag, KeyPress, MouseButton, Scroll, TypeText, Wait
from agent.geometry import Point
from agent.learn.recorder import ButtonInput, KeyInput, MotionInput
from agent.learn.steps import Executed, WindowClosed
from agent.learn.watcher import Observed, Sight
from agent.perception.atspi import Element
from agent.record.events import ActionContext

DOUBLE_CLICK_SECONDS = 0.4
SAME_POINT_PIXELS = 4  # a press and release this close are a click, not a drag
_BUTTONS: dict[int, MouseButton] = {1: "left", 2: "middle", 3: "right"}
# Wheel buttons: (scroll_x, scroll_y) per click, positive down and right.
_WHEEL = {4: (0, -1), 5: (0, 1), 6: (-1, 0), 7: (1, 0)}
_DRAG_POINTS = 8  # a drag's path keeps at most this many points
PAUSE_KEPT_SECONDS = 0.4  # a pause after typing this long is kept as a wait...
PAUSE_LIMIT_SECONDS = 1.0  # ...of at most this long


@dataclass(frozen=True, slots=True)
class Demonstrated:
    """An action the boss did, when (monotonic), what was seen as it began, and for typing the
    field it went into (the focused element, None when unknown)."""

    action: Action
    at: float
    sight: Sight | None
    field: Element | None = None


@dataclass
class _Held:
    """A button held down: where it went down, what was seen there, and the pointer's path."""

    event: ButtonInput
    sight: Sight | None
    path: list[Point]


def demonstrated_actions(observed: Sequence[Observed]) -> list[Demonstrated]:
    """The boss's actions, in order, input to Shain's own windows left out."""
    done: list[Demonstrated] = []
    held: _Held | None = None
    typing_own = False  # whether the current run of keys goes to one of Shain's windows
    for seen in observed:
        match seen.event:
            case MotionInput(x=x, y=y) if held is not None:
                held.path.append(Point(x, y))
            case ButtonInput(pressed=True, button=button, x=x, y=y) if button in _WHEEL:
                _scroll(done, Point(x, y), _WHEEL[button], seen.event.at)
            case ButtonInput(pressed=True, button=button, x=x, y=y) if button in _BUTTONS:
                held = _Held(seen.event, seen.sight, [Point(x, y)])
            case ButtonInput(pressed=False, button=button, x=x, y=y) if (
                held is not None and button == held.event.button
            ):
                if held.sight is None or not held.sight.own:
                    _release(done, held, Point(x, y))
                held = None
            case KeyInput(pressed=True) if seen.key is not None and seen.key.name not in _MODS:
                key = seen.key
                if seen.sight is not None:
                    typing_own = seen.sight.own
                if not typing_own:
                    _key(done, key.name, key.char, key.held, seen)
    typed = [d for d in done if not (isinstance(d.action, TypeText) and not d.action.text)]
    return _pauses_after_typing(typed)


def _pauses_after_typing(done: list[Demonstrated]) -> list[Demonstrated]:
    """The boss's pause after typing, kept as a wait: typing can start something that a
    replay, quicker than any hand, must let finish (GTK's file name completion swallows a
    click on Save that comes within its 100 ms timer: measured). Other pauses are the
    boss's thinking: a replay waits for targets, not for time."""
    kept: list[Demonstrated] = []
    for index, item in enumerate(done):
        kept.append(item)
        following = done[index + 1] if index + 1 < len(done) else None
        if isinstance(item.action, TypeText) and following is not None:
            pause = following.at - item.at
            if pause >= PAUSE_KEPT_SECONDS:
                seconds = round(min(pause, PAUSE_LIMIT_SECONDS), 1)
                kept.append(Demonstrated(Wait(seconds), item.at, None))
    return kept


_MODS = frozenset({"ctrl", "shift", "alt", "super"})


def _release(done: list[Demonstrated], held: _Held, point: Point) -> None:
    start = held.path[0]
    button = _BUTTONS[held.event.button]
    if max(abs(point.x - start.x), abs(point.y - start.y)) > SAME_POINT_PIXELS:
        path = held.path if held.path[-1] == point else [*held.path, point]
        step = max(1, len(path) // _DRAG_POINTS)
        kept = [*path[:-1:step], point]
        done.append(Demonstrated(Drag(tuple(kept), button), held.event.at, held.sight))
        return
    last = done[-1] if done else None
    if (
        last is not None
        and isinstance(last.action, Click)
        and last.action.button == button
        and last.action.count < 3
        and held.event.at - last.at <= DOUBLE_CLICK_SECONDS
        and abs(last.action.x - start.x) <= SAME_POINT_PIXELS
        and abs(last.action.y - start.y) <= SAME_POINT_PIXELS
    ):
        again = replace(last.action, count=last.action.count + 1)
        done[-1] = replace(last, action=again, at=held.event.at)
        return
    done.append(Demonstrated(Click(start.x, start.y, button), held.event.at, held.sight))


def _scroll(done: list[Demonstrated], point: Point, way: tuple[int, int], at: float) -> None:
    last = done[-1] if done else None
    if (
        last is not None
        and isinstance(last.action, Scroll)
        and (last.action.x, last.action.y) == (point.x, point.y)
        and (last.action.scroll_x * way[0] >= 0 and last.action.scroll_y * way[1] >= 0)
    ):
        more = replace(
            last.action,
            scroll_x=last.action.scroll_x + way[0],
            scroll_y=last.action.scroll_y + way[1],
        )
        done[-1] = replace(last, action=more, at=at)
        return
    done.append(Demonstrated(Scroll(point.x, point.y, way[0], way[1]), at, None))


def _key(
    done: list[Demonstrated], name: str, char: str | None, held: tuple[str, ...], seen: Observed
) -> None:
    last = done[-1] if done else None
    typing = last.action if last is not None and isinstance(last.action, TypeText) else None
    at = seen.event.at
    if char is not None:
        if last is not None and typing is not None and seen.sight is None:
            done[-1] = replace(last, action=TypeText(typing.text + char), at=at)
        else:
            field = seen.sight.field if seen.sight is not None else None
            done.append(Demonstrated(TypeText(char), at, seen.sight, field))
        return
    if name == "backspace" and not held and last and typing is not None and seen.sight is None:
        # Takes back what this typing typed (an emptied typing is dropped at the end).
        done[-1] = replace(last, action=TypeText(typing.text[:-1]), at=at)
        return
    keys = tuple(dict.fromkeys([*held, name]))
    done.append(Demonstrated(KeyPress(keys), at, seen.sight))


def executed(done: Sequence[Demonstrated], last: Sight | None) -> list[Executed | WindowClosed]:
    """The actions with their contexts, as `shain learn` reads them from a run: the window and
    element under a click when it was pressed; the windows (and the focused one) seen when the
    next action began, or at the end (`last`). A focused window that was there before the
    action (by its X id: its title may have changed, "*Untitled") is not a new one; the
    window a click was made in that had gone by then is waited for to go (WindowClosed)."""
    result: list[Executed | WindowClosed] = []
    known: set[int] = set()  # the windows seen so far
    ids: dict[str, int] = {}  # their titles, and the window last seen with each
    for index, demonstrated in enumerate(done):
        sight = demonstrated.sight
        if sight is not None:
            known.update(sight.window_ids)
            ids.update(zip(sight.windows, sight.window_ids, strict=True))
        after = next((d.sight for d in done[index + 1 :] if d.sight is not None), last)
        focused = after.focused if after is not None and after.focused_id not in known else ""
        context = ActionContext(
            index + 1,
            window=sight.window.title if sight else "",
            window_box=sight.window.box if sight else None,
            element=sight.element if sight else None,
            windows=after.windows if after else (),
            focused=focused,
        )
        clicked = isinstance(demonstrated.action, Click)
        text = sight.text if sight is not None else None
        result.append(
            Executed(demonstrated.action, None if clicked and not sight else context, text)
        )
        if clicked and sight is not None and after is not None:
            # The window clicked in (by its X id, as last seen with that title): gone once
            # the next action began, and that action not made in it? (The windows are read
            # as a press comes, and a dialog may close at once on its release.)
            clicked_in = ids.get(sight.window.title)
            if (
                clicked_in is not None
                and clicked_in not in after.window_ids
                and after.window.title != sight.window.title
            ):
                result.append(WindowClosed(sight.window.title))
    return result
